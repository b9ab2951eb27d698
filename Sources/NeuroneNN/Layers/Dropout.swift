import NeuroneDevice
import NeuroneTensor

/// Zeroes elements with probability p during training and scales the rest by 1/(1 − p).
/// Identity in evaluation mode.
public final class Dropout: Module {
    /// The `p` given at creation.
    public let p: Double
    let generator: Generator?
    /// A `Dropout`; omitted arguments take `torch.nn.Dropout`'s defaults.
    public init(_ p: Double = 0.5, generator: Generator? = nil) {
        check(p >= 0 && p <= 1, "Dropout: probability has to be between 0 and 1, but got \(p)")
        self.p = p
        self.generator = generator
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { input.dropout(p: p, training: isTraining, generator: generator) }
    public override var extraDescription: String { "p=\(p)" }
}

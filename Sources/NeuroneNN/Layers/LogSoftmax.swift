import NeuroneDevice
import NeuroneTensor

/// The `LogSoftmax` activation as a layer (`torch.nn.LogSoftmax`).
public final class LogSoftmax: Module {
    /// The `dim` given at creation.
    public let dim: Int
    /// A `LogSoftmax`; omitted arguments take `torch.nn.LogSoftmax`'s defaults.
    public init(dim: Int) { self.dim = dim; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.logSoftmax(dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

import NeuroneDevice
import NeuroneTensor

/// The `Softplus` activation as a layer (`torch.nn.Softplus`).
public final class Softplus: Module {
    /// The `beta`, `threshold` given at creation.
    public let beta: Double, threshold: Double
    /// A `Softplus`; omitted arguments take `torch.nn.Softplus`'s defaults.
    public init(beta: Double = 1, threshold: Double = 20) { self.beta = beta; self.threshold = threshold; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.softplus(beta: beta, threshold: threshold) }
    public override var extraDescription: String { "beta=\(beta), threshold=\(threshold)" }
}

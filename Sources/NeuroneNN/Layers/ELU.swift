import NeuroneDevice
import NeuroneTensor

/// The `ELU` activation as a layer (`torch.nn.ELU`).
public final class ELU: Module {
    /// The `alpha` given at creation.
    public let alpha: Double
    /// A `ELU`; omitted arguments take `torch.nn.ELU`'s defaults.
    public init(alpha: Double = 1) { self.alpha = alpha; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.elu(alpha: alpha) }
    public override var extraDescription: String { "alpha=\(alpha)" }
}

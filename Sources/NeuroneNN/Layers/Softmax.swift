import NeuroneDevice
import NeuroneTensor

/// The `Softmax` activation as a layer (`torch.nn.Softmax`).
public final class Softmax: Module {
    /// The `dim` given at creation.
    public let dim: Int
    /// A `Softmax`; omitted arguments take `torch.nn.Softmax`'s defaults.
    public init(dim: Int) { self.dim = dim; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.softmax(dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

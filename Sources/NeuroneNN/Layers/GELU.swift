import NeuroneDevice
import NeuroneTensor

/// The `GELU` activation as a layer (`torch.nn.GELU`).
public final class GELU: Module {
    /// The `approximateTanh` given at creation.
    public let approximateTanh: Bool
    /// A `GELU`; omitted arguments take `torch.nn.GELU`'s defaults.
    public init(approximateTanh: Bool = false) { self.approximateTanh = approximateTanh; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.gelu(approximateTanh: approximateTanh) }
    public override var extraDescription: String { approximateTanh ? "approximate='tanh'" : "approximate='none'" }
}

import NeuroneDevice
import NeuroneTensor

/// Leaky ReLU with a learnable slope: one for all channels, or one per channel.
public final class PReLU: Module {
    @Parameter public var weight: Tensor
    /// A `PReLU`; omitted arguments take `torch.nn.PReLU`'s defaults.
    public init(numParameters: Int = 1, initialValue: Double = 0.25, dtype: DType = .float32) {
        check(numParameters >= 1, "PReLU: numParameters must be at least 1, got \(numParameters)")
        weight = Tensor.full([numParameters], initialValue, dtype: dtype)
        super.init()
    }
    public override func forward(_ x: Tensor) -> Tensor { x.prelu(weight) }
    public override var extraDescription: String { "num_parameters=\(weight.count)" }
}

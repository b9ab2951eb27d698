import NeuroneDevice
import NeuroneTensor

/// The `LeakyReLU` activation as a layer (`torch.nn.LeakyReLU`).
public final class LeakyReLU: Module {
    /// The `negativeSlope` given at creation.
    public let negativeSlope: Double
    /// A `LeakyReLU`; omitted arguments take `torch.nn.LeakyReLU`'s defaults.
    public init(negativeSlope: Double = 0.01) { self.negativeSlope = negativeSlope; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.leakyRelu(negativeSlope: negativeSlope) }
    public override var extraDescription: String { "negative_slope=\(negativeSlope)" }
}

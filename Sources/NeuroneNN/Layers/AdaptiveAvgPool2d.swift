import NeuroneDevice
import NeuroneTensor

/// Adaptive average pooling to a fixed output size, like `torch.nn.AdaptiveAvgPool2d`.
public final class AdaptiveAvgPool2d: Module {
    /// The `outputSize` given at creation.
    public let outputSize: [Int]
    /// A `AdaptiveAvgPool2d`; omitted arguments take `torch.nn.AdaptiveAvgPool2d`'s defaults.
    public init(_ outputSize: [Int]) { self.outputSize = outputSize; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.adaptiveAvgPool2d(outputSize) }
    public override var extraDescription: String { "output_size=\(outputSize)" }
}

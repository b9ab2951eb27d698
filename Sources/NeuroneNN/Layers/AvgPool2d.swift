import NeuroneDevice
import NeuroneTensor

/// Average pooling layer like `torch.nn.AvgPool2d`.
public final class AvgPool2d: Module {
    /// The `kernelSize`, `stride`, `padding`, `ceilMode`, `countIncludePad`, `divisorOverride` given at creation.
    public let kernelSize: [Int], stride: [Int]?, padding: [Int], ceilMode: Bool, countIncludePad: Bool, divisorOverride: Int?
    /// A `AvgPool2d`; omitted arguments take `torch.nn.AvgPool2d`'s defaults.
    public init(kernelSize: [Int], stride: [Int]? = nil, padding: [Int] = [0], ceilMode: Bool = false, countIncludePad: Bool = true,
                divisorOverride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
        self.divisorOverride = divisorOverride
        super.init()
    }
    /// A `AvgPool2d`; omitted arguments take `torch.nn.AvgPool2d`'s defaults.
    public convenience init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) {
        self.init(kernelSize: [kernelSize], stride: stride.map { [$0] }, padding: [padding], ceilMode: ceilMode)
    }
    public override func forward(_ x: Tensor) -> Tensor {
        x.avgPool2d(kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad,
                    divisorOverride: divisorOverride)
    }
    public override var extraDescription: String { "kernel_size=\(kernelSize), stride=\(stride ?? kernelSize), padding=\(padding)" }
}

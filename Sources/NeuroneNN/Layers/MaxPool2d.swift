import NeuroneDevice
import NeuroneTensor

/// Max pooling layer like `torch.nn.MaxPool2d` (stride defaults to the kernel size).
public final class MaxPool2d: Module {
    /// The `kernelSize`, `stride`, `padding`, `dilation`, `ceilMode` given at creation.
    public let kernelSize: [Int], stride: [Int]?, padding: [Int], dilation: [Int], ceilMode: Bool
    /// A `MaxPool2d`; omitted arguments take `torch.nn.MaxPool2d`'s defaults.
    public init(kernelSize: [Int], stride: [Int]? = nil, padding: [Int] = [0], dilation: [Int] = [1], ceilMode: Bool = false) {
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
        super.init()
    }
    /// A `MaxPool2d`; omitted arguments take `torch.nn.MaxPool2d`'s defaults.
    public convenience init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) {
        self.init(kernelSize: [kernelSize], stride: stride.map { [$0] }, padding: [padding], ceilMode: ceilMode)
    }
    public override func forward(_ x: Tensor) -> Tensor {
        x.maxPool2d(kernel: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
    public override var extraDescription: String { "kernel_size=\(kernelSize), stride=\(stride ?? kernelSize), padding=\(padding), ceil_mode=\(ceilMode)" }
}

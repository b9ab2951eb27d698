import NeuroneDevice
import NeuroneTensor

/// 2-D convolution layer like `torch.nn.Conv2d`: weight [out, in/groups, kh, kw], bias [out],
/// both initialised from U[−1/√fan_in, 1/√fan_in] with fan_in = in/groups·kh·kw (PyTorch's default).
public final class Conv2d: Module {
    @Parameter public var weight: Tensor
    @OptionalParameter public var bias: Tensor?
    /// The `inChannels`, `outChannels` given at creation.
    public let inChannels: Int, outChannels: Int
    /// The `kernelSize`, `stride`, `padding`, `dilation`, `groups` given at creation.
    public let kernelSize: [Int], stride: [Int], padding: ConvPadding, dilation: [Int], groups: Int

    /// A `Conv2d`; omitted arguments take `torch.nn.Conv2d`'s defaults.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: [Int], stride: [Int] = [1], padding: ConvPadding = .explicit([0]),
                dilation: [Int] = [1], groups: Int = 1, bias: Bool = true, dtype: DType = .float32, generator: Generator? = nil) {
        check(inChannels > 0 && outChannels > 0, "Conv2d: channels must be positive, got in=\(inChannels), out=\(outChannels)")
        check(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
              "Conv2d: in_channels (\(inChannels)) and out_channels (\(outChannels)) must be divisible by groups (\(groups))")
        check(kernelSize.count == 1 || kernelSize.count == 2, "Conv2d: kernel size must have 1 or 2 values, got \(kernelSize)")
        check(kernelSize.allSatisfy { $0 > 0 }, "Conv2d: kernel size must be positive, got \(kernelSize)")
        let kh = kernelSize[0], kw = kernelSize.count == 2 ? kernelSize[1] : kernelSize[0]
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = [kh, kw]
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        let fanIn = inChannels / groups * kh * kw
        self.weight = Init.standardTensor([outChannels, inChannels / groups, kh, kw], fanIn: fanIn, dtype: dtype, generator: generator)
        self.bias = bias ? Init.standardTensor([outChannels], fanIn: fanIn, dtype: dtype, generator: generator) : nil
        super.init()
    }

    /// A `Conv2d`; omitted arguments take `torch.nn.Conv2d`'s defaults.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: ConvPadding = .explicit([0]),
                            dilation: Int = 1, groups: Int = 1, bias: Bool = true, dtype: DType = .float32, generator: Generator? = nil) {
        self.init(inChannels, outChannels, kernelSize: [kernelSize], stride: [stride], padding: padding, dilation: [dilation],
                  groups: groups, bias: bias, dtype: dtype, generator: generator)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        input.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    /// The convolution with `activation` applied in its output pass (`Tensor.conv2d(…, activation:)`).
    public override func forward(_ input: Tensor, activation: FusedActivation) -> Tensor {
        input.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups, activation: activation)
    }

    public override var fusesActivation: Bool { true }

    public override var extraDescription: String {
        "\(inChannels), \(outChannels), kernel_size=(\(kernelSize[0]), \(kernelSize[1])), stride=\(stride)"
    }
}

import NeuroneDevice
import NeuroneTensor

/// 1-D convolution layer like `torch.nn.Conv1d`: weight [out, in/groups, k].
public final class Conv1d: Module {
    @Parameter public var weight: Tensor
    @OptionalParameter public var bias: Tensor?
    /// The `inChannels`, `outChannels`, `kernelSize`, `stride`, `padding`, `dilation`, `groups` given at creation.
    public let inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: ConvPadding, dilation: Int, groups: Int

    /// A `Conv1d`; omitted arguments take `torch.nn.Conv1d`'s defaults.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: ConvPadding = .explicit([0]),
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, dtype: DType = .float32, generator: Generator? = nil) {
        check(inChannels > 0 && outChannels > 0 && kernelSize > 0, "Conv1d: channels and kernel size must be positive")
        check(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
              "Conv1d: in_channels (\(inChannels)) and out_channels (\(outChannels)) must be divisible by groups (\(groups))")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        let fanIn = inChannels / groups * kernelSize
        self.weight = Init.standardTensor([outChannels, inChannels / groups, kernelSize], fanIn: fanIn, dtype: dtype, generator: generator)
        self.bias = bias ? Init.standardTensor([outChannels], fanIn: fanIn, dtype: dtype, generator: generator) : nil
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        input.conv1d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    public override var extraDescription: String { "\(inChannels), \(outChannels), kernel_size=(\(kernelSize),), stride=(\(stride),)" }
}

import NeuroneDevice
import NeuroneTensor

/// Transposed 2-D convolution like `torch.nn.ConvTranspose2d`: weight [in, out/groups, kh, kw],
/// bias [out]; default initialisation U[−1/√fan_in, 1/√fan_in] with fan_in = out/groups·kh·kw
/// (PyTorch computes fan_in from the weight's dim 1).
public final class ConvTranspose2d: Module {
    @Parameter public var weight: Tensor
    @OptionalParameter public var bias: Tensor?
    /// The `inChannels`, `outChannels` given at creation.
    public let inChannels: Int, outChannels: Int
    /// The `kernelSize`, `stride`, `padding`, `outputPadding`, `dilation`, `groups` given at creation.
    public let kernelSize: [Int], stride: [Int], padding: [Int], outputPadding: [Int], dilation: [Int], groups: Int

    /// A `ConvTranspose2d`; omitted arguments take `torch.nn.ConvTranspose2d`'s defaults.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: [Int], stride: [Int] = [1], padding: [Int] = [0],
                outputPadding: [Int] = [0], dilation: [Int] = [1], groups: Int = 1, bias: Bool = true, dtype: DType = .float32,
                generator: Generator? = nil) {
        check(inChannels > 0 && outChannels > 0, "ConvTranspose2d: channels must be positive, got in=\(inChannels), out=\(outChannels)")
        check(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
              "ConvTranspose2d: in_channels (\(inChannels)) and out_channels (\(outChannels)) must be divisible by groups (\(groups))")
        check((kernelSize.count == 1 || kernelSize.count == 2) && kernelSize.allSatisfy { $0 > 0 }, "ConvTranspose2d: kernel size must be 1 or 2 positive values, got \(kernelSize)")
        let kh = kernelSize[0], kw = kernelSize.count == 2 ? kernelSize[1] : kernelSize[0]
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = [kh, kw]
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        let fanIn = outChannels / groups * kh * kw
        self.weight = Init.standardTensor([inChannels, outChannels / groups, kh, kw], fanIn: fanIn, dtype: dtype, generator: generator)
        self.bias = bias ? Init.standardTensor([outChannels], fanIn: fanIn, dtype: dtype, generator: generator) : nil
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        input.convTranspose2d(weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding,
                              dilation: dilation, groups: groups)
    }

    public override var extraDescription: String {
        "\(inChannels), \(outChannels), kernel_size=(\(kernelSize[0]), \(kernelSize[1])), stride=\(stride)"
    }
}

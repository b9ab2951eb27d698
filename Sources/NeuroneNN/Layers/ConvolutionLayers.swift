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

/// Adaptive average pooling to a fixed output size, like `torch.nn.AdaptiveAvgPool2d`.
public final class AdaptiveAvgPool2d: Module {
    /// The `outputSize` given at creation.
    public let outputSize: [Int]
    /// A `AdaptiveAvgPool2d`; omitted arguments take `torch.nn.AdaptiveAvgPool2d`'s defaults.
    public init(_ outputSize: [Int]) { self.outputSize = outputSize; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.adaptiveAvgPool2d(outputSize) }
    public override var extraDescription: String { "output_size=\(outputSize)" }
}

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

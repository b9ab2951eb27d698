import NeuroneDevice
import NeuroneTensor

/// Activation layers; each is the tensor function of the same name as a `Module`.
public final class ReLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.relu() }
}

/// The `Sigmoid` activation as a layer (`torch.nn.Sigmoid`).
public final class Sigmoid: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.sigmoid() }
}

/// The `Tanh` activation as a layer (`torch.nn.Tanh`).
public final class Tanh: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.tanh() }
}

/// The `LeakyReLU` activation as a layer (`torch.nn.LeakyReLU`).
public final class LeakyReLU: Module {
    /// The `negativeSlope` given at creation.
    public let negativeSlope: Double
    /// A `LeakyReLU`; omitted arguments take `torch.nn.LeakyReLU`'s defaults.
    public init(negativeSlope: Double = 0.01) { self.negativeSlope = negativeSlope; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.leakyRelu(negativeSlope: negativeSlope) }
    public override var extraDescription: String { "negative_slope=\(negativeSlope)" }
}

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

/// The `ELU` activation as a layer (`torch.nn.ELU`).
public final class ELU: Module {
    /// The `alpha` given at creation.
    public let alpha: Double
    /// A `ELU`; omitted arguments take `torch.nn.ELU`'s defaults.
    public init(alpha: Double = 1) { self.alpha = alpha; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.elu(alpha: alpha) }
    public override var extraDescription: String { "alpha=\(alpha)" }
}

/// The `GELU` activation as a layer (`torch.nn.GELU`).
public final class GELU: Module {
    /// The `approximateTanh` given at creation.
    public let approximateTanh: Bool
    /// A `GELU`; omitted arguments take `torch.nn.GELU`'s defaults.
    public init(approximateTanh: Bool = false) { self.approximateTanh = approximateTanh; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.gelu(approximateTanh: approximateTanh) }
    public override var extraDescription: String { approximateTanh ? "approximate='tanh'" : "approximate='none'" }
}

/// The `SiLU` activation as a layer (`torch.nn.SiLU`).
public final class SiLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.silu() }
}

/// The `Softplus` activation as a layer (`torch.nn.Softplus`).
public final class Softplus: Module {
    /// The `beta`, `threshold` given at creation.
    public let beta: Double, threshold: Double
    /// A `Softplus`; omitted arguments take `torch.nn.Softplus`'s defaults.
    public init(beta: Double = 1, threshold: Double = 20) { self.beta = beta; self.threshold = threshold; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.softplus(beta: beta, threshold: threshold) }
    public override var extraDescription: String { "beta=\(beta), threshold=\(threshold)" }
}

/// The `Softmax` activation as a layer (`torch.nn.Softmax`).
public final class Softmax: Module {
    /// The `dim` given at creation.
    public let dim: Int
    /// A `Softmax`; omitted arguments take `torch.nn.Softmax`'s defaults.
    public init(dim: Int) { self.dim = dim; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.softmax(dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

/// The `LogSoftmax` activation as a layer (`torch.nn.LogSoftmax`).
public final class LogSoftmax: Module {
    /// The `dim` given at creation.
    public let dim: Int
    /// A `LogSoftmax`; omitted arguments take `torch.nn.LogSoftmax`'s defaults.
    public init(dim: Int) { self.dim = dim; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.logSoftmax(dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

/// Activation layers; each is the tensor function of the same name as a `Module`.
public final class ReLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.relu() }
}

public final class Sigmoid: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.sigmoid() }
}

public final class Tanh: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.tanh() }
}

public final class LeakyReLU: Module {
    public let negativeSlope: Double
    public init(negativeSlope: Double = 0.01) { self.negativeSlope = negativeSlope; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.leakyRelu(negativeSlope: negativeSlope) }
    public override var extraDescription: String { "negative_slope=\(negativeSlope)" }
}

/// Leaky ReLU with a learnable slope: one for all channels, or one per channel.
public final class PReLU: Module {
    @Parameter public var weight: Tensor
    public init(numParameters: Int = 1, initialValue: Double = 0.25, dtype: DType = .float32) {
        check(numParameters >= 1, "PReLU: numParameters must be at least 1, got \(numParameters)")
        weight = Tensor.full([numParameters], initialValue, dtype: dtype)
        super.init()
    }
    public override func forward(_ x: Tensor) -> Tensor { x.prelu(weight) }
    public override var extraDescription: String { "num_parameters=\(weight.count)" }
}

public final class ELU: Module {
    public let alpha: Double
    public init(alpha: Double = 1) { self.alpha = alpha; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.elu(alpha: alpha) }
    public override var extraDescription: String { "alpha=\(alpha)" }
}

public final class GELU: Module {
    public let approximateTanh: Bool
    public init(approximateTanh: Bool = false) { self.approximateTanh = approximateTanh; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.gelu(approximateTanh: approximateTanh) }
    public override var extraDescription: String { approximateTanh ? "approximate='tanh'" : "approximate='none'" }
}

public final class SiLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.silu() }
}

public final class Softplus: Module {
    public let beta: Double, threshold: Double
    public init(beta: Double = 1, threshold: Double = 20) { self.beta = beta; self.threshold = threshold; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.softplus(beta: beta, threshold: threshold) }
    public override var extraDescription: String { "beta=\(beta), threshold=\(threshold)" }
}

public final class Softmax: Module {
    public let dim: Int
    public init(dim: Int) { self.dim = dim; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.softmax(dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

public final class LogSoftmax: Module {
    public let dim: Int
    public init(dim: Int) { self.dim = dim; super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.logSoftmax(dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

import NeuroneDevice
import NeuroneTensor

/// Activation functions as tensor functions (`torch.nn.functional`), composed from primitives
/// so that their gradients come from autograd.
extension Tensor {
    /// Leaky ReLU: x for x > 0, slope·x otherwise (slope 0.01 by default).
    public func leakyRelu(negativeSlope: Double = 0.01) -> Tensor {
        Tensor.where(self .> 0.0, self, self * negativeSlope)
    }

    /// ELU: x for x > 0, α(eˣ − 1) otherwise.
    public func elu(alpha: Double = 1) -> Tensor {
        Tensor.where(self .> 0.0, self, (clamp(max: 0).exp() - 1.0) * alpha)
    }

    /// GELU: x·Φ(x) with the exact normal CDF, or its tanh approximation.
    public func gelu(approximateTanh: Bool = false) -> Tensor {
        if approximateTanh {
            let inner = (self + self * self * self * 0.044715) * (2.0 / Double.pi).squareRoot()
            return self * 0.5 * (inner.tanh() + 1.0)
        }
        return self * 0.5 * ((self * (1 / 2.0.squareRoot())).erf() + 1.0)
    }

    /// log σ(x) = −log(1 + e⁻ˣ), computed stably as min(x, 0) − log1p(e^(−|x|)), with the exact
    /// gradient 1 − σ(x) (also at x = 0).
    public func logSigmoid() -> Tensor {
        let out = withNoGrad { self.clamp(max: 0) - (-self.abs()).exp().log1p() }
        if !Tensor.needsGrad(self) { return out }
        let x = detach()
        return out.recording("LogSigmoidBackward", [self]) { g in [g * (-x).sigmoid()] }
    }

    /// SiLU (swish): x·σ(x).
    public func silu() -> Tensor { self * sigmoid() }

    /// Softplus: log(1 + e^(βx))/β, linear (x) where βx > threshold.
    public func softplus(beta: Double = 1, threshold: Double = 20) -> Tensor {
        let bx = self * beta
        let soft = bx.clamp(max: threshold).exp().log1p() / beta
        return Tensor.where(bx .> threshold, self, soft)
    }

    /// Softmax along `dim`: e^(x − logsumexp(x)).
    public func softmax(dim: Int) -> Tensor { (self - logsumexp(dim: dim, keepDim: true)).exp() }

    /// Log-softmax along `dim`: x − logsumexp(x).
    public func logSoftmax(dim: Int) -> Tensor { self - logsumexp(dim: dim, keepDim: true) }

    /// PReLU with learnable slopes `weight`: one slope, or one per channel (dim 1).
    public func prelu(_ weight: Tensor) -> Tensor {
        var w = weight
        if weight.count > 1 {
            check(rank >= 2 && shape[1] == weight.count,
                  "prelu: \(weight.count) slopes need the channel dim (1) of the input to have that size, input shape \(describeShape(shape))")
            w = weight.reshape([weight.count] + [Int](repeating: 1, count: rank - 2))
        }
        return Tensor.where(self .> 0.0, self, w * self)
    }
}

extension FusedActivation {
    /// The activation applied as its own op.
    public func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: return x.relu()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        }
    }

    /// The activation a layer module stands for (`ReLU`, `Tanh`, `Sigmoid`), if any.
    public init?(module: Module) {
        switch module {
        case is ReLU: self = .relu
        case is Tanh: self = .tanh
        case is Sigmoid: self = .sigmoid
        default: return nil
        }
    }

    /// The name in a fused node ("ConvolutionReluBackward").
    var nodeName: String {
        switch self {
        case .relu: return "Relu"
        case .tanh: return "Tanh"
        case .sigmoid: return "Sigmoid"
        }
    }

    /// ∂L/∂(pre-activation) from ∂L/∂y and the activation's output y: relu passes g where y > 0
    /// or y is NaN (y > 0 exactly where x > 0), tanh g·(1 − y²), sigmoid g·y·(1 − y).
    func gradient(_ g: Tensor, output y: Tensor) -> Tensor {
        Tensor.activationGradient(unaryOp, g, y) {
            switch self {
            case .relu: return g * (y .> 0.0).logicalOr(y .!= y)
            case .tanh: return g * (1.0 - y * y)
            case .sigmoid: return g * y * (1.0 - y)
            }
        }
    }
}

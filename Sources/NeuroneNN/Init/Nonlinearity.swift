import NeuroneDevice
import NeuroneTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The non-linearity an initialiser's gain is computed for (`torch.nn.init.calculate_gain`).
public enum Nonlinearity: Sendable {
    case linear, conv, sigmoid, tanh, relu, selu
    case leakyRelu(negativeSlope: Double)

    /// The recommended gain: 1 for linear/conv/sigmoid, 5/3 for tanh, √2 for ReLU,
    /// √(2/(1 + slope²)) for leaky ReLU, 3/4 for SELU.
    public var gain: Double {
        switch self {
        case .linear, .conv, .sigmoid: return 1
        case .tanh: return 5.0 / 3.0
        case .relu: return 2.0.squareRoot()
        case .selu: return 0.75
        case .leakyRelu(let s): return (2.0 / (1 + s * s)).squareRoot()
        }
    }
}

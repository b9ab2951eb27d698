import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import NeuroneTraining
import Foundation

/// The activations `BackpropExample` can use, with the formulas it prints.
public enum ExplainActivation: String, CaseIterable, Sendable {
    /// σ(z) = 1 / (1 + e^(−z)).
    case sigmoid
    /// tanh(z).
    case tanh
    /// max(0, z).
    case relu
    /// z.
    case identity
    /// z, or 0.01·z for z < 0.
    case leakyRelu = "leakyrelu"

    /// The activation applied to a tensor (Neurone's own ops, so autograd differentiates them).
    func apply(_ z: Tensor) -> Tensor {
        switch self {
        case .sigmoid: return z.sigmoid()
        case .tanh: return z.tanh()
        case .relu: return z.relu()
        case .identity: return z * 1.0
        case .leakyRelu: return z.leakyRelu(negativeSlope: 0.01)
        }
    }

    /// The symbol in formulas: σ, tanh, ReLU, id, LeakyReLU.
    public var symbol: String {
        switch self {
        case .sigmoid: return "σ"
        case .tanh: return "tanh"
        case .relu: return "ReLU"
        case .identity: return "id"
        case .leakyRelu: return "LeakyReLU"
        }
    }

    /// The derivative a′(z) written with the activation's output a (and z where needed).
    public func derivativeFormula(a: String, z: String) -> String {
        switch self {
        case .sigmoid: return "\(a)(1 − \(a))"
        case .tanh: return "1 − \(a)²"
        case .relu: return "[\(z) > 0]"
        case .identity: return "1"
        case .leakyRelu: return "(\(z) > 0 ? 1 : 0.01)"
        }
    }
}

import NeuroneDevice
import NeuroneTensor
import NeuroneNN

/// Optimisers and schedules by name, as the command line and checkpoints spell them.
public enum OptimizerFactory {
    /// The optimiser names `make` accepts.
    public static let names = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"]

    /// The default learning rate of each optimiser (PyTorch's, except SGD: 0.01).
    public static func defaultLearningRate(_ name: String) -> Double {
        switch name.lowercased() {
        case "sgd", "adagrad": return 0.01
        case "adadelta": return 1.0
        default: return 0.001
        }
    }

    /// An optimiser over `parameters`; `lr` nil takes `defaultLearningRate`. AdamW's weight decay
    /// defaults to 0.01 (PyTorch's) when `weightDecay` is 0.
    public static func make(_ name: String, parameters: [Tensor], lr: Double?, momentum: Double = 0, weightDecay: Double = 0) throws -> Optimizer {
        let rate = lr ?? defaultLearningRate(name)
        switch name.lowercased() {
        case "sgd": return SGD(parameters, lr: rate, momentum: momentum, weightDecay: weightDecay)
        case "adam": return Adam(parameters, lr: rate, weightDecay: weightDecay)
        case "adamw": return AdamW(parameters, lr: rate, weightDecay: weightDecay == 0 ? 0.01 : weightDecay)
        case "rmsprop": return RMSprop(parameters, lr: rate, weightDecay: weightDecay, momentum: momentum)
        case "adagrad": return Adagrad(parameters, lr: rate, weightDecay: weightDecay)
        case "adadelta": return Adadelta(parameters, lr: rate, weightDecay: weightDecay)
        default: throw OptimizerError(message: "unknown optimizer '\(name)'; valid: \(names.joined(separator: ", "))")
        }
    }

    /// The schedule spellings `schedule` accepts.
    public static let scheduleSyntax = "none, step:SIZE:GAMMA (e.g. step:1:0.7), exp:GAMMA, cosine:TMAX"

    /// A parsed schedule spelling.
    public enum Schedule: Equatable, Sendable {
        /// A constant rate.
        case none
        /// StepLR: × gamma every `size` epochs.
        case step(size: Int, gamma: Double)
        /// ExponentialLR: × gamma every epoch.
        case exponential(gamma: Double)
        /// CosineAnnealingLR with half-period `tMax`.
        case cosine(tMax: Int)
    }

    /// Parses a schedule spelling; the error lists the valid ones.
    public static func parseSchedule(_ spec: String) throws -> Schedule {
        let parts = spec.lowercased().split(separator: ":").map(String.init)
        switch parts.first {
        case "none"? where parts.count == 1: return .none
        case "step"? where parts.count == 3: if let s = Int(parts[1]), let g = Double(parts[2]), s > 0 { return .step(size: s, gamma: g) }
        case "exp"? where parts.count == 2: if let g = Double(parts[1]) { return .exponential(gamma: g) }
        case "cosine"? where parts.count == 2: if let t = Int(parts[1]), t > 0 { return .cosine(tMax: t) }
        default: break
        }
        throw OptimizerError(message: "invalid scheduler '\(spec)'; valid: \(scheduleSyntax)")
    }

    /// A per-epoch schedule from its spelling (`none` gives nil).
    public static func schedule(_ spec: String, optimizer: Optimizer) throws -> LRScheduler? {
        switch try parseSchedule(spec) {
        case .none: return nil
        case .step(let size, let gamma): return StepLR(optimizer, stepSize: size, gamma: gamma)
        case .exponential(let gamma): return ExponentialLR(optimizer, gamma: gamma)
        case .cosine(let tMax): return CosineAnnealingLR(optimizer, tMax: tMax)
        }
    }
}

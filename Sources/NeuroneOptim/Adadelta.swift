import NeuroneDevice
import NeuroneTensor
import NeuroneNN

/// Adadelta (Zeiler), as `torch.optim.Adadelta` (lr 1.0, ρ = 0.9, ε = 1e-6) — the optimiser of
/// PyTorch's MNIST example.
public final class Adadelta: GroupedOptimizer {
    public struct Options: OptimizerOptions {
        /// The settings of a parameter group, named and defaulted as in torch.optim.
        public var lr: Double, rho: Double, eps: Double, weightDecay: Double
        /// Settings with torch.optim's defaults; invalid values stop with a message naming them.
        public init(lr: Double = 1.0, rho: Double = 0.9, eps: Double = 1e-6, weightDecay: Double = 0) {
            check(lr >= 0 && rho >= 0 && rho <= 1 && eps >= 0 && weightDecay >= 0, "Adadelta: lr, eps, weight decay must be non-negative and rho in [0, 1]")
            self.lr = lr; self.rho = rho; self.eps = eps; self.weightDecay = weightDecay
        }
    }
    /// The parameter groups, each with its own settings.
    public var groups: [(parameters: [Tensor], options: Options)]
    /// Per-parameter state (moment estimates, step counts).
    public let state = OptimizerState()

    /// An optimiser over several parameter groups with their own settings.
    public init(groups: [(parameters: [Tensor], options: Options)]) {
        checkGroups(groups.map { $0.parameters }, "Adadelta")
        self.groups = groups
    }
    /// An optimiser over one group of parameters.
    public convenience init(_ parameters: [Tensor], lr: Double = 1.0, rho: Double = 0.9, eps: Double = 1e-6, weightDecay: Double = 0) {
        self.init(groups: [(parameters, Options(lr: lr, rho: rho, eps: eps, weightDecay: weightDecay))])
    }

    /// Updates every parameter that has a gradient.
    public func step() {
        withNoGrad {
            for (params, o) in groups {
                for p in params {
                    guard var g = p.grad else { continue }
                    let sq = state.tensor(p, "square_avg") { Tensor.zeros(like: p) }
                    let acc = state.tensor(p, "acc_delta") { Tensor.zeros(like: p) }
                    if FusedUpdate.run(.adadelta(rho: o.rho, eps: o.eps, lr: o.lr, weightDecay: o.weightDecay), p, g, [sq, acc]) { continue }
                    if o.weightDecay != 0 { g = g + p * o.weightDecay }
                    sq.copy(from: sq * o.rho + g * g * (1 - o.rho))
                    let delta = (acc + o.eps).sqrt() / (sq + o.eps).sqrt() * g
                    acc.copy(from: acc * o.rho + delta * delta * (1 - o.rho))
                    p.copy(from: p - delta * o.lr)
                }
            }
        }
    }
}

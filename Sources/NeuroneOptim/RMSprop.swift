import NeuroneDevice
import NeuroneTensor
import NeuroneNN

/// RMSprop, as `torch.optim.RMSprop` (α = 0.99, ε = 1e-8, optional momentum and centring).
public final class RMSprop: GroupedOptimizer {
    public struct Options: OptimizerOptions {
        /// The settings of a parameter group, named and defaulted as in torch.optim.
        public var lr: Double, alpha: Double, eps: Double, weightDecay: Double, momentum: Double, centered: Bool
        /// Settings with torch.optim's defaults; invalid values stop with a message naming them.
        public init(lr: Double = 0.01, alpha: Double = 0.99, eps: Double = 1e-8, weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false) {
            check(lr >= 0 && alpha >= 0 && eps >= 0 && weightDecay >= 0 && momentum >= 0, "RMSprop: lr, alpha, eps, weight decay and momentum must be non-negative")
            self.lr = lr; self.alpha = alpha; self.eps = eps; self.weightDecay = weightDecay; self.momentum = momentum; self.centered = centered
        }
    }
    /// The parameter groups, each with its own settings.
    public var groups: [(parameters: [Tensor], options: Options)]
    /// Per-parameter state (moment estimates, step counts).
    public let state = OptimizerState()

    /// An optimiser over several parameter groups with their own settings.
    public init(groups: [(parameters: [Tensor], options: Options)]) {
        checkGroups(groups.map { $0.parameters }, "RMSprop")
        self.groups = groups
    }
    /// An optimiser over one group of parameters.
    public convenience init(_ parameters: [Tensor], lr: Double = 0.01, alpha: Double = 0.99, eps: Double = 1e-8, weightDecay: Double = 0,
                            momentum: Double = 0, centered: Bool = false) {
        self.init(groups: [(parameters, Options(lr: lr, alpha: alpha, eps: eps, weightDecay: weightDecay, momentum: momentum, centered: centered))])
    }

    /// Updates every parameter that has a gradient.
    public func step() {
        withNoGrad {
            for (params, o) in groups {
                for p in params {
                    guard var g = p.grad else { continue }
                    if o.weightDecay != 0 { g = g + p * o.weightDecay }
                    let sq = state.tensor(p, "square_avg") { Tensor.zeros(like: p) }
                    sq.copy(from: sq * o.alpha + g * g * (1 - o.alpha))
                    let avg: Tensor
                    if o.centered {
                        let ga = state.tensor(p, "grad_avg") { Tensor.zeros(like: p) }
                        ga.copy(from: ga * o.alpha + g * (1 - o.alpha))
                        avg = (sq - ga * ga).sqrt() + o.eps
                    } else {
                        avg = sq.sqrt() + o.eps
                    }
                    if o.momentum > 0 {
                        let buf = state.tensor(p, "momentum_buffer") { Tensor.zeros(like: p) }
                        buf.copy(from: buf * o.momentum + g / avg)
                        p.copy(from: p - buf * o.lr)
                    } else {
                        p.copy(from: p - g / avg * o.lr)
                    }
                }
            }
        }
    }
}

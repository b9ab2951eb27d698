import NeuroneDevice
import NeuroneTensor
import NeuroneNN

/// Adam (Kingma & Ba), as `torch.optim.Adam`, with L2 weight decay added to the gradient and
/// optional AMSGrad; `AdamW` decouples the weight decay.
public class Adam: GroupedOptimizer {
    public struct Options: OptimizerOptions {
        /// The settings of a parameter group, named and defaulted as in torch.optim.
        public var lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double, amsgrad: Bool, maximize: Bool
        /// Settings with torch.optim's defaults; invalid values stop with a message naming them.
        public init(lr: Double = 0.001, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8, weightDecay: Double = 0,
                    amsgrad: Bool = false, maximize: Bool = false) {
            check(lr >= 0 && eps >= 0 && weightDecay >= 0, "Adam: lr, eps and weight decay must be non-negative")
            check(betas.0 >= 0 && betas.0 < 1 && betas.1 >= 0 && betas.1 < 1, "Adam: betas must be in [0, 1), got \(betas)")
            self.lr = lr; self.beta1 = betas.0; self.beta2 = betas.1; self.eps = eps; self.weightDecay = weightDecay; self.amsgrad = amsgrad; self.maximize = maximize
        }
    }

    /// The parameter groups, each with its own settings.
    public var groups: [(parameters: [Tensor], options: Options)]
    /// Per-parameter state (moment estimates, step counts).
    public let state = OptimizerState()
    let decoupled: Bool

    init(groups: [(parameters: [Tensor], options: Options)], decoupled: Bool) {
        checkGroups(groups.map { $0.parameters }, decoupled ? "AdamW" : "Adam")
        self.groups = groups
        self.decoupled = decoupled
    }

    /// An optimiser over several parameter groups with their own settings.
    public convenience init(groups: [(parameters: [Tensor], options: Options)]) { self.init(groups: groups, decoupled: false) }

    /// An optimiser over one group of parameters.
    public convenience init(_ parameters: [Tensor], lr: Double = 0.001, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                            weightDecay: Double = 0, amsgrad: Bool = false, maximize: Bool = false) {
        self.init(groups: [(parameters, Options(lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad, maximize: maximize))],
                  decoupled: false)
    }


    /// Updates every parameter that has a gradient.
    public func step() {
        withNoGrad {
            for (params, o) in groups {
                for p in params {
                    guard var g = p.grad else { continue }
                    if o.maximize { g = -g }
                    if decoupled {
                        if o.weightDecay != 0 { p.copy(from: p * (1 - o.lr * o.weightDecay)) }
                    } else if o.weightDecay != 0 {
                        g = g + p * o.weightDecay
                    }
                    let t = state.nextStep(p)
                    let m = state.tensor(p, "exp_avg") { Tensor.zeros(like: p) }
                    let v = state.tensor(p, "exp_avg_sq") { Tensor.zeros(like: p) }
                    m.copy(from: m * o.beta1 + g * (1 - o.beta1))
                    v.copy(from: v * o.beta2 + g * g * (1 - o.beta2))
                    let bc1 = 1 - powDouble(o.beta1, Double(t)), bc2 = 1 - powDouble(o.beta2, Double(t))
                    var second = v
                    if o.amsgrad {
                        let vmax = state.tensor(p, "max_exp_avg_sq") { Tensor.zeros(like: p) }
                        vmax.copy(from: vmax.maximum(v))
                        second = vmax
                    }
                    let denom = second.sqrt() / bc2.squareRoot() + o.eps
                    p.copy(from: p - m / denom * (o.lr / bc1))
                }
            }
        }
    }
}

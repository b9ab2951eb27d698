import NeuroneDevice
import NeuroneTensor
import NeuroneNN

/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay,
/// exactly as `torch.optim.SGD`:
///   g ← ∇ + λ·w;  b ← μ·b + (1 − τ)·g (b = g on the first step);  g ← g + μ·b (Nesterov) or b;  w ← w − ε·g.
/// The AlexNet paper's rule v ← 0.9·v − 0.0005·ε·w − ε·∂L/∂w, w ← w + v is `SGD(momentum: 0.9,
/// weightDecay: 0.0005)` with v = −ε·b.
public final class SGD: GroupedOptimizer {
    public struct Options: OptimizerOptions {
        /// The settings of a parameter group, named and defaulted as in torch.optim.
        public var lr: Double, momentum: Double, dampening: Double, weightDecay: Double, nesterov: Bool, maximize: Bool
        /// Settings with torch.optim's defaults; invalid values stop with a message naming them.
        public init(lr: Double = 0.001, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false, maximize: Bool = false) {
            check(lr >= 0 && momentum >= 0 && weightDecay >= 0, "SGD: lr, momentum and weight decay must be non-negative, got lr=\(lr), momentum=\(momentum), weightDecay=\(weightDecay)")
            check(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum requires a momentum and zero dampening")
            self.lr = lr; self.momentum = momentum; self.dampening = dampening; self.weightDecay = weightDecay; self.nesterov = nesterov; self.maximize = maximize
        }
    }

    /// The parameter groups, each with its own settings.
    public var groups: [(parameters: [Tensor], options: Options)]
    /// Per-parameter state (moment estimates, step counts).
    public let state = OptimizerState()

    /// An optimiser over several parameter groups with their own settings.
    public init(groups: [(parameters: [Tensor], options: Options)]) {
        checkGroups(groups.map { $0.parameters }, "SGD")
        self.groups = groups
    }

    /// An optimiser over one group of parameters.
    public convenience init(_ parameters: [Tensor], lr: Double = 0.001, momentum: Double = 0, dampening: Double = 0,
                            weightDecay: Double = 0, nesterov: Bool = false, maximize: Bool = false) {
        self.init(groups: [(parameters, Options(lr: lr, momentum: momentum, dampening: dampening, weightDecay: weightDecay, nesterov: nesterov, maximize: maximize))])
    }


    /// Updates every parameter that has a gradient.
    public func step() {
        withNoGrad {
            for (params, o) in groups {
                for p in params {
                    guard var g = p.grad else { continue }
                    if o.momentum != 0 {
                        let first = !state.has(p, "momentum")
                        let buf = state.tensor(p, "momentum") { Tensor.zeros(like: p) }
                        // One in-place pass when the buffers are contiguous (the usual case).
                        if FusedUpdate.run(.sgdMomentum(momentum: o.momentum, dampening: o.dampening, lr: o.lr, weightDecay: o.weightDecay,
                                                        nesterov: o.nesterov, maximize: o.maximize, first: first), p, g, [buf]) { continue }
                        if o.maximize { g = -g }
                        if o.weightDecay != 0 { g = g + p * o.weightDecay }
                        buf.copy(from: first ? g : buf * o.momentum + g * (1 - o.dampening))
                        g = o.nesterov ? g + buf * o.momentum : buf
                    } else {
                        if FusedUpdate.run(.sgd(lr: o.lr, weightDecay: o.weightDecay, maximize: o.maximize), p, g, []) { continue }
                        if o.maximize { g = -g }
                        if o.weightDecay != 0 { g = g + p * o.weightDecay }
                    }
                    p.copy(from: p - g * o.lr)
                }
            }
        }
    }
}

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

/// Adam with decoupled weight decay (Loshchilov & Hutter), as `torch.optim.AdamW`:
/// w ← w·(1 − ε·λ) before the Adam step. Default weight decay 0.01.
public final class AdamW: Adam {
    /// An optimiser over one group of parameters.
    public convenience init(_ parameters: [Tensor], lr: Double = 0.001, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                            weightDecay: Double = 0.01, amsgrad: Bool = false, maximize: Bool = false) {
        self.init(groups: [(parameters, Options(lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad, maximize: maximize))],
                  decoupled: true)
    }

    /// An optimiser over several parameter groups with their own settings.
    public convenience init(adamWGroups groups: [(parameters: [Tensor], options: Options)]) { self.init(groups: groups, decoupled: true) }
}

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

/// Adagrad, as `torch.optim.Adagrad` (learning-rate decay, initial accumulator, ε = 1e-10).
public final class Adagrad: GroupedOptimizer {
    public struct Options: OptimizerOptions {
        /// The settings of a parameter group, named and defaulted as in torch.optim.
        public var lr: Double, lrDecay: Double, weightDecay: Double, initialAccumulatorValue: Double, eps: Double
        /// Settings with torch.optim's defaults; invalid values stop with a message naming them.
        public init(lr: Double = 0.01, lrDecay: Double = 0, weightDecay: Double = 0, initialAccumulatorValue: Double = 0, eps: Double = 1e-10) {
            check(lr >= 0 && lrDecay >= 0 && weightDecay >= 0 && initialAccumulatorValue >= 0 && eps >= 0, "Adagrad: settings must be non-negative")
            self.lr = lr; self.lrDecay = lrDecay; self.weightDecay = weightDecay; self.initialAccumulatorValue = initialAccumulatorValue; self.eps = eps
        }
    }
    /// The parameter groups, each with its own settings.
    public var groups: [(parameters: [Tensor], options: Options)]
    /// Per-parameter state (moment estimates, step counts).
    public let state = OptimizerState()

    /// An optimiser over several parameter groups with their own settings.
    public init(groups: [(parameters: [Tensor], options: Options)]) {
        checkGroups(groups.map { $0.parameters }, "Adagrad")
        self.groups = groups
    }
    /// An optimiser over one group of parameters.
    public convenience init(_ parameters: [Tensor], lr: Double = 0.01, lrDecay: Double = 0, weightDecay: Double = 0,
                            initialAccumulatorValue: Double = 0, eps: Double = 1e-10) {
        self.init(groups: [(parameters, Options(lr: lr, lrDecay: lrDecay, weightDecay: weightDecay, initialAccumulatorValue: initialAccumulatorValue, eps: eps))])
    }

    /// Updates every parameter that has a gradient.
    public func step() {
        withNoGrad {
            for (params, o) in groups {
                for p in params {
                    guard var g = p.grad else { continue }
                    let t = state.nextStep(p)
                    if o.weightDecay != 0 { g = g + p * o.weightDecay }
                    let clr = o.lr / (1 + Double(t - 1) * o.lrDecay)
                    let sum = state.tensor(p, "sum") { Tensor.full(like: p, o.initialAccumulatorValue) }
                    sum.copy(from: sum + g * g)
                    p.copy(from: p - g / (sum.sqrt() + o.eps) * clr)
                }
            }
        }
    }
}

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

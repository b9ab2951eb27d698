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

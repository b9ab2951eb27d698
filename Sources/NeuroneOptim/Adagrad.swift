import NeuroneDevice
import NeuroneTensor
import NeuroneNN

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

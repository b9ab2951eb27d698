/// What every optimiser offers: a step from the current gradients, zeroing them, and the
/// learning rate of each parameter group (which schedulers adjust).
public protocol Optimizer: AnyObject {
    /// Updates every parameter from its `grad` (parameters without a gradient are skipped).
    func step()
    /// The parameters of each group.
    var parameterGroups: [[Tensor]] { get }
    /// The learning rate of each group.
    var learningRates: [Double] { get set }
}

extension Optimizer {
    /// Clears the gradients of every parameter (`grad = nil`, like PyTorch's `set_to_none`).
    public func zeroGrad() {
        for group in parameterGroups { for p in group { p.grad = nil } }
    }

    /// All parameters of all groups.
    public var parameters: [Tensor] { parameterGroups.flatMap { $0 } }
}

/// The settings of one parameter group; every optimiser's `Options` has a learning rate.
public protocol OptimizerOptions {
    var lr: Double { get set }
}

/// An optimiser whose parameter groups each carry their own `Options`: `parameterGroups` and
/// `learningRates` come from `groups`.
public protocol GroupedOptimizer: Optimizer {
    associatedtype Options: OptimizerOptions
    var groups: [(parameters: [Tensor], options: Options)] { get set }
}

extension GroupedOptimizer {
    public var parameterGroups: [[Tensor]] { groups.map { $0.parameters } }
    public var learningRates: [Double] {
        get { groups.map { $0.options.lr } }
        set {
            check(newValue.count == groups.count, "learningRates: \(newValue.count) rates given for \(groups.count) parameter groups")
            for i in groups.indices { groups[i].options.lr = newValue[i] }
        }
    }
}

/// Per-parameter optimiser state (moment estimates), keyed by the parameter's identity.
final class OptimizerState {
    private var tensors: [ObjectIdentifier: [String: Tensor]] = [:]
    private var steps: [ObjectIdentifier: Int] = [:]

    func tensor(_ p: Tensor, _ name: String, initial: () -> Tensor) -> Tensor {
        let id = ObjectIdentifier(p)
        if let t = tensors[id]?[name] { return t }
        let t = initial()
        tensors[id, default: [:]][name] = t
        return t
    }

    func has(_ p: Tensor, _ name: String) -> Bool { tensors[ObjectIdentifier(p)]?[name] != nil }

    /// Increments and returns the step count of a parameter (1 on the first step).
    func nextStep(_ p: Tensor) -> Int {
        let id = ObjectIdentifier(p)
        let s = (steps[id] ?? 0) + 1
        steps[id] = s
        return s
    }
}

func checkGroups(_ groups: [[Tensor]], _ name: String) {
    check(!groups.isEmpty && groups.allSatisfy { !$0.isEmpty }, "\(name): optimizer got an empty parameter list")
    var seen = Set<ObjectIdentifier>()
    for g in groups {
        for p in g {
            check(p.dtype.isFloatingPoint, "\(name): parameters must be floating point, got \(p.dtype)")
            check(seen.insert(ObjectIdentifier(p)).inserted, "\(name): some parameters appear in more than one parameter group")
        }
    }
}

/// Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.
public enum GradientClipping {
    /// Scales all gradients together so that their joint p-norm is at most `maxNorm`; returns the
    /// norm before clipping.
    @discardableResult
    public static func clipNorm(_ parameters: [Tensor], maxNorm: Double, normType: Double = 2) -> Double {
        let grads = parameters.compactMap { $0.grad }
        if grads.isEmpty { return 0 }
        let total: Double = withNoGrad {
            if normType == .infinity { return grads.map { $0.abs().max().item() }.max() ?? 0 }
            let per = grads.map { $0.norm(p: normType).item() }
            return powDouble(per.map { powDouble($0, normType) }.reduce(0, +), 1 / normType)
        }
        let coef = maxNorm / (total + 1e-6)
        if coef < 1 {
            withNoGrad { for p in parameters { if let g = p.grad { p.grad = g * coef } } }
        }
        return total
    }

    /// Clamps every gradient element to [−clipValue, clipValue].
    public static func clipValue(_ parameters: [Tensor], _ clipValue: Double) {
        check(clipValue >= 0, "clipValue: the clip value must be non-negative, got \(clipValue)")
        withNoGrad { for p in parameters { if let g = p.grad { p.grad = g.clamp(min: -clipValue, max: clipValue) } } }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func powDouble(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func powDouble(_ a: Double, _ b: Double) -> Double { Darwin.pow(a, b) }
#endif

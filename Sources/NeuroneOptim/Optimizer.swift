import NeuroneDevice
import NeuroneTensor
import NeuroneNN

/// What every optimiser offers: a step from the current gradients, zeroing them, and the
/// learning rate of each parameter group (which schedulers adjust).
public protocol Optimizer: AnyObject {
    /// Updates every parameter from its `grad` (parameters without a gradient are skipped).
    func step()
    /// The parameters of each group.
    var parameterGroups: [[Tensor]] { get }
    /// The learning rate of each group.
    var learningRates: [Double] { get set }
    /// The per-parameter state (moment estimates, step counts) as named tensors, for checkpoints:
    /// `state.I.NAME` for the I-th parameter over all groups (PyTorch's numbering), step counts
    /// as int64 scalars `state.I.step`.
    func stateTensors() -> [(String, Tensor)]
    /// Restores what `stateTensors()` gave, checking every name and shape before changing anything.
    func loadStateTensors(_ tensors: [String: Tensor]) throws
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
    /// The parameter groups and their settings.
    var groups: [(parameters: [Tensor], options: Options)] { get set }
    /// The per-parameter state.
    var state: OptimizerState { get }
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

    public func stateTensors() -> [(String, Tensor)] { state.export(parameters) }
    public func loadStateTensors(_ tensors: [String: Tensor]) throws { try state.load(tensors, into: parameters) }
}

/// An unknown optimiser or schedule name, or a saved optimiser state that does not fit (naming each entry).
public struct OptimizerError: Error, CustomStringConvertible {
    /// What does not fit.
    public let message: String
    public var description: String { message }
}

/// Per-parameter optimiser state (moment estimates), keyed by the parameter's identity.
public final class OptimizerState {
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

    /// Copies of the state of `parameters`, named `state.I.NAME` and `state.I.step`.
    func export(_ parameters: [Tensor]) -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        for (i, p) in parameters.enumerated() {
            let id = ObjectIdentifier(p)
            for (name, t) in (tensors[id] ?? [:]).sorted(by: { $0.key < $1.key }) { out.append(("state.\(i).\(name)", t.clone())) }
            if let s = steps[id] { out.append(("state.\(i).step", Tensor([Int64(s)]).reshape([]))) }
        }
        return out
    }

    /// Replaces the state of `parameters` with `saved` (names as `export` gives them).
    func load(_ saved: [String: Tensor], into parameters: [Tensor]) throws {
        var newTensors: [ObjectIdentifier: [String: Tensor]] = [:], newSteps: [ObjectIdentifier: Int] = [:]
        var problems: [String] = []
        for (key, t) in saved.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: ".", maxSplits: 2).map(String.init)
            guard parts.count == 3, parts[0] == "state", let i = Int(parts[1]) else { problems.append("unexpected entry \(key)"); continue }
            guard i >= 0 && i < parameters.count else { problems.append("\(key): the optimiser has \(parameters.count) parameters"); continue }
            let p = parameters[i], id = ObjectIdentifier(p)
            if parts[2] == "step" {
                guard t.count == 1 else { problems.append("\(key): a step count must be a scalar, found shape \(describeShape(t.shape))"); continue }
                newSteps[id] = Int(t.item())
            } else if t.shape != p.shape {
                problems.append("\(key): expected shape \(describeShape(p.shape)) (parameter \(i)), found \(describeShape(t.shape))")
            } else {
                newTensors[id, default: [:]][parts[2]] = t.to(p.dtype).clone()
            }
        }
        if !problems.isEmpty { throw OptimizerError(message: "optimizer state does not fit: " + problems.joined(separator: "; ")) }
        tensors = newTensors
        steps = newSteps
    }

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

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

#if canImport(Glibc)
import Glibc
@inline(__always) func powDouble(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func powDouble(_ a: Double, _ b: Double) -> Double { Darwin.pow(a, b) }
#endif

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

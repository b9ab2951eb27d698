import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

import NeuroneDevice
import NeuroneTensor
import NeuroneNN

/// One pass over a parameter and its state for the common optimisers, in place, by the device
/// (`Backend.optimizerUpdate`), instead of a chain of out-of-place tensor ops (each of which reads
/// and writes the whole parameter). The arithmetic is the same, in the same order, as the
/// tensor-op formulation (and torch.optim).
enum FusedUpdate {
    /// Runs `rule` over p, g and the state tensors when all are contiguous, of p's float dtype and
    /// size. Returns false (nothing done) otherwise, so that the caller falls back to tensor ops.
    static func run(_ rule: OptimizerUpdateRule, _ p: Tensor, _ g: Tensor, _ states: [Tensor]) -> Bool {
        let all = [p, g] + states
        guard all.allSatisfy({ $0.isContiguous && $0.dtype == p.dtype && $0.count == p.count }), p.dtype.isFloatingPoint else { return false }
        p.backend.optimizerUpdate(rule, dtype: p.dtype, count: p.count, parameter: p.buffer, gradient: g.buffer, states: states.map { $0.buffer })
        return true
    }
}

import NeuroneDevice
import NeuroneTensor

/// Permutes the dimensions of each sample, keeping the batch first — Keras's `Permute(dims)`,
/// 1-based over the sample's dimensions (`permute(2,1)` in a model spec: [N, T, E] → [N, E, T],
/// PyTorch's `x.permute(0, 2, 1)` before a `Conv1d` on an embedded sequence).
public final class Permute: Module {
    /// The 1-based permutation of the sample's dimensions given at creation.
    public let dims: [Int]
    /// A `Permute` of every sample's dimensions by `dims` (a permutation of 1…rank).
    public init(_ dims: [Int]) {
        check(dims.sorted() == Array(1...Swift.max(1, dims.count)), "Permute: dims must be a permutation of 1…\(dims.count), got \(dims)")
        self.dims = dims
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor {
        check(input.rank == dims.count + 1, "Permute: expected samples of \(dims.count) dimensions (input [N, …] of rank \(dims.count + 1)), got \(describeShape(input.shape))")
        return input.permute([0] + dims)
    }
    public override var extraDescription: String { "dims=\(dims)" }
}

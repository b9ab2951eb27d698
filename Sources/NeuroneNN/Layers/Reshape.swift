import NeuroneDevice
import NeuroneTensor

/// Reshapes each sample to `shape`, keeping the batch dimension — Keras's `Reshape(target_shape)`
/// (`reshape(2,4,4)` in a model spec): [N, …] → [N, shape…]. One size may be -1, inferred.
public final class Reshape: Module {
    /// The per-sample `shape` given at creation.
    public let shape: [Int]
    /// A `Reshape` of every sample to `shape`.
    public init(_ shape: [Int]) {
        check(!shape.isEmpty && shape.allSatisfy({ $0 > 0 || $0 == -1 }) && shape.filter({ $0 == -1 }).count <= 1,
              "Reshape: the shape must be positive sizes with at most one -1, got \(shape)")
        self.shape = shape
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor {
        check(input.rank >= 1, "Reshape: expected a batch of samples, got a scalar")
        let sample = input.shape.dropFirst().reduce(1, *), known = shape.filter { $0 != -1 }.reduce(1, *)
        check(shape.contains(-1) ? known > 0 && sample % known == 0 : known == sample,
              "Reshape: samples of shape \(describeShape(Array(input.shape.dropFirst()))) (\(sample) values) cannot be reshaped to \(shape)")
        return input.reshape([input.shape[0]] + shape.map { $0 == -1 ? sample / known : $0 })
    }
    public override var extraDescription: String { "shape=\(shape)" }
}

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO

/// Class indices [N] (int64) to one-hot rows [N, classes] (float32), for losses on probabilities.
public struct OneHot: Transform {
    /// Number of classes.
    public let classes: Int

    /// One-hot rows of `classes` columns.
    public init(classes: Int) {
        check(classes > 0, "OneHot: classes must be positive, got \(classes)")
        self.classes = classes
    }

    public func callAsFunction(_ batch: Tensor, generator: Generator) -> Tensor {
        check(batch.rank == 1 && batch.dtype == .int64, "OneHot: expected int64 class indices [N], got \(batch.dtype) \(describeShape(batch.shape))")
        let n = batch.shape[0]
        return batch.mapOnHost(Int64.self, to: [n, classes]) { src, dst in
            for i in 0..<(n * classes) { dst[i] = 0 }
            for i in 0..<n {
                let k = Int(src[i])
                check(k >= 0 && k < classes, "OneHot: label \(k) at position \(i) is out of range 0..<\(classes)")
                dst[i * classes + k] = 1
            }
        }
    }
}

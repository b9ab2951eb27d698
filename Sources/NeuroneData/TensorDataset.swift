import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import Foundation

/// An in-memory labelled data set: inputs [N, …] and labels [N] (int64 class indices) or [N, …].
public struct TensorDataset {
    /// The samples, batch first.
    public let inputs: Tensor
    /// One label per sample.
    public let labels: Tensor
    /// Class names, when the labels are class indices.
    public var classNames: [String]

    /// A data set of `inputs` [N, …] and `labels` [N, …].
    public init(inputs: Tensor, labels: Tensor, classNames: [String] = []) {
        check(inputs.rank >= 1 && labels.rank >= 1 && inputs.shape[0] == labels.shape[0],
              "TensorDataset: inputs \(describeShape(inputs.shape)) and labels \(describeShape(labels.shape)) must have the same number of samples in dim 0")
        self.inputs = inputs
        self.labels = labels
        self.classNames = classNames
    }

    /// Number of samples.
    public var count: Int { inputs.shape[0] }
    /// The shape of one sample.
    public var sampleShape: [Int] { Array(inputs.shape.dropFirst()) }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> TensorDataset {
        let idx = Tensor(indices.map { Int64($0) })
        return withNoGrad { TensorDataset(inputs: inputs.indexSelect(dim: 0, index: idx), labels: labels.indexSelect(dim: 0, index: idx), classNames: classNames) }
    }

    /// A seeded random split into two parts, the second holding `fraction` of the samples; each
    /// part keeps the samples in their original order.
    public func split(fraction: Double, generator: Generator) -> (TensorDataset, TensorDataset) {
        check(fraction >= 0 && fraction < 1, "split: the fraction must be in [0, 1), got \(fraction)")
        let order = permutation(count, generator)
        let second = Int((Double(count) * fraction).rounded())
        return (subset(Array(order[second...]).sorted()), subset(Array(order[..<second]).sorted()))
    }
}

/// A seeded Fisher–Yates permutation of 0..<n.
func permutation(_ n: Int, _ g: Generator) -> [Int] {
    var a = Array(0..<n)
    if n > 1 {
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(g.nextInt(below: UInt64(i + 1)))
            a.swapAt(i, j)
        }
    }
    return a
}

/// One batch: inputs and labels.
public typealias Batch = (inputs: Tensor, labels: Tensor)

/// The rows `rows` of a contiguous tensor [N, …], copied in that order into a new tensor on its
/// device: an explicit host read and upload (plain copies, safe on a background thread; for host
/// devices no copy beyond the rows').
func gatherRows(_ t: Tensor, _ rows: ArraySlice<Int>) -> Tensor {
    let rowElements = t.count / Swift.max(1, t.shape[0]), rowBytes = rowElements * t.dtype.byteSize
    var shape = t.shape
    shape[0] = rows.count
    return t.withHostBytes { src in
        Tensor.fromHost(shape, dtype: t.dtype, device: t.device) { dst in
            for (k, r) in rows.enumerated() { memcpy(dst + k * rowBytes, src + r * rowBytes, rowBytes) }
        }
    }
}

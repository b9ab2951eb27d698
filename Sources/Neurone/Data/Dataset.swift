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

    /// A seeded random split into two parts, the second holding `fraction` of the samples.
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

/// Batches of a `TensorDataset`, like `torch.utils.data.DataLoader`: batch size (1 = online
/// learning, the whole set = full batch), seeded shuffling each epoch, drop-last.
public struct DataLoader: Sequence {
    /// The data set batched.
    public let dataset: TensorDataset
    /// Samples per batch.
    public let batchSize: Int
    /// Whether each epoch visits the samples in a new seeded random order.
    public let shuffle: Bool
    /// Whether a last, smaller batch is left out.
    public let dropLast: Bool
    let generator: Neurone.Generator

    /// A loader over `dataset`; shuffling draws from `generator` (the default one when nil).
    public init(_ dataset: TensorDataset, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false, generator: Neurone.Generator? = nil) {
        check(batchSize > 0, "DataLoader: batch size must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.generator = generator ?? Neurone.Generator.default
    }

    /// Batches per epoch.
    public var count: Int { dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize }

    /// The batches of one epoch, as (inputs, labels).
    public func makeIterator() -> AnyIterator<(inputs: Tensor, labels: Tensor)> {
        let order = shuffle ? permutation(dataset.count, generator) : Array(0..<dataset.count)
        var start = 0
        let n = dataset.count, bs = batchSize, drop = dropLast, data = dataset
        return AnyIterator {
            guard start < n, !(drop && start + bs > n) else { return nil }
            let end = Swift.min(n, start + bs)
            let idx = Tensor(order[start..<end].map { Int64($0) })
            start = end
            return withNoGrad { (data.inputs.indexSelect(dim: 0, index: idx), data.labels.indexSelect(dim: 0, index: idx)) }
        }
    }
}

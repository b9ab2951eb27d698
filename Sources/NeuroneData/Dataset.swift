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

/// Batches of a `TensorDataset`, like `torch.utils.data.DataLoader`: batch size (1 = online
/// learning, the whole set = full batch), seeded shuffling each epoch, drop-last, transforms of
/// the inputs and of the labels, and batches prepared ahead on a background thread.
///
/// Determinism: each epoch's order is drawn from `generator` when the iteration starts; when there
/// are transforms, one more number drawn right after it seeds their own generator, so the same
/// seed gives the same augmented batches whether or not they are prepared in the background.
public struct DataLoader: Sequence {
    /// The data set batched.
    public let dataset: TensorDataset
    /// Samples per batch.
    public let batchSize: Int
    /// Whether each epoch visits the samples in a new seeded random order.
    public let shuffle: Bool
    /// Whether a last, smaller batch is left out.
    public let dropLast: Bool
    /// Applied in order to each batch's inputs.
    public var transforms: [Transform]
    /// Applied in order to each batch's labels.
    public var labelTransforms: [Transform]
    /// Batches prepared ahead of the one in use, on a background thread (0: on the caller's thread).
    public var prefetch: Int
    let generator: NeuroneTensor.Generator

    /// A loader over `dataset`; shuffling and transforms draw from `generator` (the default one when nil).
    public init(_ dataset: TensorDataset, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false,
                transforms: [Transform] = [], labelTransforms: [Transform] = [], prefetch: Int = 2,
                generator: NeuroneTensor.Generator? = nil) {
        check(batchSize > 0, "DataLoader: batch size must be positive, got \(batchSize)")
        check(prefetch >= 0, "DataLoader: prefetch must be ≥ 0, got \(prefetch)")
        self.dataset = TensorDataset(inputs: dataset.inputs.contiguous(), labels: dataset.labels.contiguous(), classNames: dataset.classNames)
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.transforms = transforms
        self.labelTransforms = labelTransforms
        self.prefetch = prefetch
        self.generator = generator ?? NeuroneTensor.Generator.default
    }

    /// Batches per epoch.
    public var count: Int { dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize }

    /// The batches of one epoch, as (inputs, labels).
    public func makeIterator() -> AnyIterator<Batch> {
        let order = shuffle ? permutation(dataset.count, generator) : Array(0..<dataset.count)
        let transformGenerator = transforms.isEmpty && labelTransforms.isEmpty ? nil : NeuroneTensor.Generator(seed: generator.nextUInt64())
        var start = 0
        let n = dataset.count, bs = batchSize, drop = dropLast, data = dataset
        let (tx, ty) = (transforms, labelTransforms)
        let produce: () -> Batch? = {
            guard start < n, !(drop && start + bs > n) else { return nil }
            let end = Swift.min(n, start + bs)
            let rows = order[start..<end]
            start = end
            var x = gatherRows(data.inputs, rows), y = gatherRows(data.labels, rows)
            if let g = transformGenerator {
                for t in tx { x = t(x, generator: g) }
                for t in ty { y = t(y, generator: g) }
            }
            return (x, y)
        }
        if prefetch == 0 { return AnyIterator(produce) }
        let prefetcher = Prefetcher(capacity: prefetch, produce: produce)
        return AnyIterator { prefetcher.next() }
    }
}

/// The rows `rows` of a contiguous tensor [N, …], copied in that order into a new tensor
/// (plain copies: safe on a background thread).
func gatherRows(_ t: Tensor, _ rows: ArraySlice<Int>) -> Tensor {
    let rowElements = t.count / Swift.max(1, t.shape[0]), rowBytes = rowElements * t.dtype.byteSize
    var shape = t.shape
    shape[0] = rows.count
    let out = Tensor.empty(shape, dtype: t.dtype)
    let src = t.data, dst = out.data
    for (k, r) in rows.enumerated() { memcpy(dst + k * rowBytes, src + r * rowBytes, rowBytes) }
    return out
}

/// Runs `produce` on a background thread, keeping up to `capacity` results ready; `next()` hands
/// them over in order. Dropping the prefetcher (an epoch left early) stops the thread.
final class Prefetcher {
    private final class Shared: @unchecked Sendable {
        let condition = NSCondition()
        var ready: [Batch] = []
        var finished = false
        var cancelled = false
    }
    private let shared = Shared()

    init(capacity: Int, produce: @escaping () -> Batch?) {
        let shared = self.shared
        nonisolated(unsafe) let work = produce
        let thread = Thread {
            while true {
                shared.condition.lock()
                while shared.ready.count >= capacity && !shared.cancelled { shared.condition.wait() }
                let stop = shared.cancelled
                shared.condition.unlock()
                if stop { return }
                let batch = work()
                shared.condition.lock()
                if let b = batch { shared.ready.append(b) } else { shared.finished = true }
                shared.condition.broadcast()
                shared.condition.unlock()
                if batch == nil { return }
            }
        }
        thread.name = "neurone-dataloader"
        thread.start()
    }

    func next() -> Batch? {
        shared.condition.lock()
        defer { shared.condition.unlock() }
        while shared.ready.isEmpty && !shared.finished { shared.condition.wait() }
        if shared.ready.isEmpty { return nil }
        let b = shared.ready.removeFirst()
        shared.condition.broadcast()
        return b
    }

    deinit {
        shared.condition.lock()
        shared.cancelled = true
        shared.condition.broadcast()
        shared.condition.unlock()
    }
}

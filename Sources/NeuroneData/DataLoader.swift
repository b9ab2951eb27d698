import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import Foundation

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
    /// In data-parallel training, which part of each batch this process takes (nil: all of it):
    /// `batchSize` is then the global batch, and every process draws the same order.
    public var sampler: DistributedSampler?
    let generator: NeuroneTensor.Generator

    /// A loader over `dataset`; shuffling and transforms draw from `generator` (the default one when nil).
    public init(_ dataset: TensorDataset, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false,
                transforms: [Transform] = [], labelTransforms: [Transform] = [], prefetch: Int = 2,
                generator: NeuroneTensor.Generator? = nil, sampler: DistributedSampler? = nil) {
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
        self.sampler = sampler
    }

    /// The number of samples in batch `index` (0-based) of an epoch over all processes: the batch
    /// size, or what is left for the last one.
    public func globalBatchSize(_ index: Int) -> Int {
        let start = index.multipliedReportingOverflow(by: batchSize)
        guard !start.overflow, start.partialValue < dataset.count else { return 0 }
        return Swift.min(batchSize, dataset.count - start.partialValue)
    }

    /// Batches per epoch.
    public var count: Int {
        // ⌈count / batchSize⌉ without forming count + batchSize − 1, which overflows for a batch
        // size near Int.max (a resumed state may carry any number).
        let n = dataset.count
        return dropLast ? n / batchSize : n / batchSize + (n % batchSize == 0 ? 0 : 1)
    }

    /// The batches of one epoch, as (inputs, labels).
    public func makeIterator() -> AnyIterator<Batch> {
        let order = shuffle ? permutation(dataset.count, generator) : Array(0..<dataset.count)
        let transformGenerator = transforms.isEmpty && labelTransforms.isEmpty ? nil : NeuroneTensor.Generator(seed: generator.nextUInt64())
        var start = 0
        let n = dataset.count, bs = batchSize, drop = dropLast, data = dataset
        let (tx, ty) = (transforms, labelTransforms)
        let produce: () -> Batch? = {
            guard start < n, !(drop && bs > n - start) else { return nil }
            let end = start + Swift.min(bs, n - start)  // no start + bs: it may overflow
            var rows = order[start..<end]
            if let part = sampler?.slice(of: start..<end) { rows = order[part] }
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

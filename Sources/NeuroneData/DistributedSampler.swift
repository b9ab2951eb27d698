import NeuroneDevice

/// Which samples of each batch one process of a data-parallel run takes, like PyTorch's
/// `DistributedSampler` — but cut per global batch: every process draws the same seeded order,
/// the loader cuts it into batches of the global batch size, and process `rank` takes its own
/// contiguous part of each batch. The parts are disjoint, cover the batch, and differ in size by
/// at most one: with b samples and N processes, the first b mod N processes take ⌊b/N⌋ + 1 and
/// the others ⌊b/N⌋. The last, partial batch of an epoch is cut by the same rule (a process may
/// then take none when b < N). Averaging each process's gradient weighted by its share of the
/// batch gives the gradient of the whole batch, so N processes train as one with batch b.
public struct DistributedSampler: Sendable, Equatable {
    /// This process's rank, 0 ..< worldSize.
    public let rank: Int
    /// The number of processes.
    public let worldSize: Int

    /// A sampler for process `rank` of `worldSize`.
    public init(rank: Int, worldSize: Int) {
        check(worldSize > 0 && (0..<worldSize).contains(rank), "DistributedSampler: rank \(rank) is not in 0..<\(worldSize)")
        self.rank = rank
        self.worldSize = worldSize
    }

    /// This process's part of the positions `batch` (positions in the epoch's order).
    public func slice(of batch: Range<Int>) -> Range<Int> {
        let part = DistributedSampler.part(count: batch.count, rank: rank, worldSize: worldSize)
        return batch.lowerBound + part.lowerBound ..< batch.lowerBound + part.upperBound
    }

    /// Process `rank`'s part of `count` samples: the offsets `lower ..< upper`.
    public static func part(count: Int, rank: Int, worldSize: Int) -> Range<Int> {
        let base = count / worldSize, extra = count % worldSize
        let lower = rank * base + Swift.min(rank, extra)
        return lower ..< lower + base + (rank < extra ? 1 : 0)
    }
}

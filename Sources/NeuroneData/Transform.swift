import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO

/// A change applied to every batch a `DataLoader` prepares — to the inputs [N, …] or the labels
/// [N] — like torchvision's transforms. Random choices are drawn from `generator` sample by
/// sample, in batch order, so a seed gives the same augmented data every run.
///
/// Transforms run on the loader's background thread: they work on raw buffers with plain loops
/// and never call tensor ops (which use the shared thread pool and the autograd flags).
public protocol Transform {
    /// The transformed batch (a new tensor, or `batch` changed in place: it is the loader's own copy).
    func callAsFunction(_ batch: Tensor, generator: Generator) -> Tensor
}

/// The batch as a contiguous float32 tensor of the expected rank (the loader's batches are).
func floatBatch(_ t: Tensor, _ name: String, minRank: Int, maxRank: Int = .max) -> Tensor {
    check(t.dtype == .float32 && t.isContiguous, "\(name): expected a contiguous float32 batch, got \(t.dtype)")
    check(t.rank >= minRank && t.rank <= maxRank,
          "\(name): expected a batch of rank \(minRank == maxRank ? "\(minRank)" : "≥ \(minRank)") ([N, C, H, W] for images), got \(describeShape(t.shape))")
    return t
}

extension Tensor {
    /// The data of a contiguous tensor as typed elements.
    func contiguousData<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        check(isContiguous, "internal: contiguous data expected")
        return data.assumingMemoryBound(to: T.self)
    }
}

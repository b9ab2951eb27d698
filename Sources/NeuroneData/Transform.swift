import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO

/// A change applied to every batch a `DataLoader` prepares — to the inputs [N, …] or the labels
/// [N] — like torchvision's transforms. Random choices are drawn from `generator` sample by
/// sample, in batch order, so a seed gives the same augmented data every run.
///
/// Transforms run on the loader's background thread: they read the batch on the host and upload
/// their result (`mapOnHost`) with plain loops, and never call tensor ops (which use the shared
/// thread pool and the autograd flags).
public protocol Transform {
    /// The transformed batch, a new tensor on the batch's device.
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
    /// A new float32 tensor of `shape` on this batch's device whose values `body` writes from
    /// this batch's values: the transforms' explicit host read and upload (plain copies, safe on
    /// the loader's thread; for host devices no copy is made).
    func mapOnHost<T>(_ type: T.Type, to shape: [Int], _ body: (UnsafePointer<T>, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        withHostBytes { src in
            Tensor.fromHost(shape, dtype: .float32, device: device) { dst in
                body(src.assumingMemoryBound(to: T.self), dst.assumingMemoryBound(to: Float.self))
            }
        }
    }
}

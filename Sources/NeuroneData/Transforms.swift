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

/// (x − mean[c]) / std[c] for each channel c of [N, C, …] float32 batches (one value: every channel).
public struct Normalize: Transform {
    /// Per-channel means.
    public let mean: [Float]
    /// Per-channel standard deviations.
    public let std: [Float]

    /// Normalisation by per-channel `mean` and `std` (one value each for all channels).
    public init(mean: [Float], std: [Float]) {
        check(!mean.isEmpty && mean.count == std.count && std.allSatisfy { $0 > 0 },
              "Normalize: as many means as standard deviations, all deviations positive (got \(mean), \(std))")
        self.mean = mean; self.std = std
    }

    public func callAsFunction(_ batch: Tensor, generator: Generator) -> Tensor {
        let x = floatBatch(batch, "Normalize", minRank: 2)
        let n = x.shape[0], c = x.shape[1], inner = x.count / Swift.max(1, n * c)
        check(mean.count == 1 || mean.count == c, "Normalize: \(mean.count) means for \(c) channels")
        let p = x.data.assumingMemoryBound(to: Float.self)
        for s in 0..<n { for ch in 0..<c {
            let m = mean.count == 1 ? mean[0] : mean[ch], inv = 1 / (std.count == 1 ? std[0] : std[ch])
            let base = (s * c + ch) * inner
            for i in 0..<inner { p[base + i] = (p[base + i] - m) * inv }
        } }
        return x
    }
}

/// Moves each image [C, H, W] of the batch by a random whole number of pixels in −max…max along
/// each axis, filling the uncovered border with `fill` (the augmentation of COURSE.md §7).
public struct RandomShift: Transform {
    /// The largest shift, in pixels.
    public let maxShift: Int
    /// The value of pixels shifted in from outside.
    public let fill: Float

    /// Shifts of up to `maxShift` pixels in each direction.
    public init(maxShift: Int, fill: Float = 0) {
        check(maxShift >= 0, "RandomShift: maxShift must be ≥ 0, got \(maxShift)")
        self.maxShift = maxShift; self.fill = fill
    }

    public func callAsFunction(_ batch: Tensor, generator: Generator) -> Tensor {
        let x = floatBatch(batch, "RandomShift", minRank: 4, maxRank: 4)
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let out = Tensor.empty(x.shape, dtype: .float32)
        let src = x.data.assumingMemoryBound(to: Float.self), dst = out.data.assumingMemoryBound(to: Float.self)
        let span = UInt64(2 * maxShift + 1)
        for s in 0..<n {
            let dy = Int(generator.nextInt(below: span)) - maxShift, dx = Int(generator.nextInt(below: span)) - maxShift
            for ch in 0..<c {
                let plane = (s * c + ch) * h * w
                for y in 0..<h {
                    let sy = y - dy
                    for xx in 0..<w {
                        let sx = xx - dx
                        dst[plane + y * w + xx] = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? src[plane + sy * w + sx] : fill
                    }
                }
            }
        }
        return out
    }
}

/// torchvision's `RandomCrop(size, padding)`: pads each image [C, H, W] with `padding` zeros on
/// every side, then cuts a `height`×`width` window at a uniformly random position.
public struct RandomCrop: Transform {
    /// Output height.
    public let height: Int
    /// Output width.
    public let width: Int
    /// Zeros added on each side before cropping.
    public let padding: Int

    /// Crops of `height`×`width` after `padding` zeros on each side.
    public init(height: Int, width: Int, padding: Int = 0) {
        check(height > 0 && width > 0 && padding >= 0, "RandomCrop: positive size and padding ≥ 0 required")
        self.height = height; self.width = width; self.padding = padding
    }

    public func callAsFunction(_ batch: Tensor, generator: Generator) -> Tensor {
        let x = floatBatch(batch, "RandomCrop", minRank: 4, maxRank: 4)
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        check(height <= h + 2 * padding && width <= w + 2 * padding,
              "RandomCrop: a \(height)×\(width) crop does not fit a \(h)×\(w) image padded by \(padding)")
        let out = Tensor.empty([n, c, height, width], dtype: .float32)
        let src = x.data.assumingMemoryBound(to: Float.self), dst = out.data.assumingMemoryBound(to: Float.self)
        for s in 0..<n {
            let top = Int(generator.nextInt(below: UInt64(h + 2 * padding - height + 1))) - padding
            let left = Int(generator.nextInt(below: UInt64(w + 2 * padding - width + 1))) - padding
            for ch in 0..<c {
                let plane = (s * c + ch) * h * w, outPlane = (s * c + ch) * height * width
                for y in 0..<height {
                    let sy = y + top
                    for xx in 0..<width {
                        let sx = xx + left
                        dst[outPlane + y * width + xx] = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? src[plane + sy * w + sx] : 0
                    }
                }
            }
        }
        return out
    }
}

/// Mirrors each image [C, H, W] left–right with probability `p`.
public struct RandomHorizontalFlip: Transform {
    /// The probability of a flip.
    public let p: Double

    /// Flips with probability `p`.
    public init(p: Double = 0.5) {
        check(p >= 0 && p <= 1, "RandomHorizontalFlip: p must be in [0, 1], got \(p)")
        self.p = p
    }

    public func callAsFunction(_ batch: Tensor, generator: Generator) -> Tensor {
        let x = floatBatch(batch, "RandomHorizontalFlip", minRank: 4, maxRank: 4)
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let q = x.data.assumingMemoryBound(to: Float.self)
        for s in 0..<n where generator.nextDouble() < p {
            for row in 0..<(c * h) {
                let base = (s * c * h + row) * w
                for i in 0..<(w / 2) { let t = q[base + i]; q[base + i] = q[base + w - 1 - i]; q[base + w - 1 - i] = t }
            }
        }
        return x
    }
}

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
        let n = batch.shape[0], out = Tensor.empty([n, classes], dtype: .float32)
        let src = batch.contiguousData(Int64.self), dst = out.data.assumingMemoryBound(to: Float.self)
        for i in 0..<(n * classes) { dst[i] = 0 }
        for i in 0..<n {
            let k = Int(src[i])
            check(k >= 0 && k < classes, "OneHot: label \(k) at position \(i) is out of range 0..<\(classes)")
            dst[i * classes + k] = 1
        }
        return out
    }
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

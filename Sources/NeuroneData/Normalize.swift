import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO

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
        return x.mapOnHost(Float.self, to: x.shape) { src, dst in
            for s in 0..<n { for ch in 0..<c {
                let m = mean.count == 1 ? mean[0] : mean[ch], inv = 1 / (std.count == 1 ? std[0] : std[ch])
                let base = (s * c + ch) * inner
                for i in 0..<inner { dst[base + i] = (src[base + i] - m) * inv }
            } }
        }
    }
}

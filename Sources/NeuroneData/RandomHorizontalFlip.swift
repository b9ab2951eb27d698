import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO

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
        return x.mapOnHost(Float.self, to: x.shape) { src, dst in
            dst.update(from: src, count: x.count)
            for s in 0..<n where generator.nextDouble() < p {
                for row in 0..<(c * h) {
                    let base = (s * c * h + row) * w
                    for i in 0..<w { dst[base + i] = src[base + w - 1 - i] }
                }
            }
        }
    }
}

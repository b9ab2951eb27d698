import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO

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
        let span = UInt64(2 * maxShift + 1)
        return x.mapOnHost(Float.self, to: x.shape) { src, dst in
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
        }
    }
}

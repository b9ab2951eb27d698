import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO

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
        return x.mapOnHost(Float.self, to: [n, c, height, width]) { src, dst in
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
        }
    }
}

import NeuroneIO
import NeuroneDevice
import NeuroneTensor

/// Lays out images [N, C, H, W] (C = 1 or 3) in a grid, for PNG files of samples, reconstructions
/// and generated images. Values are clamped to [low, high] and mapped to 0…255 (NaN drawn as
/// `low`); each image is
/// enlarged `scale` times (nearest neighbour) and separated by `padding` grey pixels.
public func imageGrid(_ images: Tensor, columns: Int? = nil, scale: Int = 1, padding: Int = 1,
                      low: Double = 0, high: Double = 1) -> Image {
    check(images.rank == 4 && (images.shape[1] == 1 || images.shape[1] == 3),
          "imageGrid: expected images [N, 1 or 3, H, W], got \(describeShape(images.shape))")
    check(scale >= 1 && padding >= 0 && high > low, "imageGrid: scale ≥ 1, padding ≥ 0 and high > low required")
    let n = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3]
    check(n > 0, "imageGrid: no images")
    let cols = Swift.max(1, Swift.min(columns ?? Int(Double(n).squareRoot().rounded(.up)), n))
    let rows = (n + cols - 1) / cols
    let cellW = w * scale, cellH = h * scale
    let width = cols * cellW + (cols + 1) * padding, height = rows * cellH + (rows + 1) * padding
    var px = [UInt8](repeating: 128, count: width * height * c)
    let v = images.to(.float64).contiguous().toArray(as: Double.self)
    for i in 0..<n {
        let ox = padding + (i % cols) * (cellW + padding), oy = padding + (i / cols) * (cellH + padding)
        for y in 0..<cellH { for x in 0..<cellW { for ch in 0..<c {
            let value = v[((i * c + ch) * h + y / scale) * w + x / scale]
            let t = value.isNaN ? 0 : Swift.min(Swift.max((value - low) / (high - low), 0), 1)
            px[((oy + y) * width + ox + x) * c + ch] = UInt8((t * 255).rounded())
        } } }
    }
    return Image(width: width, height: height, channels: c, pixels: px)
}

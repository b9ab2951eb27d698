import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import Foundation

/// An 8-bit image in memory: `channels` interleaved values per pixel, rows top to bottom.
public struct Image: Equatable, Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).
    public let channels: Int
    /// height × width × channels bytes, row-major.
    public var pixels: [UInt8]

    /// An image of the given size; `pixels` must hold height × width × channels bytes.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        check(width > 0 && height > 0 && (1...4).contains(channels) && pixels.count == width * height * channels,
              "Image: \(width)×\(height)×\(channels) needs \(width * height * channels) bytes, got \(pixels.count)")
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    /// The image as a float32 tensor [C, H, W] in [0, 1] with `channels` channels: RGB is turned
    /// into grey with the ITU-R 601 weights (as PIL's `convert("L")`), grey is repeated into RGB,
    /// and alpha is dropped.
    public func tensor(channels wanted: Int) -> Tensor {
        check(wanted == 1 || wanted == 3, "Image.tensor: 1 or 3 channels, got \(wanted)")
        let n = width * height
        var out = [Float](repeating: 0, count: wanted * n)
        let colour = channels >= 3
        for i in 0..<n {
            let p = i * channels
            if wanted == 1 {
                out[i] = colour
                    ? (0.299 * Float(pixels[p]) + 0.587 * Float(pixels[p + 1]) + 0.114 * Float(pixels[p + 2])) / 255
                    : Float(pixels[p]) / 255
            } else {
                for c in 0..<3 { out[c * n + i] = Float(pixels[p + (colour ? c : 0)]) / 255 }
            }
        }
        return Tensor(out, shape: [wanted, height, width])
    }
}

extension Image {
    /// Reads a PNG or PGM file, recognised by its first bytes.
    public static func read(_ path: String) throws -> Image {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataSetError(message: "cannot read \(path)") }
        let bytes = [UInt8](data)
        if bytes.count >= 8 && Array(bytes[0..<8]) == PNG.signature { return try PNG.decode(bytes, source: path) }
        if bytes.count >= 2 && bytes[0] == UInt8(ascii: "P") && (bytes[1] == UInt8(ascii: "5") || bytes[1] == UInt8(ascii: "2")) {
            return try PGM.decode(bytes, source: path)
        }
        throw DataSetError(message: "\(path): not a PNG or PGM image")
    }

    /// Nearest-neighbour resize.
    public func resized(width w: Int, height h: Int) -> Image {
        if w == width && h == height { return self }
        var px = [UInt8](repeating: 0, count: w * h * channels)
        for y in 0..<h { for x in 0..<w {
            let sy = y * height / h, sx = x * width / w
            for c in 0..<channels { px[(y * w + x) * channels + c] = pixels[(sy * width + sx) * channels + c] }
        } }
        return Image(width: w, height: h, channels: channels, pixels: px)
    }
}

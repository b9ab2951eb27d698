import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import Foundation

/// Reads PGM (P2 ASCII or P5 binary, 8-bit) grey images.
public enum PGM {
    /// Decodes a PGM file's bytes; `source` names it in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws -> Image {
        func bad(_ why: String) -> DataSetError { DataSetError(message: "\(source): \(why)") }
        var pos = 0
        func token() -> String? {
            while pos < bytes.count {
                if bytes[pos] == UInt8(ascii: "#") { while pos < bytes.count && bytes[pos] != 10 { pos += 1 } }
                else if bytes[pos] == 32 || bytes[pos] == 10 || bytes[pos] == 13 || bytes[pos] == 9 { pos += 1 }
                else { break }
            }
            let start = pos
            while pos < bytes.count && !(bytes[pos] == 32 || bytes[pos] == 10 || bytes[pos] == 13 || bytes[pos] == 9) { pos += 1 }
            return start < pos ? String(decoding: bytes[start..<pos], as: UTF8.self) : nil
        }
        guard let magic = token(), magic == "P5" || magic == "P2" else { throw bad("not a PGM image (expected P5 or P2)") }
        guard let w = token().flatMap(Int.init), let h = token().flatMap(Int.init), let maxv = token().flatMap(Int.init),
              w > 0, h > 0, maxv > 0, maxv < 256 else {
            throw bad("malformed PGM header (width, height and a maximum value below 256 expected)")
        }
        // Sizes come from the file: checked before anything is allocated.
        guard let count = CheckedSize.product([w, h]) else {
            throw bad("PGM size \(w)×\(h) is too large (its pixel count overflows)")
        }
        func scaled(_ v: Int) -> UInt8 { UInt8((v * 255 + maxv / 2) / maxv) }
        var pixels = [UInt8]()
        if magic == "P5" {
            pos += 1
            guard bytes.count - pos >= count else { throw bad("PGM data truncated (\(Swift.max(0, bytes.count - pos)) of \(count) bytes for \(w)×\(h) pixels)") }
            let data = bytes[pos..<(pos + count)]
            if let i = data.firstIndex(where: { Int($0) > maxv }) {
                throw bad("pixel \(i - pos + 1) of \(count) has the value \(data[i]), above the maximum value \(maxv) of the header")
            }
            pixels = data.map { scaled(Int($0)) }
        } else {
            // Each value takes at least two bytes (a digit and a separator), but the last.
            guard count <= (bytes.count - pos + 1) / 2 else {
                throw bad("PGM data truncated (\(w)×\(h) = \(count) values cannot fit in the \(Swift.max(0, bytes.count - pos)) bytes left)")
            }
            pixels.reserveCapacity(count)
            for i in 0..<count {
                guard let v = token().flatMap(Int.init), (0...maxv).contains(v) else {
                    throw bad("PGM data truncated or invalid at value \(i + 1) of \(count) (integers 0...\(maxv) expected)")
                }
                pixels.append(scaled(v))
            }
        }
        return Image(width: w, height: h, channels: 1, pixels: pixels)
    }
}

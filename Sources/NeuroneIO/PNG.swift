import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import Foundation

/// PNG files (ISO/IEC 15948): writing 8-bit grey, RGB and RGBA; reading every non-interlaced colour
/// type at bit depths 1–16 (16-bit samples keep their high byte, palettes are expanded to RGB(A)).
public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

    /// The bytes of a PNG file holding `image`.
    public static func encode(_ image: Image) -> [UInt8] {
        let colourType: UInt8 = [1: 0, 2: 4, 3: 2, 4: 6][image.channels]!
        var ihdr = be32(image.width) + be32(image.height)
        ihdr += [8, colourType, 0, 0, 0]
        // Filter type 0 (None) on every row: simple and exact; zlib does the compressing.
        let row = image.width * image.channels
        var raw = [UInt8](); raw.reserveCapacity((row + 1) * image.height)
        for y in 0..<image.height { raw.append(0); raw += image.pixels[(y * row)..<((y + 1) * row)] }
        var out = signature
        out += chunk("IHDR", ihdr)
        out += chunk("IDAT", CompressedFile.zlibCompress(raw))
        out += chunk("IEND", [])
        return out
    }

    /// Writes `image` to `path` as PNG, through a temporary file and a rename.
    public static func write(_ image: Image, to path: String) throws {
        try writeFileAtomically(Data(encode(image)), to: path)
    }

    /// Reads a PNG file; errors name the file and what is wrong with it.
    public static func read(_ path: String) throws -> Image {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataSetError(message: "cannot read \(path)") }
        return try decode([UInt8](data), source: path)
    }

    /// Decodes PNG bytes; `source` names them in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws -> Image {
        func bad(_ why: String) -> DataSetError { DataSetError(message: "\(source): \(why)") }
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw bad("not a PNG file (wrong signature)") }
        var pos = 8
        var width = 0, height = 0, depth = 0, colourType = -1, interlace = 0
        var palette: [UInt8] = [], paletteAlpha: [UInt8] = [], idat: [UInt8] = []
        var sawEnd = false, chunks = 0, lastType = "", idatDone = false
        while pos < bytes.count {
            guard pos + 8 <= bytes.count else { throw bad("a chunk header is cut off at byte \(pos) (truncated file)") }
            let len = Int(readBE32(bytes, pos)), typeBytes = Array(bytes[(pos + 4)..<(pos + 8)])
            // What the PNG specification tells a decoder to reject (§5.3, §5.4, §11):
            guard typeBytes.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) }) else {
                throw bad("chunk at byte \(pos) has an invalid type \(typeBytes) (four ASCII letters expected): corrupted file")
            }
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard len <= Int(Int32.max) else { throw bad("chunk \(type) has a length of \(len), above the 2^31 − 1 the format allows") }
            guard pos + 12 + len <= bytes.count else { throw bad("chunk \(type) runs past the end of the file (truncated)") }
            let body = Array(bytes[(pos + 8)..<(pos + 8 + len)])
            let crc = readBE32(bytes, pos + 8 + len)
            guard crc32(Array(bytes[(pos + 4)..<(pos + 8 + len)])) == crc else { throw bad("chunk \(type) has a wrong CRC (corrupted file)") }
            guard (chunks == 0) == (type == "IHDR") else {
                throw bad(chunks == 0 ? "the first chunk is \(type); a PNG starts with IHDR" : "a second IHDR chunk")
            }
            if type == "IDAT" && idatDone { throw bad("IDAT chunks are not consecutive") }
            if lastType == "IDAT" && type != "IDAT" { idatDone = true }
            switch type {
            case "IHDR":
                guard len == 13 else { throw bad("IHDR has \(len) bytes; expected 13") }
                width = Int(readBE32(body, 0)); height = Int(readBE32(body, 4))
                depth = Int(body[8]); colourType = Int(body[9]); interlace = Int(body[12])
                guard body[10] == 0 else { throw bad("compression method \(body[10]); PNG defines only 0 (deflate)") }
                guard body[11] == 0 else { throw bad("filter method \(body[11]); PNG defines only 0 (adaptive)") }
                guard interlace <= 1 else { throw bad("interlace method \(interlace); PNG defines 0 and 1") }
            case "PLTE":
                guard !idatDone && idat.isEmpty else { throw bad("PLTE after the image data") }
                guard len > 0, len % 3 == 0, len / 3 <= 256 else { throw bad("PLTE has \(len) bytes; expected 3 per entry, 1–256 entries") }
                palette = body
            case "tRNS": paletteAlpha = body
            case "IDAT": idat += body
            case "IEND":
                guard len == 0 else { throw bad("IEND has \(len) bytes; expected none") }
                sawEnd = true
            default:
                // An unknown critical chunk (first letter upper case) cannot be skipped safely.
                if typeBytes[0] & 0x20 == 0 { throw bad("unknown critical chunk \(type): the image cannot be decoded without it") }
            }
            chunks += 1
            lastType = type
            pos += 12 + len
            if sawEnd { break }
        }
        guard colourType >= 0 else { throw bad("no IHDR chunk") }
        guard sawEnd else { throw bad("no IEND chunk (truncated file)") }
        guard width > 0, height > 0, width <= 1 << 15, height <= 1 << 15 else { throw bad("image size \(width)×\(height) out of range") }
        let samples: Int
        switch colourType {
        case 0: samples = 1
        case 2: samples = 3
        case 3: samples = 1
        case 4: samples = 2
        case 6: samples = 4
        default: throw bad("unknown colour type \(colourType)")
        }
        let validDepths: [Int] = colourType == 0 ? [1, 2, 4, 8, 16] : colourType == 3 ? [1, 2, 4, 8] : [8, 16]
        guard validDepths.contains(depth) else { throw bad("bit depth \(depth) is not valid for colour type \(colourType)") }
        guard interlace == 0 else { throw bad("Adam7-interlaced PNG is not supported; save the image without interlacing") }
        if colourType == 3 && palette.isEmpty { throw bad("palette image without a PLTE chunk") }
        if colourType == 3 && paletteAlpha.count > palette.count / 3 { throw bad("tRNS has \(paletteAlpha.count) entries for a palette of \(palette.count / 3)") }
        let bitsPerPixel = samples * depth
        let stride = (width * bitsPerPixel + 7) / 8, bpp = Swift.max(1, bitsPerPixel / 8)
        // No more decompressed bytes than the image holds: a small file cannot ask for more.
        let raw = try CompressedFile.inflate(idat, source: source, limit: (stride + 1) * height)
        guard raw.count >= (stride + 1) * height else { throw bad("image data holds \(raw.count) bytes; expected \((stride + 1) * height) (truncated)") }
        // Undo the per-row filters (None, Sub, Up, Average, Paeth).
        var rows = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)], src = y * (stride + 1) + 1, dst = y * stride
            for x in 0..<stride {
                let a = x >= bpp ? Int(rows[dst + x - bpp]) : 0
                let b = y > 0 ? Int(rows[dst - stride + x]) : 0
                let c = (x >= bpp && y > 0) ? Int(rows[dst - stride + x - bpp]) : 0
                let v = Int(raw[src + x])
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                default: throw bad("row \(y) has unknown filter type \(filter)")
                }
                rows[dst + x] = UInt8((v + predicted) & 0xff)
            }
        }
        // Samples to 8 bits.
        func sample(_ y: Int, _ i: Int) -> Int {
            switch depth {
            case 8: return Int(rows[y * stride + i])
            case 16: return Int(rows[y * stride + 2 * i])
            default:
                let bit = i * depth, byte = Int(rows[y * stride + bit / 8])
                return (byte >> (8 - depth - bit % 8)) & ((1 << depth) - 1)
            }
        }
        if colourType == 3 {
            let hasAlpha = !paletteAlpha.isEmpty, ch = hasAlpha ? 4 : 3
            var px = [UInt8](repeating: 0, count: width * height * ch)
            for y in 0..<height { for x in 0..<width {
                let k = sample(y, x)
                guard 3 * k + 2 < palette.count else { throw bad("pixel (\(x), \(y)) uses palette entry \(k) of \(palette.count / 3)") }
                let o = (y * width + x) * ch
                px[o] = palette[3 * k]; px[o + 1] = palette[3 * k + 1]; px[o + 2] = palette[3 * k + 2]
                if hasAlpha { px[o + 3] = k < paletteAlpha.count ? paletteAlpha[k] : 255 }
            } }
            return Image(width: width, height: height, channels: ch, pixels: px)
        }
        let scale = depth < 8 ? 255 / ((1 << depth) - 1) : 1
        var px = [UInt8](repeating: 0, count: width * height * samples)
        for y in 0..<height { for i in 0..<(width * samples) { px[y * width * samples + i] = UInt8(sample(y, i) * scale) } }
        return Image(width: width, height: height, channels: samples, pixels: px)
    }

    static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be32(body.count) + typed + be32(Int(crc32(typed)))
    }

    static func be32(_ v: Int) -> [UInt8] { [UInt8((v >> 24) & 0xff), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }

    static func readBE32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (ISO 3309, as PNG and gzip use it).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

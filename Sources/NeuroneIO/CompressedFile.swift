import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import CNeuroneData
import Foundation

/// Reading files that may be gzip- or bzip2-compressed, and zlib compression for PNG, through the
/// system zlib and libbz2 found at run time (no build-time dependency).
public enum CompressedFile {
    /// A file's bytes, decompressed when they start with the gzip (1f 8b) or bzip2 ("BZh") magic.
    /// Errors name the file and say what is wrong with it.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataSetError(message: "cannot read \(path)")
        }
        let bytes = [UInt8](data)
        if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
            return try decompress(bytes, path, CheckedSize.allocationLimit, nk_gunzip)
        }
        if bytes.count >= 3 && bytes[0] == 0x42 && bytes[1] == 0x5a && bytes[2] == 0x68 {
            return try decompress(bytes, path, CheckedSize.allocationLimit, nk_bunzip2)
        }
        return bytes
    }

    /// Inflates a zlib or gzip stream held in memory; `source` names it in errors. More than
    /// `limit` decompressed bytes (default: the machine's memory) is an error, found as the output
    /// grows: a small file cannot ask for unbounded memory.
    public static func inflate(_ bytes: [UInt8], source: String, limit: Int? = nil) throws -> [UInt8] {
        try decompress(bytes, source, limit ?? CheckedSize.allocationLimit, nk_gunzip)
    }

    /// Compresses `bytes` into a zlib stream (RFC 1950). Without zlib on the machine the data is
    /// stored in uncompressed deflate blocks, which every reader accepts.
    public static func zlibCompress(_ bytes: [UInt8], level: Int = 6) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var len: Int64 = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = bytes.withUnsafeBufferPointer { nk_zlib_compress($0.baseAddress, Int64($0.count), Int32(level), &out, &len, &err, 256) }
        if rc == 0, let p = out {
            defer { nk_free(p) }
            return Array(UnsafeBufferPointer(start: p, count: Int(len)))
        }
        return storedZlib(bytes)
    }

    /// A zlib stream of stored (uncompressed) deflate blocks of at most 65,535 bytes.
    static func storedZlib(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var start = 0
        repeat {
            let n = Swift.min(65535, bytes.count - start)
            let last: UInt8 = start + n == bytes.count ? 1 : 0
            out += [last, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
            out += bytes[start..<(start + n)]
            start += n
        } while start < bytes.count
        var a: UInt32 = 1, b: UInt32 = 0
        for x in bytes { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        let adler = b << 16 | a
        out += [UInt8(adler >> 24), UInt8((adler >> 16) & 0xff), UInt8((adler >> 8) & 0xff), UInt8(adler & 0xff)]
        return out
    }

    private typealias Decoder = (UnsafePointer<UInt8>?, Int64, Int64, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                                 UnsafeMutablePointer<Int64>?, UnsafeMutablePointer<CChar>?, Int64) -> Int32

    private static func decompress(_ bytes: [UInt8], _ source: String, _ limit: Int, _ decode: Decoder) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var len: Int64 = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = bytes.withUnsafeBufferPointer { decode($0.baseAddress, Int64($0.count), Int64(limit), &out, &len, &err, 256) }
        guard rc == 0, let p = out else {
            throw DataSetError(message: "\(source): cannot decompress: \(String(cString: err))")
        }
        defer { nk_free(p) }
        return Array(UnsafeBufferPointer(start: p, count: Int(len)))
    }
}

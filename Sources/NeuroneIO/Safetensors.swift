import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import Foundation

/// Reads and writes the safetensors format (the same bytes as Python's `safetensors` library):
/// an 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`
/// padded with spaces to a multiple of 8, then the tensors' little-endian bytes, row-major.
/// Supported dtypes: F32, F64, I32, I64, BOOL. Writes go to a temporary file that is then renamed,
/// so a failed write never leaves a half-written checkpoint.
public enum Safetensors {
    static func code(_ d: DType) -> String {
        switch d {
        case .float32: return "F32"
        case .float64: return "F64"
        case .int32: return "I32"
        case .int64: return "I64"
        case .bool: return "BOOL"
        }
    }

    static func dtype(_ code: String) -> DType? {
        switch code {
        case "F32": return .float32
        case "F64": return .float64
        case "I32": return .int32
        case "I64": return .int64
        case "BOOL": return .bool
        default: return nil
        }
    }

    /// The file's bytes for these tensors and metadata. Like the Python library, the data is laid
    /// out by element size (largest first, so every tensor is aligned), then by name.
    public static func encode(_ tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws -> Data {
        var names = Set<String>()
        for (name, _) in tensors {
            guard names.insert(name).inserted else { throw SafetensorsError(message: "safetensors: the tensor name '\(name)' appears twice") }
            guard name != "__metadata__" else { throw SafetensorsError(message: "safetensors: '__metadata__' cannot be a tensor name") }
        }
        let sorted = tensors.sorted { a, b in
            a.1.dtype.byteSize != b.1.dtype.byteSize ? a.1.dtype.byteSize > b.1.dtype.byteSize : a.0 < b.0
        }
        var entries: [String] = []
        var offset = 0
        var body = Data()
        for (name, t) in sorted {
            let c = t
            let bytes = c.count * c.dtype.byteSize
            let shape = c.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(name)):{\"dtype\":\"\(code(c.dtype))\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            if bytes > 0 { c.withHostBytes { body.append(Data(bytes: $0, count: bytes)) } }
            offset += bytes
        }
        if !metadata.isEmpty {
            let m = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }.joined(separator: ",")
            entries.insert("\"__metadata__\":{\(m)}", at: 0)
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = Data()
        var n = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        out.append(body)
        return out
    }

    /// Writes tensors to `path` atomically (temporary file, then rename).
    public static func write(_ tensors: [(String, Tensor)], to path: String, metadata: [String: String] = [:]) throws {
        let data = try encode(tensors, metadata: metadata)
        do { try writeFileAtomically(data, to: path) }
        catch let e as FileWriteError { throw SafetensorsError(message: "safetensors: \(e.message)") }
    }

    /// The largest header the reference implementation accepts (100 MB).
    public static let maxHeaderBytes = 100_000_000

    /// The first top-level key that appears twice in a JSON object's text (JSONSerialization keeps
    /// one of them silently), or nil.
    static func duplicateTopLevelKey(_ json: Data) -> String? {
        let bytes = [UInt8](json)
        var depth = 0, i = 0, expectKey = false
        var seen = Set<String>()
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let start = i
                i += 1
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                if depth == 1 && expectKey, i < bytes.count {
                    let raw = Data(bytes[start...i])
                    let key = (try? JSONSerialization.jsonObject(with: raw, options: .fragmentsAllowed) as? String) ?? String(decoding: raw, as: UTF8.self)
                    if !seen.insert(key).inserted { return key }
                    expectKey = false
                }
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                depth += 1
                expectKey = depth == 1 && c == UInt8(ascii: "{")
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                depth -= 1
            } else if c == UInt8(ascii: ",") && depth == 1 {
                expectKey = true
            }
            i += 1
        }
        return nil
    }

    /// Reads every tensor of a file, and its metadata.
    public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SafetensorsError(message: "safetensors: cannot read \(path): no such file or it is not readable")
        }
        return try decode(data, source: path)
    }

    /// Parses the bytes of a safetensors file; `source` names it in errors.
    public static func decode(_ data: Data, source: String = "<data>") throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func bad(_ why: String) -> SafetensorsError { SafetensorsError(message: "safetensors: \(source): \(why)") }
        guard data.count >= 8 else { throw bad("file too short (\(data.count) bytes) for the 8-byte header length") }
        let n = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(maxHeaderBytes) else {
            throw bad("header length \(n) is above the format's limit of \(maxHeaderBytes) bytes: not a safetensors file or corrupted")
        }
        guard n <= UInt64(data.count - 8) else { throw bad("header length \(n) exceeds the file size (\(data.count) bytes): truncated or not a safetensors file") }
        let headerData = data.subdata(in: 8..<(8 + Int(n)))
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        if let dup = duplicateTopLevelKey(headerData) { throw bad("the header names '\(dup)' twice") }
        let base = 8 + Int(n)
        let bodySize = data.count - base
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        var ranges: [(Int, Int, String)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw bad("__metadata__ must be an object of strings") }
                for (k, v) in m {
                    guard let s = v as? String else { throw bad("__metadata__ value of '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let code = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any], let offsAny = info["data_offsets"] as? [Any], offsAny.count == 2 else {
                throw bad("entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dt = dtype(code) else {
                throw bad("tensor '\(name)' has dtype \(code); Neurone reads F32, F64, I32, I64 and BOOL (convert it to float32 first)")
            }
            let shape = try shapeAny.map { v -> Int in
                guard let i = (v as? NSNumber)?.intValue, i >= 0 else { throw bad("tensor '\(name)' has an invalid shape \(shapeAny)") }
                return i
            }
            let offs = try offsAny.map { v -> Int in
                guard let i = (v as? NSNumber)?.intValue, i >= 0 else { throw bad("tensor '\(name)' has invalid data_offsets \(offsAny)") }
                return i
            }
            guard let count = CheckedSize.product(shape), let bytes = CheckedSize.bytes(count, dt) else {
                throw bad("tensor '\(name)' has a shape \(describeShape(shape)) whose size overflows")
            }
            guard offs[1] >= offs[0], offs[1] - offs[0] == bytes else {
                throw bad("tensor '\(name)' of shape \(describeShape(shape)) and dtype \(code) needs \(bytes) bytes but its data_offsets span \(offs[1] >= offs[0] ? "\(offs[1] - offs[0])" : "\(offs) (end before start)")")
            }
            guard offs[1] <= bodySize else {
                throw bad("tensor '\(name)' ends at byte \(offs[1]) of the data but the data holds \(bodySize) bytes: the file is truncated")
            }
            if offs[1] > offs[0] { ranges.append((offs[0], offs[1], name)) }   // empty tensors overlap nothing
            let t = Tensor.fromHost(shape, dtype: dt) { dst in
                if count > 0 {
                    data.withUnsafeBytes { raw in dst.copyMemory(from: raw.baseAddress! + base + offs[0], byteCount: offs[1] - offs[0]) }
                }
            }
            tensors[name] = t
        }
        // As the reference implementation: the tensors tile the data exactly, without overlaps,
        // gaps or trailing bytes.
        ranges.sort { ($0.0, $0.2) < ($1.0, $1.2) }
        var end = 0
        for (start, stop, name) in ranges {
            if start < end { throw bad("tensor '\(name)' overlaps the tensor before it in the data (it starts at byte \(start), before byte \(end))") }
            if start > end { throw bad("the data has a gap of \(start - end) bytes before tensor '\(name)' (bytes \(end)..<\(start) belong to no tensor)") }
            end = stop
        }
        if end != bodySize { throw bad("the data holds \(bodySize - end) bytes after the last tensor that belong to no tensor") }
        return (tensors, metadata)
    }

    /// A JSON string literal of `s`: quotes, backslashes and control characters escaped.
    package static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

extension Module {
    /// Saves the state dict (parameters and buffers, PyTorch names) as safetensors, atomically.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        try Safetensors.write(stateDict(), to: path, metadata: metadata)
    }

    /// Loads a safetensors state dict into this module (see `loadStateDict`); errors name the
    /// file and every missing, unexpected or mis-shaped tensor.
    public func load(from path: String, strict: Bool = true) throws {
        let (tensors, _) = try Safetensors.read(path)
        do { try loadStateDict(tensors, strict: strict) } catch let e as StateDictError {
            throw SafetensorsError(message: "\(path): \(e)")
        }
    }
}

import NeuroneIO

/// A JSON value, read by `JSONValue.parse` (RFC 8259; nesting at most 32 deep) — the playground's
/// own reader, so that every malformed message gets a message naming where it broke, the same on
/// every platform, and the parser can be fuzzed (`neurone-fuzz playground-message`).
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The deepest nesting of lists and objects read.
    public static let maxDepth = 32

    /// Reads one JSON value (surrounding white space allowed); throws `PlaygroundError` naming the byte where it broke.
    public static func parse(_ text: String) throws -> JSONValue {
        var p = Parser(bytes: Array(text.utf8))
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.bytes.count else { throw p.error("unexpected text after the value") }
        return v
    }

    var describe: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? "the number \(Int(d))" : "the number \(d)"
        case .string(let s): return "the string \"\(s.prefix(40))\(s.count > 40 ? "…" : "")\""
        case .array(let a): return "a list of \(a.count)"
        case .object: return "an object"
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        func error(_ what: String) -> PlaygroundError { PlaygroundError("malformed JSON at byte \(i): \(what)") }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < JSONValue.maxDepth else { throw error("nested deeper than \(JSONValue.maxDepth)") }
            guard i < bytes.count else { throw error("expected a value, found the end") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1; skipSpace()
                var o: [String: JSONValue] = [:]
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                while true {
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a key in quotes") }
                    let k = try string()
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after the key \"\(k.prefix(40))\"") }
                    i += 1; skipSpace()
                    guard o[k] == nil else { throw error("the key \"\(k.prefix(40))\" appears twice") }
                    o[k] = try value(depth: depth + 1)
                    skipSpace()
                    guard i < bytes.count else { throw error("expected ',' or '}', found the end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; skipSpace(); continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1; skipSpace()
                var a: [JSONValue] = []
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                while true {
                    a.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < bytes.count else { throw error("expected ',' or ']', found the end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; skipSpace(); continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return .number(try numberValue())
            }
        }

        mutating func literal(_ word: String) throws {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { throw error("expected a value") }
            i += w.count
        }

        mutating func numberValue() throws -> Double {
            let start = i
            func digits() -> Int { let s = i; while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }; return i - s }
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            let intStart = i
            guard digits() > 0 else { i = start; throw error("expected a value") }
            if bytes[intStart] == 0x30, i - intStart > 1 { i = intStart; throw error("a number has a leading zero") }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") { i += 1; guard digits() > 0 else { throw error("expected digits after '.'") } }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { throw error("expected digits in the exponent") }
            }
            guard let d = Double(String(decoding: bytes[start..<i], as: UTF8.self)), d.isFinite else {
                i = start
                throw error("the number is out of range")
            }
            return d
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= bytes.count else { throw error("expected four hex digits after \\u") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw error("expected four hex digits after \\u")
                }
                v = v * 16 + d
                i += 1
            }
            return v
        }

        mutating func string() throws -> String {
            i += 1  // the opening quote
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw error("a string is not closed") }
                let c = bytes[i]
                if c == UInt8(ascii: "\"") { i += 1; break }
                if c < 0x20 { throw error("a control character in a string") }
                if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
                i += 1
                guard i < bytes.count else { throw error("a string is not closed") }
                let e = bytes[i]; i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800, scalar < 0xDC00 {
                        guard i + 2 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                            throw error("a lone UTF-16 surrogate")
                        }
                        i += 2
                        let low = try hex4()
                        guard low >= 0xDC00, low < 0xE000 else { throw error("a lone UTF-16 surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00, scalar < 0xE000 {
                        throw error("a lone UTF-16 surrogate")
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default: throw error("an unknown escape '\\\(Character(Unicode.Scalar(e)))'")
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}

/// Writes JSON text (numbers as Swift prints them; non-finite numbers as null).
final class JSONWriter {
    var text = ""
    private var needsComma = false

    func object(_ body: () -> Void) { open("{"); body(); close("}") }
    func array<T>(_ items: [T], _ each: (T) -> Void) { open("["); for x in items { separate(); needsComma = false; each(x); needsComma = true }; close("]") }
    func array(_ values: [Double]) { array(values) { self.raw(Self.number($0)) } }
    func array(_ values: [Int]) { array(values) { self.raw(String($0)) } }
    func array(_ values: [String]) { array(values) { self.raw(Self.quoted($0)) } }

    func key(_ k: String) { separate(); text += Self.quoted(k); text += ":"; needsComma = false }
    func field(_ k: String, _ v: String) { key(k); raw(Self.quoted(v)) }
    func field(_ k: String, _ v: Int) { key(k); raw(String(v)) }
    func field(_ k: String, _ v: Double) { key(k); raw(Self.number(v)) }
    func field(_ k: String, _ v: Bool) { key(k); raw(v ? "true" : "false") }
    func field(_ k: String, _ v: [Int]) { key(k); array(v) }
    func field(_ k: String, _ v: [Double]) { key(k); array(v) }
    func field(_ k: String, _ v: [String]) { key(k); array(v) }

    func raw(_ s: String) { separate(); text += s; needsComma = true }

    private func separate() { if needsComma { text += "," } }
    private func open(_ c: String) { separate(); text += c; needsComma = false }
    private func close(_ c: String) { text += c; needsComma = true }

    static func number(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return "\(d)"
    }

    static func quoted(_ s: String) -> String { Safetensors.jsonString(s) }
}

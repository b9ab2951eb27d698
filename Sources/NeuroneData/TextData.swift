import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import Foundation

/// A character vocabulary: the Unicode scalars of a text, each with its token index (sorted by
/// code point, so the same text always gives the same vocabulary). Saved beside a checkpoint as
/// vocabulary.json, so that a model is only ever fed the indices it was trained on.
public struct Vocabulary: Equatable, Sendable {
    /// The characters, in token order.
    public let characters: [Unicode.Scalar]
    let index: [Unicode.Scalar: Int64]

    /// A vocabulary of `characters` (token i is characters[i]); throws if one appears twice.
    public init(characters: [Unicode.Scalar]) throws {
        var index: [Unicode.Scalar: Int64] = [:]
        for (i, c) in characters.enumerated() {
            if let j = index[c] {
                throw DataSetError(message: "the vocabulary lists the character \(Vocabulary.describe(c)) twice (tokens \(j) and \(i))")
            }
            index[c] = Int64(i)
        }
        self.characters = characters
        self.index = index
    }

    /// The vocabulary of `text`: its distinct characters in code-point order.
    public init(of text: String) {
        let distinct = Set(text.unicodeScalars).sorted { $0.value < $1.value }
        try! self.init(characters: distinct)  // distinct by construction
    }

    /// Number of tokens.
    public var count: Int { characters.count }

    /// The token of `c`, or nil when it is not in the vocabulary.
    public func token(_ c: Unicode.Scalar) -> Int64? { index[c] }

    /// The tokens of `text`. Throws naming the first character that is not in the vocabulary,
    /// with its line and column in `source` (a file name, or what the text is).
    public func encode(_ text: String, source: String) throws -> [Int64] {
        var tokens: [Int64] = []
        tokens.reserveCapacity(text.unicodeScalars.count)
        var line = 1, column = 1
        for c in text.unicodeScalars {
            guard let t = index[c] else {
                let missing = Set(text.unicodeScalars).subtracting(characters).sorted { $0.value < $1.value }
                let shown = missing.prefix(10).map(Vocabulary.describe).joined(separator: ", ") + (missing.count > 10 ? ", …" : "")
                throw DataSetError(message: "\(source), line \(line), column \(column): the character \(Vocabulary.describe(c)) is not in the vocabulary of \(count) characters the model was trained with (\(missing.count) such character\(missing.count == 1 ? "" : "s"): \(shown)); a model can only read the characters of its own vocabulary")
            }
            tokens.append(t)
            if c == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return tokens
    }

    /// The text of `tokens`; throws naming the first index outside the vocabulary.
    public func decode(_ tokens: [Int64]) throws -> String {
        var s = String.UnicodeScalarView()
        for (i, t) in tokens.enumerated() {
            guard t >= 0 && t < Int64(count) else {
                throw DataSetError(message: "token \(i) is \(t); the vocabulary has \(count) characters (0…\(count - 1))")
            }
            s.append(characters[Int(t)])
        }
        return String(s)
    }

    /// A character as a message shows it: 'a', or U+000A for control characters and spaces.
    public static func describe(_ c: Unicode.Scalar) -> String {
        let visible = c.properties.isGraphemeBase && !c.properties.isWhitespace
        return visible ? "'\(c)' (U+\(String(format: "%04X", c.value)))" : "U+\(String(format: "%04X", c.value))"
    }

    /// vocabulary.json: `{"characters": ["\n", "a", …]}`, one string per token.
    public func json() -> Data {
        let object: [String: Any] = ["characters": characters.map { String($0) }, "count": count]
        return try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// Reads a vocabulary.json, checking that it lists distinct single characters.
    public static func read(_ path: String) throws -> Vocabulary {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataSetError(message: "\(path) not found (the vocabulary is written by neurone train beside the checkpoint)", filesMissing: true)
        }
        return try decode(data, source: path)
    }

    /// A vocabulary.json's bytes (`source` names them in errors), checked as `read` does.
    public static func decode(_ data: Data, source path: String) throws -> Vocabulary {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let list = object["characters"] as? [Any] else {
            throw DataSetError(message: "\(path) is corrupt: expected a JSON object with a \"characters\" list")
        }
        var characters: [Unicode.Scalar] = []
        for (i, item) in list.enumerated() {
            guard let s = item as? String, s.unicodeScalars.count == 1 else {
                throw DataSetError(message: "\(path) is corrupt: entry \(i) of \"characters\" is \(item); expected a string of one character")
            }
            characters.append(s.unicodeScalars.first!)
        }
        if characters.isEmpty { throw DataSetError(message: "\(path) is corrupt: the vocabulary is empty") }
        do { return try Vocabulary(characters: characters) }
        catch let e as DataSetError { throw DataSetError(message: "\(path) is corrupt: \(e.message)") }
    }
}

/// Character-level text data: UTF-8 files read and checked, and cut into sequences for a
/// language model that predicts each next character.
public enum TextData {
    /// The largest text read, in bytes (token tensors take 8 bytes per character).
    public static let maxBytes = 1 << 28

    /// The UTF-8 text of the file at `path`. Throws naming the file when it is missing, empty,
    /// larger than `maxBytes`, or not UTF-8 (with the byte offset and line of the first bad byte).
    public static func read(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DataSetError(message: "text file \(path) not found", filesMissing: true)
        }
        if isDir.boolValue { throw DataSetError(message: "\(path) is a directory; a text data set is one UTF-8 file") }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maxBytes else {
            throw DataSetError(message: "text file \(path) holds \(size) bytes; at most \(maxBytes) (256 MiB) are read")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataSetError(message: "cannot read text file \(path)")
        }
        return try decode([UInt8](data), source: path)
    }

    /// `bytes` as UTF-8 text; throws naming `source` when they are empty or not valid UTF-8.
    public static func decode(_ bytes: [UInt8], source: String) throws -> String {
        if bytes.isEmpty { throw DataSetError(message: "text file \(source) is empty; a language model needs text to learn from") }
        if let bad = firstInvalidUTF8(bytes) {
            let line = bytes[..<bad].reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            throw DataSetError(message: "text file \(source) is not UTF-8: byte \(bad) (line \(line)) is 0x\(String(format: "%02X", bytes[bad])), which does not start or continue a UTF-8 character; convert it first (e.g. iconv -f latin1 -t utf-8)")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The offset of the first byte that is not part of a valid UTF-8 sequence, or nil.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let length: Int, low: UInt8, high: UInt8  // bounds of the second byte (no overlongs, surrogates, > U+10FFFF)
            switch b {
            case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
            case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
            case 0xED: (length, low, high) = (3, 0x80, 0x9F)
            case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
            case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
            case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
            default: return i
            }
            guard i + length <= n else { return i }
            guard (low...high).contains(bytes[i + 1]) else { return i + 1 }
            for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return i + k }
            i += length
        }
        return nil
    }

    /// The language-model samples of a token stream: sequence i is tokens[i·length ..< (i+1)·length]
    /// and its labels are the same positions moved on by one (the next characters). Inputs and
    /// labels are int64 [N, length]. Throws when the text is shorter than one sequence and its
    /// next character.
    public static func sequences(_ tokens: [Int64], length: Int, vocabulary: Vocabulary, source: String) throws -> TensorDataset {
        guard length > 0 else { throw DataSetError(message: "the sequence length must be positive, got \(length)") }
        let n = tokens.count > length ? (tokens.count - 1) / length : 0
        guard n > 0 else {
            throw DataSetError(message: "\(source) holds \(tokens.count) characters; sequences of \(length) need at least \(length + 1) (a sequence and the character after it); use a longer text or a shorter --seq-len")
        }
        let x = Tensor.fromHost([n, length], dtype: .int64) { raw in
            let p = raw.assumingMemoryBound(to: Int64.self)
            tokens.withUnsafeBufferPointer { _ = memcpy(p, $0.baseAddress!, n * length * 8) }
        }
        let y = Tensor.fromHost([n, length], dtype: .int64) { raw in
            let p = raw.assumingMemoryBound(to: Int64.self)
            tokens.withUnsafeBufferPointer { _ = memcpy(p, $0.baseAddress! + 1, n * length * 8) }
        }
        return TensorDataset(inputs: x, labels: y, classNames: vocabulary.characters.map { String($0) })
    }

    /// A batch [N, T] of token sequences that all have one length T. Sequences of different
    /// lengths cannot share a batch without padding: throws naming the first that differs.
    public static func batch(_ sequences: [[Int64]]) throws -> Tensor {
        guard let first = sequences.first else { throw DataSetError(message: "a batch needs at least one sequence; got none") }
        if let (i, s) = sequences.enumerated().first(where: { $0.element.count != first.count }) {
            throw DataSetError(message: "sequence \(i) of the batch has \(s.count) tokens, but sequence 0 has \(first.count): sequences in one batch need one length; pad them (an embedding's padding_idx) or cut them to one length")
        }
        guard !first.isEmpty else { throw DataSetError(message: "the sequences of the batch are empty") }
        return Tensor(sequences.flatMap { $0 }, shape: [sequences.count, first.count])
    }

    /// The text data sets known by name: a name, the files, and the Debian package providing them.
    public struct KnownText: Sendable {
        /// The name `--dataset` takes.
        public let name: String
        /// Where Debian installs it: a file, or a directory of files.
        public let path: String
        /// The Debian package.
        public let package: String
    }

    /// Debian's word list and fortune cookies.
    public static let known: [KnownText] = [
        KnownText(name: "words", path: "/usr/share/dict/words", package: "wamerican"),
        KnownText(name: "fortunes", path: "/usr/share/games/fortunes", package: "fortunes"),
    ]

    /// The text of a known data set: the word list as it is (one word per line); the fortune files
    /// (every regular file of the directory but the .dat indexes, in name order) with their `%`
    /// separator lines turned into empty lines. `directory` is searched first (for a file of the
    /// data set's name).
    public static func text(of known: KnownText, directory: String? = nil) throws -> (text: String, source: String) {
        if let d = directory, FileManager.default.fileExists(atPath: d + "/" + known.name) {
            return (try read(d + "/" + known.name), d + "/" + known.name)
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: known.path, isDirectory: &isDir) else {
            throw DataSetError(message: "the data set '\(known.name)' reads \(known.path), which is not installed: apt-get install \(known.package) (Debian/Ubuntu), or give any UTF-8 text file as --dataset PATH.txt", filesMissing: true)
        }
        guard isDir.boolValue else { return (try read(known.path), known.path) }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: known.path)) ?? []).sorted()
        var parts: [String] = []
        for name in names where !name.hasPrefix(".") && !name.hasSuffix(".dat") {
            let path = known.path + "/" + name
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular else { continue }  // the .u8 links, directories
            let text = try read(path)
            parts.append(text.split(separator: "\n", omittingEmptySubsequences: false).map { $0 == "%" ? "" : String($0) }.joined(separator: "\n"))
        }
        guard !parts.isEmpty else {
            throw DataSetError(message: "the data set '\(known.name)' reads the files of \(known.path), which holds none: apt-get install \(known.package)", filesMissing: true)
        }
        let text = parts.joined(separator: "\n")
        guard text.utf8.count <= maxBytes else { throw DataSetError(message: "the files of \(known.path) hold more than \(maxBytes) bytes together") }
        return (text, known.path)
    }
}

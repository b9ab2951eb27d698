import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import Foundation

/// A CSV table of numeric feature columns and one label column (RFC 4180: commas, optional
/// double quotes with "" for a quote; gzip or bzip2 compression detected). The first row is a
/// header when any of its feature fields is not a number. Labels that are all integers keep their
/// values as class indices when they run from 0 (names "0", "1", …); any other labels (strings,
/// or integers with gaps or a different start) are numbered in sorted order and keep their text
/// as class names.
public enum CSVTable {
    /// Splits one line into fields; nil when a quote is left open.
    static func fields(_ line: Substring) -> [String]? {
        var out: [String] = [], current = "", quoted = false, wasQuoted = false
        var it = line.makeIterator()
        while let ch = it.next() {
            if quoted {
                if ch == "\"" {
                    var peek = it
                    if peek.next() == "\"" { current.append("\""); it = peek } else { quoted = false }
                } else { current.append(ch) }
            } else if ch == "\"" && current.isEmpty && !wasQuoted {
                quoted = true; wasQuoted = true
            } else if ch == "," {
                out.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces)); current = ""; wasQuoted = false
            } else { current.append(ch) }
        }
        if quoted { return nil }
        out.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces))
        return out
    }

    /// Parses a CSV table. `labelColumn` is a header name or a 0-based index (default: the last
    /// column). Errors name the file, the line and the column.
    public static func parse(_ text: String, source: String, labelColumn: String? = nil) throws -> TensorDataset {
        func bad(_ why: String) -> DataSetError { DataSetError(message: "\(source): \(why)") }
        var rows: [(Int, [String])] = []
        // "\r\n" is one Character in Swift, so isNewline splits Windows and Unix lines alike.
        for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).enumerated() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let f = fields(line) else { throw bad("line \(i + 1): unterminated quoted field") }
            rows.append((i + 1, f))
        }
        guard let first = rows.first else { throw bad("no rows (empty file)") }
        let width = first.1.count
        guard width >= 2 else { throw bad("line \(first.0): \(width) column; expected feature columns and a label column") }
        // The label column: a header name or an index.
        func labelIndex(_ header: [String]?) throws -> Int {
            guard let spec = labelColumn else { return width - 1 }
            if let h = header, let i = h.firstIndex(of: spec) { return i }
            if let i = Int(spec), (0..<width).contains(i) { return i }
            let names = header.map { " (columns: \($0.joined(separator: ", ")))" } ?? " (the file has no header; give a 0-based index below \(width))"
            throw bad("no label column '\(spec)'\(names)")
        }
        let guessLabel: Int = {
            if let spec = labelColumn {
                if let i = first.1.firstIndex(of: spec) { return i }
                if let i = Int(spec), (0..<width).contains(i) { return i }
            }
            return width - 1
        }()
        let hasHeader = first.1.enumerated().contains { $0.offset != guessLabel && Double($0.element) == nil }
            || (labelColumn != nil && first.1.contains(labelColumn!))
        let header = hasHeader ? first.1 : nil
        let label = try labelIndex(header)
        let body = hasHeader ? Array(rows.dropFirst()) : rows
        guard !body.isEmpty else { throw bad("a header but no data rows") }
        var features: [Float] = [], labelTexts: [String] = []
        features.reserveCapacity(body.count * (width - 1))
        for (lineNumber, f) in body {
            guard f.count == width else { throw bad("line \(lineNumber): \(f.count) fields; expected \(width) (as on line \(first.0))") }
            for (j, v) in f.enumerated() where j != label {
                guard let x = Float(v) else {
                    let name = header.map { " '\($0[j])'" } ?? ""
                    throw bad("line \(lineNumber), column \(j + 1)\(name): '\(v)' is not a number")
                }
                features.append(x)
            }
            labelTexts.append(f[label])
        }
        let ints = labelTexts.compactMap { Int($0) }
        var names: [String], indices: [Int64]
        if ints.count == labelTexts.count, let lo = ints.min(), let hi = ints.max(), lo == 0, hi < ints.count, Set(ints).count == hi + 1 {
            names = (0...hi).map(String.init); indices = ints.map { Int64($0) }
        } else {
            let unique = ints.count == labelTexts.count ? Set(ints).sorted().map(String.init) : Set(labelTexts).sorted()
            let position = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($1, Int64($0)) })
            names = unique
            indices = labelTexts.map { position[ints.count == labelTexts.count ? String(Int($0)!) : $0]! }
        }
        return TensorDataset(inputs: Tensor(features, shape: [body.count, width - 1]), labels: Tensor(indices), classNames: names)
    }

    /// Reads and parses a CSV file (plain, .gz or .bz2).
    public static func load(_ path: String, labelColumn: String? = nil) throws -> TensorDataset {
        let bytes = try CompressedFile.read(path)
        return try parse(String(decoding: bytes, as: UTF8.self), source: path, labelColumn: labelColumn)
    }
}

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import Foundation

/// The USPS handwritten digits (16×16, 7,291 train + 2,007 test) in their two usual text forms:
/// - `zip.train` / `zip.test` (optionally .gz): one digit per line, the label (0–9, written as a
///   number such as "6.0000") then 256 grey values in [−1, 1], separated by spaces;
/// - LIBSVM's `usps` / `usps.t` (optionally .bz2): "LABEL 1:v1 2:v2 …" with labels 1–10 for the
///   digits 0–9 and values in [−1, 1]; missing indices are 0.
/// Pixels are mapped to [0, 1] by (v + 1) / 2; images are [N, 1, 16, 16].
public enum USPS {
    /// The file pairs looked for, in order: (train, test).
    static let filePairs = [("zip.train", "zip.test"), ("usps", "usps.t")]

    /// Parses either text form; `source` names the file in errors (with the line number).
    public static func parse(_ bytes: [UInt8], source: String) throws -> TensorDataset {
        var pixels: [Float] = [], labels: [Int64] = []
        var lineNumber = 0
        for line in bytes.split(separator: 10, omittingEmptySubsequences: false) {
            lineNumber += 1
            let fields = line.split(whereSeparator: { $0 == 32 || $0 == 9 || $0 == 13 })
            if fields.isEmpty { continue }
            func bad(_ why: String) -> DataSetError { DataSetError(message: "\(source), line \(lineNumber): \(why)") }
            // A whole number first: Int(_:) of a NaN, an infinity or 1e300 would trap (found by the fuzzer).
            guard let labelValue = Double(String(decoding: fields[0], as: UTF8.self)), labelValue.isFinite,
                  labelValue.rounded() == labelValue, abs(labelValue) <= 1_000_000 else {
                throw bad("the label '\(String(decoding: fields[0], as: UTF8.self))' is not a whole number (0…9, or 1…10 in LIBSVM files)")
            }
            var row = [Float](repeating: -1, count: 256)
            let libsvm = fields.count > 1 && fields[1].contains(UInt8(ascii: ":"))
            let label: Int
            if libsvm {
                label = Int(labelValue) - 1
                for i in 0..<256 { row[i] = 0 }
                for f in fields.dropFirst() {
                    let parts = f.split(separator: UInt8(ascii: ":"))
                    guard parts.count == 2, let k = Int(String(decoding: parts[0], as: UTF8.self)),
                          let v = Float(String(decoding: parts[1], as: UTF8.self)), (1...256).contains(k) else {
                        throw bad("'\(String(decoding: f, as: UTF8.self))' is not INDEX:VALUE with an index in 1…256")
                    }
                    row[k - 1] = v
                }
            } else {
                label = Int(labelValue)
                guard fields.count == 257 else { throw bad("\(fields.count - 1) pixel values; expected 256") }
                for i in 0..<256 {
                    guard let v = Float(String(decoding: fields[i + 1], as: UTF8.self)) else {
                        throw bad("pixel \(i + 1) '\(String(decoding: fields[i + 1], as: UTF8.self))' is not a number")
                    }
                    row[i] = v
                }
            }
            guard Double(Int(labelValue)) == labelValue, (0...9).contains(label) else {
                throw bad("label \(String(decoding: fields[0], as: UTF8.self)) is out of range (\(libsvm ? "1…10" : "0…9"))")
            }
            pixels += row.map { ($0 + 1) / 2 }
            labels.append(Int64(label))
        }
        guard !labels.isEmpty else { throw DataSetError(message: "\(source): no samples (empty file?)") }
        return TensorDataset(inputs: Tensor(pixels, shape: [labels.count, 1, 16, 16]), labels: Tensor(labels),
                             classNames: (0..<10).map(String.init))
    }
}

extension DataSets {
    /// USPS from `zip.train`/`zip.test` (.gz or raw) or LIBSVM's `usps`/`usps.t` (.bz2 or raw).
    public static func usps(dataDir: String?) throws -> DataSetSplits {
        let dirs = searchDirectories("usps", dataDir: dataDir)
        for (trainName, testName) in USPS.filePairs {
            for d in dirs {
                let suffixes = ["", ".gz", ".bz2"]
                guard let train = suffixes.map({ d + "/" + trainName + $0 }).first(where: FileManager.default.fileExists),
                      let test = suffixes.map({ d + "/" + testName + $0 }).first(where: FileManager.default.fileExists) else { continue }
                let tr = try USPS.parse(CompressedFile.read(train), source: train)
                let te = try USPS.parse(CompressedFile.read(test), source: test)
                return DataSetSplits(name: "usps", train: tr, test: te,
                                     description: "usps from \(d): \(tr.count) train, \(te.count) test images 1×16×16, 10 classes")
            }
        }
        throw DataSetError(message: "usps: could not find zip.train[.gz] + zip.test[.gz] or usps[.bz2] + usps.t[.bz2]; looked in \(dirs.joined(separator: ", ")). Copy either pair (the ESL book's zip.train.gz/zip.test.gz, or LIBSVM's usps.bz2/usps.t.bz2) into one of these directories, pass --data-dir DIR, or download them with: neurone data download usps (or --download)", filesMissing: true)
    }
}

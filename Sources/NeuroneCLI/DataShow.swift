import ArgumentParser
import Foundation
import Neurone

struct DataShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print samples' labels (a text set's sequences as text) and draw image samples into a PNG grid.",
        discussion: "neurone data show fashion-mnist --index 0 --count 16 --out samples.png")

    @Argument(help: "The data set name (or a CSV or text file).")
    var name: String

    @Option(help: "Index of the first sample.")
    var index: Int = 0

    @Option(help: "Number of samples, from --index on.")
    var count: Int = 1

    @Option(help: "train or test.")
    var split: String = "train"

    @Option(help: "PNG file to draw the images into (image data sets).")
    var out: String?

    @Option(help: "Enlarge each pixel this many times in the PNG.")
    var scale: Int = 4

    @Option(help: "Seed of synthetic data sets.")
    var seed: UInt64 = 0

    @Option(name: .customLong("data-dir"), help: "Directory holding data-set files.")
    var dataDir: String?

    @Option(name: .customLong("label-column"), help: "For a CSV file: the label column's name or 0-based index.")
    var labelColumn: String?

    @Flag(help: "Download the files into ~/.cache/neurone/NAME when they are not found.")
    var download = false

    func validate() throws {
        if split != "test" && split != "train" { throw ValidationError("--split must be 'test' or 'train', got '\(split)'") }
        if index < 0 { throw ValidationError("--index must be ≥ 0, got \(index)") }
        if count <= 0 { throw ValidationError("--count must be positive, got \(count)") }
        if !(1...64).contains(scale) { throw ValidationError("--scale must be in 1…64, got \(scale)") }
        if let o = out, !o.lowercased().hasSuffix(".png") { throw ValidationError("--out must name a .png file, got '\(o)'") }
    }

    func run() throws {
        let d = try DataSets.load(name, seed: seed, dataDir: dataDir, labelColumn: labelColumn, download: download,
                                  log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        let part = split == "test" ? d.test : d.train
        guard index + count <= part.count else {
            throw ValidationError("\(d.name) \(split) has \(part.count) samples; --index \(index) --count \(count) asks for up to index \(index + count - 1)")
        }
        let picked = part.subset(Array(index..<(index + count)))
        if let vocabulary = d.vocabulary {
            // a text set: each sequence as text, and the characters it is labelled with
            if out != nil { throw ValidationError("\(d.name) is text: sequences of characters, not images; --out draws only image data sets") }
            func shown(_ row: Tensor) throws -> String {
                try vocabulary.decode(row.toArray(as: Int64.self)).replacingOccurrences(of: "\n", with: "⏎")
            }
            for k in 0..<count {
                print("\(split)[\(index + k)]: \(try shown(picked.inputs[k]))")
                print("  next characters: \(try shown(picked.labels[k]))")
            }
            return
        }
        let labels = picked.labels.toArray(as: Int64.self)
        let isImage = part.sampleShape.count == 3 && (part.sampleShape[0] == 1 || part.sampleShape[0] == 3)
        for (k, l) in labels.enumerated() {
            let name = Int(l) < part.classNames.count ? " (\(part.classNames[Int(l)]))" : ""
            var line = "\(split)[\(index + k)]: label \(l)\(name)"
            if !isImage {
                let v = picked.inputs[k].flatten().toArray(as: Double.self).prefix(16).map { String(format: "%.4g", $0) }
                line += "  features [\(v.joined(separator: ", "))\(part.sampleShape.reduce(1, *) > 16 ? ", …" : "")]"
            }
            print(line)
        }
        guard let path = out else { return }
        guard isImage else {
            throw ValidationError("\(d.name) holds feature vectors of shape \(part.sampleShape), not images; --out draws only image data sets")
        }
        // Images in ±1 (the 2×2 patterns) are drawn from −1 (black) to +1 (white).
        let lo = picked.inputs.min().item() < 0 ? -1.0 : 0.0
        try PNG.write(imageGrid(picked.inputs, scale: scale, low: lo, high: 1), to: path)
        print("wrote \(path)")
    }
}

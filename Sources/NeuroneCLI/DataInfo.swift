import ArgumentParser
import Foundation
import Neurone

struct DataInfo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Load a data set and print where it was found, its sizes and classes.")

    @Argument(help: "The data set name.")
    var name: String

    @Option(name: .customLong("data-dir"), help: "Directory holding data-set files.")
    var dataDir: String?

    @Flag(help: "Download the files into ~/.cache/neurone/NAME when they are not found.")
    var download = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let start = Date()
        let d = try DataSets.load(name, dataDir: dataDir, download: download, log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        let seconds = Date().timeIntervalSince(start)
        // per class: samples, or for a text set, occurrences of each character among the labels
        // (a histogram, not a one-hot matrix: the word list has ~10⁶ labels of 70 classes)
        var counts = [Int](repeating: 0, count: Swift.max(d.classCount, 1))
        for part in [d.train.labels, d.test.labels] {
            for l in part.toArray(as: Int64.self) where l >= 0 && Int(l) < counts.count { counts[Int(l)] += 1 }
        }
        let names = d.vocabulary.map { $0.characters.map(Vocabulary.describe) } ?? d.train.classNames
        if json {
            print("{\"name\":\(jsonString(d.name)),\"train\":\(d.train.count),\"test\":\(d.test.count),\"sample_shape\":[\(d.train.sampleShape.map(String.init).joined(separator: ","))],\"classes\":[\(d.train.classNames.map(jsonString).joined(separator: ","))],\"class_counts\":[\(counts.map(String.init).joined(separator: ","))],\"load_seconds\":\(String(format: "%.3f", seconds))}")
        } else {
            print(d.description)
            print("train \(d.train.count), test \(d.test.count), sample shape \(d.train.sampleShape.map(String.init).joined(separator: "×")), loaded in \(String(format: "%.2f", seconds)) s")
            let unit = d.vocabulary == nil ? "samples" : "times"
            for (i, c) in names.enumerated() { print("  \(d.vocabulary == nil ? "class" : "token") \(i) \(c): \(i < counts.count ? counts[i] : 0) \(unit)") }
        }
    }
}

import ArgumentParser
import Foundation
import Neurone

/// `neurone data`: the data sets Neurone knows, and where they are found.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "List data sets and show where they are found, their sizes and classes.",
        subcommands: [DataList.self, DataInfo.self])
}

struct DataList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The data sets --dataset accepts.")

    @Flag(help: "Print one JSON object per line.")
    var json = false

    func run() {
        for e in DataSets.all {
            if json { print("{\"name\":\(jsonString(e.name)),\"summary\":\(jsonString(e.summary))}") }
            else { print("\(e.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(e.summary)") }
        }
    }
}

struct DataInfo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Load a data set and print where it was found, its sizes and classes.")

    @Argument(help: "The data set name.")
    var name: String

    @Option(name: .customLong("data-dir"), help: "Directory holding data-set files.")
    var dataDir: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let start = Date()
        let d = try DataSets.load(name, dataDir: dataDir)
        let seconds = Date().timeIntervalSince(start)
        let counts = Tensor.cat([d.train.labels, d.test.labels]).oneHot(numClasses: Swift.max(d.classCount, 1)).sum(dim: 0).toArray(as: Int.self)
        if json {
            print("{\"name\":\(jsonString(d.name)),\"train\":\(d.train.count),\"test\":\(d.test.count),\"sample_shape\":[\(d.train.sampleShape.map(String.init).joined(separator: ","))],\"classes\":[\(d.train.classNames.map(jsonString).joined(separator: ","))],\"class_counts\":[\(counts.map(String.init).joined(separator: ","))],\"load_seconds\":\(String(format: "%.3f", seconds))}")
        } else {
            print(d.description)
            print("train \(d.train.count), test \(d.test.count), sample shape \(d.train.sampleShape.map(String.init).joined(separator: "×")), loaded in \(String(format: "%.2f", seconds)) s")
            for (i, c) in d.train.classNames.enumerated() { print("  class \(i) \(c): \(i < counts.count ? counts[i] : 0) samples") }
        }
    }
}

import ArgumentParser
import Foundation
import Neurone

struct DataDownload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download a data set's files (checksums verified) into ~/.cache/neurone/NAME or --dir.",
        discussion: "Downloadable: \(DataSets.sources.keys.sorted().joined(separator: ", ")). Needs curl or wget and a network; files already there with the right checksum are kept.")

    @Argument(help: "The data set: \(DataSets.sources.keys.sorted().joined(separator: ", ")).")
    var name: String

    @Option(help: "Directory to download into (default: ~/.cache/neurone/NAME, where --dataset looks).")
    var dir: String?

    @Option(help: "A mirror (URL prefix ending in /) to use instead of the published ones; repeatable.")
    var mirror: [String] = []

    func run() throws {
        let paths = try DataSets.download(name, into: dir, mirrors: mirror.isEmpty ? nil : mirror, log: { print($0) })
        print("\(name): \(paths.count) files ready in \(URL(fileURLWithPath: paths[0]).deletingLastPathComponent().path)")
    }
}

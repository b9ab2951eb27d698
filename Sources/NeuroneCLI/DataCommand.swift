import ArgumentParser
import Foundation
import Neurone

/// `neurone data`: the data sets Neurone knows, and where they are found.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "List, download, describe and draw data sets.",
        subcommands: [DataList.self, DataInfo.self, DataShow.self, DataDownload.self])
}

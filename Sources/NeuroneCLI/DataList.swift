import ArgumentParser
import Foundation
import Neurone

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

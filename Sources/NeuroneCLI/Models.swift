import ArgumentParser
import Foundation
import Neurone

/// `neurone models`: the named models.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the named models that --model accepts.")

    @Flag(help: "Print one JSON object per line.")
    var json = false

    func run() {
        for e in NamedModels.all {
            if json {
                print("{\"name\":\"\(e.name)\",\"input\":[\(e.input.map(String.init).joined(separator: ","))],\"summary\":\"\(e.summary)\"}")
            } else {
                print("\(e.name.padding(toLength: 12, withPad: " ", startingAt: 0)) input \(e.input.map(String.init).joined(separator: "x"))  \(e.summary)")
            }
        }
    }
}

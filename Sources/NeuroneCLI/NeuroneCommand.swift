import ArgumentParser
import Foundation
import Neurone

@main
struct NeuroneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neurone",
        abstract: "Neurone: tensors, autograd and neural networks in Swift.",
        version: "0.1.0",
        subcommands: [Train.self, Eval.self, Predict.self, Sample.self, Export.self, Import.self, Serve.self, DataCommand.self, Summary.self, Models.self, Explain.self, Bench.self, Info.self])

    /// The NEURONE_* variables are checked before any command runs: a value the library would
    /// pass over (falling back to its default) stops the program with what is wrong and what is expected.
    static func main() {
        let problems = NeuroneEnvironment.problems()
        if !problems.isEmpty {
            for p in problems { FileHandle.standardError.write("Error: \(p)\n".data(using: .utf8)!) }
            Foundation.exit(64)  // EX_USAGE, as ArgumentParser's validation errors
        }
        main(nil)
    }
}

import ArgumentParser
import Neurone

@main
struct NeuroneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neurone",
        abstract: "Neurone: tensors, autograd and neural networks in Swift.",
        version: "0.1.0",
        subcommands: [Train.self, Eval.self, Predict.self, Sample.self, Export.self, Import.self, DataCommand.self, Summary.self, Models.self, Explain.self, Bench.self, Info.self])
}

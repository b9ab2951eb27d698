import ArgumentParser
import Foundation
import Neurone

/// `neurone summary`: layers, output shapes, parameters and multiplications of a model.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model's layers, output shapes, parameter counts and multiplications.",
        discussion: """
        --model takes a named model (\(NamedModels.all.map { $0.name }.joined(separator: ", "))) or a one-line spec, e.g.
          neurone summary --model "conv(4,3,padding=1) relu maxpool(2) flatten linear(10) softmax" --input 1x28x28
        See docs/MODELS.md for the spec grammar and every layer name.
        """)

    @Option(help: "A named model or a quoted model spec.")
    var model: String

    @Option(help: "Input shape of one sample: C×H×W as 1x28x28, C×L as 3x100, or a feature count such as 784 (default: the named model's).")
    var input: String?

    @Flag(help: "Print one JSON object: {\"layers\":[…],\"totalParams\":N,\"trainableParams\":N,\"totalMultiplications\":N,\"trainingMultiplications\":N}.")
    var json = false

    func run() throws {
        let shape = try input.map { try ModelSpec.parseShape($0) }
        let (module, inputShape) = try NamedModels.make(model, input: shape, generator: Generator(seed: 0))
        let summary = module.summary(input: inputShape)
        print(json ? summary.json : summary.table)
    }
}

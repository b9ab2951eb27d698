import ArgumentParser
import Foundation
import Neurone

struct ExplainConv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "For each layer: the output-size formula with the numbers put in, the parameter formula and the multiplication formula.",
        discussion: "Example (the course's exam network): neurone explain conv --input 1x28x28 --model \"conv(4,3,stride=1,padding=1) relu maxpool(2) conv(8,4,stride=4,padding=1) relu maxpool(2) flatten linear(128) relu linear(10) softmax\"")

    @Option(help: "A named model or a model spec.")
    var model: String = "course-cnn"

    @Option(help: "Per-sample input shape, e.g. 1x28x28 (default: the named model's).")
    var input: String?

    func run() throws {
        let shape: [Int]
        if let s = input { shape = try ModelSpec.parseShape(s) }
        else if let e = NamedModels.entry(model) { shape = e.input }
        else { throw ValidationError("a model spec needs --input (e.g. 1x28x28)") }
        let rows = try ConvArithmetic.explain(model, input: shape)
        print("input \(shape.map(String.init).joined(separator: "×"))")
        for r in rows {
            print("")
            print("\(r.layer): \(r.settings)  →  \(r.outputShape.map(String.init).joined(separator: "×"))")
            for l in r.lines { print("  \(l)") }
        }
        print("")
        print("total: \(rows.reduce(0) { $0 + $1.params }) parameters, \(rows.reduce(0) { $0 + $1.multiplications }) multiplications per sample")
    }
}

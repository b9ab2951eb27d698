import ArgumentParser
import Foundation
import Neurone

struct ExplainVanishing: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vanishing",
        abstract: "The gradient norm reaching each layer of a deep fully connected network, as a table and an SVG.",
        discussion: "A stack of --depth Linear(width, width) layers with the activation, random inputs, a linear head to 10 classes and cross-entropy; one backward pass in float64.")

    @Option(help: "Activation: sigmoid, tanh, relu, leakyrelu, identity.")
    var activation: String = "sigmoid"

    @Option(help: "Number of layers.")
    var depth: Int = 10

    @Option(help: "Units per layer.")
    var width: Int = 64

    @Option(help: "Initialisation: standard (U[−1/√n, 1/√n]), glorot, he.")
    var initialisation: String = "standard"

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    @Option(help: "Where to write the SVG (default: vanishing-ACTIVATION.svg).")
    var out: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let act = try parseActivation(activation)
        guard let ini = GradientFlow.Initialisation(rawValue: initialisation.lowercased()) else {
            throw ValidationError("unknown initialisation '\(initialisation)'; valid: standard, glorot, he")
        }
        let layers: [GradientFlow.Layer]
        do { layers = try GradientFlow.run(activation: act, depth: depth, width: width, initialisation: ini, seed: seed) }
        catch let e as ExplainError { throw ValidationError(e.message) }
        let path = out ?? "vanishing-\(act.rawValue).svg"
        try writeAtomically(GradientFlow.normsSVG(layers, title: "‖∂L/∂W‖ per layer, \(act.rawValue), \(ini.rawValue) init"), to: path)
        let last = layers.last!.weightGradientNorm
        if json {
            let rows = layers.map { "{\"layer\":\($0.index),\"gradient_norm\":\($0.weightGradientNorm),\"mean_abs_activation\":\($0.meanAbsActivation)}" }
            print("{\"activation\":\"\(act.rawValue)\",\"depth\":\(depth),\"width\":\(width),\"init\":\"\(ini.rawValue)\",\"layers\":[\(rows.joined(separator: ","))],\"svg\":\(jsonString(path))}")
            return
        }
        print("\(depth) layers of \(width) \(act.rawValue) units, \(ini.rawValue) initialisation: ‖∂L/∂W‖ per layer (layer 1 is next to the input)")
        print("  layer   ‖∂L/∂W‖       relative to layer \(depth)   mean |activation|")
        for l in layers {
            print(String(format: "  %5d   %.3e     %.3e              %.4f", l.index, l.weightGradientNorm, l.weightGradientNorm / last, l.meanAbsActivation))
        }
        print("wrote \(path)")
    }
}

import ArgumentParser
import Foundation
import Neurone

struct ExplainInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Histograms of back-propagated gradients per layer under standard and normalized (Glorot) initialisation, one SVG (Glorot & Bengio 2010).")

    @Option(help: "Activation: sigmoid, tanh, relu, leakyrelu, identity.")
    var activation: String = "tanh"

    @Option(help: "Number of layers.")
    var layers: Int = 5

    @Option(help: "Units per layer.")
    var width: Int = 256

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    @Option(help: "Where to write the SVG.")
    var out: String = "init-histograms.svg"

    func run() throws {
        let act = try parseActivation(activation)
        var runs: [(String, [GradientFlow.Layer])] = []
        for ini in [GradientFlow.Initialisation.standard, .glorot] {
            do { runs.append((ini == .standard ? "standard" : "normalized (Glorot)", try GradientFlow.run(activation: act, depth: layers, width: width, batch: 256, initialisation: ini, seed: seed))) }
            catch let e as ExplainError { throw ValidationError(e.message) }
        }
        try writeAtomically(GradientFlow.histogramsSVG(runs), to: out)
        print("\(layers) \(act.rawValue) layers of \(width) units: spread (standard deviation) of the back-propagated gradients ∂L/∂z per layer")
        print("  layer   standard      normalized (Glorot)")
        func sd(_ v: [Double]) -> Double { let m = v.reduce(0, +) / Double(v.count); return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)).squareRoot() }
        for i in 0..<layers {
            print(String(format: "  %5d   %.3e     %.3e", i + 1, sd(runs[0].1[i].backpropagated), sd(runs[1].1[i].backpropagated)))
        }
        let ratio = runs.map { sd($0.1.last!.backpropagated) / sd($0.1.first!.backpropagated) }
        print(String(format: "spread at layer %d ÷ spread at layer 1: standard %.1f, normalized %.1f (1 would mean no shrinking towards the input)", layers, ratio[0], ratio[1]))
        print("wrote \(out)")
    }
}

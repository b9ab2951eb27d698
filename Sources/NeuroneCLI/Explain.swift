import ArgumentParser
import Foundation
import Neurone

/// `neurone explain`: the numbers behind the course's exercises.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the numbers behind the course: back-propagation step by step, and more.",
        subcommands: [ExplainBackprop.self, ExplainActivationCommand.self, ExplainVanishing.self, ExplainInit.self, ExplainConv.self])
}

/// The activation named on the command line, or a usage error listing the valid names.
func parseActivation(_ name: String) throws -> ExplainActivation {
    guard let a = ExplainActivation(rawValue: name.lowercased()) else {
        throw ValidationError("unknown activation '\(name)'; valid: \(ExplainActivation.allCases.map { $0.rawValue }.joined(separator: ", "))")
    }
    return a
}

/// Parses "0.05,0.10" (commas or spaces).
func parseNumbers(_ text: String, _ option: String) throws -> [Double] {
    let parts = text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    let values = parts.compactMap(Double.init)
    guard !parts.isEmpty, values.count == parts.count else {
        throw ValidationError("\(option): expected numbers separated by commas, got '\(text)'")
    }
    return values
}

struct ExplainBackprop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "One gradient step of a one-hidden-layer network, every chain-rule factor shown (default: COURSE.md §4).",
        discussion: """
        The default is the course's worked example: a 2-2-2 network, sigmoid on every neuron, E = Σ ½(y − a)², η = 0.5,
        x = (0.05, 0.10), y = (0.01, 0.99), w1…w4 = 0.15, 0.20, 0.25, 0.30, w5…w8 = 0.40, 0.45, 0.50, 0.55,
        b1 = 0.35 and b2 = 0.60 shared by the neurons of their layer. Values are float64, from Neurone's autograd;
        each chain-rule product is printed beside the gradient autograd gives. docs/course/backprop.md explains the output.
        """)

    @Option(help: "Inputs x, comma-separated.")
    var inputs: String = "0.05,0.10"

    @Option(help: "Targets y, comma-separated (their count is the number of outputs).")
    var targets: String = "0.01,0.99"

    @Option(name: .customLong("hidden-weights"), help: "Hidden-layer weights row by row (w1, w2 for h1, then w3, w4 for h2, …).")
    var hiddenWeights: String = "0.15,0.20,0.25,0.30"

    @Option(name: .customLong("output-weights"), help: "Output-layer weights row by row (w5, w6 for o1, then w7, w8 for o2, …).")
    var outputWeights: String = "0.40,0.45,0.50,0.55"

    @Option(name: .customLong("hidden-bias"), help: "One value shared by the hidden neurons, or one per hidden neuron.")
    var hiddenBias: String = "0.35"

    @Option(name: .customLong("output-bias"), help: "One value shared by the output neurons, or one per output neuron.")
    var outputBias: String = "0.60"

    @Option(help: "Activation of every neuron: \(ExplainActivation.allCases.map { $0.rawValue }.joined(separator: ", ")).")
    var activation: String = "sigmoid"

    @Option(help: "Learning rate η.")
    var lr: Double = 0.5

    @Option(help: "Gradient steps: the first is shown in full, then the loss every --every steps.")
    var steps: Int = 1

    @Option(help: "With --steps: print the loss every this many steps (default: steps/10).")
    var every: Int?

    @Flag(name: .customLong("freeze-bias"), help: "Keep the biases fixed (only the weights learn).")
    var freezeBias = false

    @Flag(help: "Print one JSON object (keys documented in docs/course/backprop.md).")
    var json = false

    @Flag(help: "Print Markdown tables.")
    var markdown = false

    func validate() throws {
        if steps < 1 || steps > 10_000_000 { throw ValidationError("--steps must be in 1…10000000, got \(steps)") }
        if let e = every, e < 1 { throw ValidationError("--every must be positive, got \(e)") }
        if json && markdown { throw ValidationError("--json and --markdown exclude each other") }
        _ = try parseActivation(activation)
    }

    func run() throws {
        var ex = BackpropExample()
        ex.inputs = try parseNumbers(inputs, "--inputs")
        ex.targets = try parseNumbers(targets, "--targets")
        ex.hiddenWeights = try parseNumbers(hiddenWeights, "--hidden-weights")
        ex.outputWeights = try parseNumbers(outputWeights, "--output-weights")
        ex.hiddenBias = try parseNumbers(hiddenBias, "--hidden-bias")
        ex.outputBias = try parseNumbers(outputBias, "--output-bias")
        ex.activation = try parseActivation(activation)
        ex.learningRate = lr
        ex.freezeBias = freezeBias
        let result: BackpropExplanation
        do { result = try ex.explain(steps: steps, every: every) } catch let e as ExplainError { throw ValidationError(e.message) }
        print(json ? BackpropReport.json(result) : markdown ? BackpropReport.markdown(result) : BackpropReport.text(result), terminator: "")
    }
}

struct ExplainActivationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activation",
        abstract: "An activation's formula, range, derivative and behaviour at ±∞, with an SVG of the function and its derivative.",
        discussion: "Known: \(ActivationFacts.all.map { $0.name }.joined(separator: ", ")).")

    @Argument(help: "The activation.")
    var name: String

    @Option(help: "Where to write the SVG (default: activation-NAME.svg).")
    var out: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let facts: ActivationFacts
        do { facts = try ActivationFacts.named(name) } catch let e as ExplainError { throw ValidationError(e.message) }
        let z: [Double] = [-6, -4, -2, -1, -0.5, 0, 0.5, 1, 2, 4, 6]
        let (v, d) = facts.values(at: z)
        let path = out ?? "activation-\(facts.name).svg"
        try writeAtomically(facts.chartSVG(), to: path)
        if json {
            let pts = zip(z, zip(v, d)).map { "{\"z\":\($0.0),\"value\":\($0.1.0),\"derivative\":\($0.1.1)}" }.joined(separator: ",")
            print("{\"name\":\(jsonString(facts.name)),\"formula\":\(jsonString(facts.formula)),\"range\":\(jsonString(facts.range)),\"derivative\":\(jsonString(facts.derivative)),\"at_infinity\":\(jsonString(facts.atInfinity)),\"notes\":\(jsonString(facts.notes)),\"values\":[\(pts)],\"svg\":\(jsonString(path))}")
            return
        }
        print("\(facts.name)")
        print("  formula     \(facts.formula)")
        print("  range       \(facts.range)")
        print("  derivative  \(facts.derivative)")
        print("  at ±∞       \(facts.atInfinity)")
        print("  note        \(facts.notes)")
        print("")
        print("         z        f(z)       f′(z)   (f′ by Neurone's autograd, float64)")
        for (i, zi) in z.enumerated() { print(String(format: "  %8.2f  %10.6f  %10.6f", zi, v[i], d[i])) }
        print("wrote \(path)")
    }
}

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

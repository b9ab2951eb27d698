import ArgumentParser
import Foundation
import Neurone

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

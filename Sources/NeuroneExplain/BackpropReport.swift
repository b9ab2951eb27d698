import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import NeuroneTraining
import Foundation

/// The three printed forms of a `BackpropExplanation`: plain text, Markdown and JSON.
public enum BackpropReport {
    static let n = BackpropExplanation.number
    static let short = BackpropExplanation.short
    /// A value inside a product or sum: negative ones in parentheses.
    static func term(_ v: Double) -> String { v < 0 ? "(\(n(v)))" : n(v) }

    static func header(_ r: BackpropExplanation) -> [String] {
        let ex = r.example
        let shape = "\(ex.inputs.count)-\(ex.hiddenCount)-\(ex.targets.count)"
        let bias = ex.freezeBias ? "biases frozen" : "biases learned"
        let shared = [ex.hiddenBias.count == 1 ? "b1 shared by the hidden neurons" : nil,
                      ex.outputBias.count == 1 ? "b2 shared by the output neurons" : nil].compactMap { $0 }
        return [
            "network \(shape), \(ex.activation.symbol) on every neuron, E = Σ ½(y − a)², learning rate η = \(short(ex.learningRate)), \(bias)" + (shared.isEmpty ? "" : " (\(shared.joined(separator: ", ")))"),
            "x = (\(ex.inputs.map(short).joined(separator: ", ")))   y = (\(ex.targets.map(short).joined(separator: ", ")))",
        ]
    }

    static func gradientLine(_ g: BackpropExplanation.Gradient) -> (symbolic: String, numbers: String) {
        let op = g.combination == .product ? " · " : " + "
        return (g.factors.map { $0.name }.joined(separator: op), g.factors.map { term($0.value) }.joined(separator: g.combination == .product ? " × " : " + "))
    }

    /// The explanation as aligned plain text.
    public static func text(_ r: BackpropExplanation) -> String {
        var out = ["Back-propagation, one gradient step" + (r.example.isCourseExample ? " — the worked example of COURSE.md §4" : "")]
        out += header(r)
        out += ["", "Forward pass"]
        let width = (r.forward.map { $0.name.count } + [1]).max()!
        for q in r.forward {
            let pad = q.name.padding(toLength: width, withPad: " ", startingAt: 0)
            out.append("  \(pad) = \(q.formula) = \(q.substituted) = \(n(q.value))")
        }
        out.append("  E = \(r.loss.formula)")
        out.append("    = \(r.loss.substituted) = \(n(r.loss.value))")
        for layer in [2, 1] {
            out += ["", layer == 2 ? "Backward pass, output layer (chain rule; autograd's gradient in brackets)" : "Backward pass, hidden layer"]
            for g in r.gradients where g.layer == layer {
                let (sym, nums) = gradientLine(g)
                out.append("  ∂E/∂\(g.parameter) = \(sym)")
                let fw = (g.factors.map { $0.name.count }.max() ?? 0)
                for f in g.factors {
                    out.append("      \(f.name.padding(toLength: fw, withPad: " ", startingAt: 0)) = \(f.formula) = \(n(f.value))")
                }
                out.append("    = \(nums) = \(n(g.value))   [autograd \(n(g.autograd))]")
            }
        }
        out += ["", "Update, η = \(short(r.example.learningRate))"]
        for u in r.updates {
            out.append(u.formula == "frozen" ? "  \(u.name) = \(n(u.value)) (frozen)" : "  \(u.name) ← \(u.formula) = \(u.substituted) = \(n(u.value))")
        }
        out += ["", "Loss after the step: E = \(n(r.newLoss)) (before \(n(r.loss.value)), change \(n(r.newLoss - r.loss.value)))"]
        if r.steps > 1 {
            out += ["", "Loss over \(r.steps) steps", "  \("step".leftPad(9))  E"]
            for (s, l) in r.lossHistory { out.append("  \(String(s).leftPad(9))  \(n(l))") }
            out += ["", "After \(r.steps) steps: " + r.finalOutputs.enumerated().map { "o\($0.offset + 1) = \(n($0.element))" }.joined(separator: ", ")
                    + "  (targets " + r.example.targets.map(short).joined(separator: ", ") + ")"]
            out.append("  " + r.finalParameters.map { "\($0.0) = \(n($0.1))" }.joined(separator: ", "))
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The explanation as Markdown: a table per part.
    public static func markdown(_ r: BackpropExplanation) -> String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var out = ["## Back-propagation, one gradient step", ""] + header(r).map { $0 + "  " }
        out += ["", "### Forward pass", "", "| quantity | formula | with the numbers | value |", "|---|---|---|---|"]
        for q in r.forward + [r.loss] { out.append("| \(q.name) | \(cell(q.formula)) | \(cell(q.substituted)) | \(n(q.value)) |") }
        out += ["", "### Backward pass", "", "| gradient | chain rule | factors | value | autograd |", "|---|---|---|---|---|"]
        for layer in [2, 1] {
            for g in r.gradients where g.layer == layer {
                let (sym, nums) = gradientLine(g)
                let factors = g.factors.map { "\($0.name) = \($0.formula) = \(n($0.value))" }.joined(separator: "<br>")
                out.append("| ∂E/∂\(g.parameter) | \(cell(sym)) | \(cell(factors)) | \(nums) = \(n(g.value)) | \(n(g.autograd)) |")
            }
        }
        out += ["", "### Update (η = \(short(r.example.learningRate)))", "", "| parameter | rule | with the numbers | new value |", "|---|---|---|---|"]
        for u in r.updates { out.append("| \(u.name) | \(cell(u.formula)) | \(cell(u.substituted)) | \(n(u.value)) |") }
        out += ["", "Loss after the step: **\(n(r.newLoss))** (before \(n(r.loss.value)))."]
        if r.steps > 1 {
            out += ["", "### Loss over \(r.steps) steps", "", "| step | E |", "|---:|---|"]
            for (s, l) in r.lossHistory { out.append("| \(s) | \(n(l)) |") }
            out += ["", "Outputs after \(r.steps) steps: " + r.finalOutputs.enumerated().map { "o\($0.offset + 1) = \(n($0.element))" }.joined(separator: ", ") + "."]
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The explanation as one JSON object (keys in docs/course/backprop.md); numbers are written
    /// exactly (shortest round-trip form).
    public static func json(_ r: BackpropExplanation) -> String {
        let ex = r.example
        let doc = JSONDocument(
            network: .init(inputs: ex.inputs, targets: ex.targets, hidden_weights: ex.hiddenWeights, output_weights: ex.outputWeights,
                           hidden_bias: ex.hiddenBias, output_bias: ex.outputBias, activation: ex.activation.rawValue,
                           learning_rate: ex.learningRate, freeze_bias: ex.freezeBias),
            forward: Dictionary(uniqueKeysWithValues: r.forward.map { ($0.name, $0.value) }),
            loss: r.loss.value,
            gradients: Dictionary(uniqueKeysWithValues: r.gradients.map { g in
                (g.parameter, JSONDocument.Gradient(value: g.value, autograd: g.autograd, combination: g.combination.rawValue,
                                                    factors: g.factors.map { .init(name: $0.name, formula: $0.formula, value: $0.value) }))
            }),
            updated: Dictionary(uniqueKeysWithValues: r.updates.map { ($0.name, $0.value) }),
            new_loss: r.newLoss, steps: r.steps,
            loss_history: r.lossHistory.map { .init(step: $0.0, loss: $0.1) },
            final_parameters: r.steps > 1 ? Dictionary(uniqueKeysWithValues: r.finalParameters) : nil,
            final_outputs: r.steps > 1 ? r.finalOutputs : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(doc)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The JSON layout (snake_case keys, as documented).
    struct JSONDocument: Encodable {
        struct Network: Encodable {
            let inputs, targets, hidden_weights, output_weights, hidden_bias, output_bias: [Double]
            let activation: String
            let learning_rate: Double
            let freeze_bias: Bool
        }
        struct Factor: Encodable { let name, formula: String; let value: Double }
        struct Gradient: Encodable { let value, autograd: Double; let combination: String; let factors: [Factor] }
        struct Point: Encodable { let step: Int; let loss: Double }
        let network: Network
        let forward: [String: Double]
        let loss: Double
        let gradients: [String: Gradient]
        let updated: [String: Double]
        let new_loss: Double
        let steps: Int
        let loss_history: [Point]
        let final_parameters: [String: Double]?
        let final_outputs: [Double]?
    }
}

extension BackpropExample {
    /// True for the unchanged course example (then the text names COURSE.md §4).
    public var isCourseExample: Bool {
        let d = BackpropExample()
        return inputs == d.inputs && targets == d.targets && hiddenWeights == d.hiddenWeights && outputWeights == d.outputWeights
            && hiddenBias == d.hiddenBias && outputBias == d.outputBias && activation == d.activation && learningRate == d.learningRate
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

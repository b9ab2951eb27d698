import NeuroneExplain

/// The playground's back-propagation page (`/backprop`): one gradient step of a small two-layer
/// network — the course's 2-2-2 example (COURSE.md §4) or any network of up to 4 inputs, 4 hidden
/// neurons and 4 outputs the page's user edits — explained by `BackpropExample.explain`, as JSON.
public enum BackpropStep {
    /// Inputs, hidden neurons and outputs the page may ask for (each).
    public static let maxNeurons = 4
    /// The largest magnitude of an input, target, weight or bias.
    public static let maxMagnitude = 1000.0
    /// The activations the step takes (`ExplainActivation`'s raw values).
    public static let activations = ["sigmoid", "tanh", "relu", "identity", "leakyrelu"]

    static let keys = ["inputs", "targets", "hiddenWeights", "outputWeights", "hiddenBias", "outputBias", "activation", "learningRate", "freezeBias"]

    /// Reads an example from a request body (a JSON object; a missing key keeps the course's value).
    public static func parse(_ text: String) throws -> BackpropExample {
        guard text.utf8.count <= PlaygroundLimits.maxMessageBytes else {
            throw PlaygroundError("request of \(text.utf8.count) bytes: the playground reads at most \(PlaygroundLimits.maxMessageBytes)")
        }
        guard case .object(let o) = try JSONValue.parse(text) else { throw PlaygroundError("backprop: expected a JSON object") }
        for key in o.keys.sorted() where !keys.contains(key) {
            throw PlaygroundError("backprop: unknown key '\(key)' (expected one of \(keys.joined(separator: ", ")))")
        }
        var e = BackpropExample()
        func list(_ key: String, _ count: ClosedRange<Int>, _ dflt: [Double]) throws -> [Double] {
            guard let v = o[key] else { return dflt }
            guard case .array(let items) = v, count.contains(items.count) else {
                throw PlaygroundError("backprop.\(key): expected a list of \(count.lowerBound)–\(count.upperBound) numbers, found \(v.describe)")
            }
            return try items.map {
                guard case .number(let d) = $0, abs(d) <= maxMagnitude else {
                    throw PlaygroundError("backprop.\(key): expected numbers in [−\(Int(maxMagnitude)), \(Int(maxMagnitude))], found \($0.describe) in the list")
                }
                return d
            }
        }
        let n = maxNeurons
        e.inputs = try list("inputs", 1...n, e.inputs)
        e.targets = try list("targets", 1...n, e.targets)
        e.hiddenWeights = try list("hiddenWeights", 1...(n * n), e.hiddenWeights)
        e.outputWeights = try list("outputWeights", 1...(n * n), e.outputWeights)
        e.hiddenBias = try list("hiddenBias", 1...n, e.hiddenBias)
        e.outputBias = try list("outputBias", 1...n, e.outputBias)
        let r = FieldReader(object: o, context: "backprop")
        let name = try r.choice("activation", activations, e.activation.rawValue)
        e.activation = ExplainActivation(rawValue: name)!
        e.learningRate = try r.double("learningRate", 1e-6...10, e.learningRate)
        if let v = o["freezeBias"] {
            guard case .bool(let b) = v else { throw PlaygroundError("backprop.freezeBias: expected true or false, found \(v.describe)") }
            e.freezeBias = b
        }
        guard e.hiddenCount <= n else {
            throw PlaygroundError("backprop.hiddenWeights: \(e.hiddenWeights.count) weights for \(e.inputs.count) inputs make \(e.hiddenCount) hidden neurons, at most \(n)")
        }
        do { try e.validate() } catch let error as ExplainError { throw PlaygroundError("backprop: \(error.message)") }
        return e
    }

    /// The step as JSON: the names, the forward values, the loss, every gradient with its chain-rule
    /// factors (and autograd's value), every update, the new loss, and the example after the step.
    public static func json(_ e: BackpropExample) throws -> String {
        let x: BackpropExplanation
        do { x = try e.explain(steps: 1) } catch let error as ExplainError { throw PlaygroundError("backprop: \(error.message)") }
        let n0 = e.inputs.count, n1 = e.hiddenCount, n2 = e.targets.count
        let updated = Dictionary(x.updates.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        var next = e
        next.hiddenWeights = (0..<(n1 * n0)).map { updated[e.weightName(layer: 1, row: $0 / n0, column: $0 % n0)] ?? e.hiddenWeights[$0] }
        next.outputWeights = (0..<(n2 * n1)).map { updated[e.weightName(layer: 2, row: $0 / n1, column: $0 % n1)] ?? e.outputWeights[$0] }
        next.hiddenBias = e.hiddenBias.indices.map { updated[e.biasName(layer: 1, neuron: $0)] ?? e.hiddenBias[$0] }
        next.outputBias = e.outputBias.indices.map { updated[e.biasName(layer: 2, neuron: $0)] ?? e.outputBias[$0] }

        let w = JSONWriter()
        func quantity(_ q: BackpropExplanation.Quantity) {
            w.object { w.field("name", q.name); w.field("formula", q.formula); w.field("substituted", q.substituted); w.field("value", q.value) }
        }
        func example(_ e: BackpropExample) {
            w.object {
                w.field("inputs", e.inputs); w.field("targets", e.targets); w.field("hiddenWeights", e.hiddenWeights)
                w.field("outputWeights", e.outputWeights); w.field("hiddenBias", e.hiddenBias); w.field("outputBias", e.outputBias)
                w.field("activation", e.activation.rawValue); w.field("learningRate", e.learningRate)
                w.field("freezeBias", e.freezeBias)
            }
        }
        w.object {
            w.field("sizes", [n0, n1, n2])
            w.key("example"); example(e)
            w.field("activationSymbol", e.activation.symbol)
            w.field("hiddenWeightNames", (0..<(n1 * n0)).map { e.weightName(layer: 1, row: $0 / n0, column: $0 % n0) })
            w.field("outputWeightNames", (0..<(n2 * n1)).map { e.weightName(layer: 2, row: $0 / n1, column: $0 % n1) })
            w.field("hiddenBiasNames", e.hiddenBias.indices.map { e.biasName(layer: 1, neuron: $0) })
            w.field("outputBiasNames", e.outputBias.indices.map { e.biasName(layer: 2, neuron: $0) })
            w.key("forward"); w.array(x.forward) { quantity($0) }
            w.key("loss"); quantity(x.loss)
            w.key("gradients")
            w.array(x.gradients) { g in
                w.object {
                    w.field("parameter", g.parameter); w.field("layer", g.layer); w.field("combination", g.combination.rawValue)
                    w.key("factors")
                    w.array(g.factors) { f in w.object { w.field("name", f.name); w.field("formula", f.formula); w.field("value", f.value) } }
                    w.field("value", g.value); w.field("autograd", g.autograd)
                }
            }
            w.key("updates"); w.array(x.updates) { quantity($0) }
            w.field("newLoss", x.newLoss)
            w.key("next"); example(next)
        }
        return w.text
    }
}

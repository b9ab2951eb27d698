import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import NeuroneTraining
import Foundation

/// A fully connected network with one hidden layer, E = Σ ½(y − a)² and plain gradient descent,
/// the worked back-propagation example of COURSE.md §4 by default, explained quantity by
/// quantity. Every number comes from Neurone's float64 autograd: the chain-rule factors are the
/// gradients autograd retains on the intermediate tensors (∂E/∂a, ∂E/∂z), the local derivatives
/// a′(z) come from differentiating the activation alone, and each product is checked against the
/// parameter's gradient.
public struct BackpropExample: Sendable {
    /// Inputs x (n₀ values).
    public var inputs: [Double] = [0.05, 0.10]
    /// Targets y (n₂ values).
    public var targets: [Double] = [0.01, 0.99]
    /// Hidden weights, row-major [n₁, n₀]: w1…w4 of the course.
    public var hiddenWeights: [Double] = [0.15, 0.20, 0.25, 0.30]
    /// Output weights, row-major [n₂, n₁]: w5…w8 of the course.
    public var outputWeights: [Double] = [0.40, 0.45, 0.50, 0.55]
    /// Hidden biases: one value shared by every hidden neuron (the course's b1), or one per neuron.
    public var hiddenBias: [Double] = [0.35]
    /// Output biases: one shared value (b2) or one per output neuron.
    public var outputBias: [Double] = [0.60]
    /// The activation of every neuron.
    public var activation: ExplainActivation = .sigmoid
    /// The learning rate η.
    public var learningRate = 0.5
    /// Keep the biases fixed during the updates.
    public var freezeBias = false

    /// The course's example.
    public init() {}

    /// Hidden neurons n₁.
    public var hiddenCount: Int { hiddenWeights.count / Swift.max(1, inputs.count) }

    /// Checks the sizes; the message names what does not fit.
    public func validate() throws {
        let n0 = inputs.count, n2 = targets.count
        guard n0 > 0, n2 > 0 else { throw ExplainError("give at least one input and one target") }
        guard !hiddenWeights.isEmpty, hiddenWeights.count % n0 == 0 else {
            throw ExplainError("\(hiddenWeights.count) hidden weights for \(n0) inputs: expected a multiple of \(n0) (hidden neurons × inputs)")
        }
        let n1 = hiddenCount
        guard outputWeights.count == n2 * n1 else {
            throw ExplainError("\(outputWeights.count) output weights: expected \(n2 * n1) (\(n2) outputs × \(n1) hidden neurons)")
        }
        guard hiddenBias.count == 1 || hiddenBias.count == n1 else { throw ExplainError("\(hiddenBias.count) hidden biases: expected 1 (shared) or \(n1)") }
        guard outputBias.count == 1 || outputBias.count == n2 else { throw ExplainError("\(outputBias.count) output biases: expected 1 (shared) or \(n2)") }
        guard learningRate.isFinite, learningRate > 0 else { throw ExplainError("the learning rate must be positive, got \(learningRate)") }
        let all = inputs + targets + hiddenWeights + outputWeights + hiddenBias + outputBias
        guard all.allSatisfy({ $0.isFinite }) else { throw ExplainError("every value must be a finite number") }
    }

    // MARK: names

    /// x1…, y1…, h1…, o1… and the weights numbered on across layers as in the course (w1…w8).
    public func weightName(layer: Int, row: Int, column: Int) -> String {
        layer == 1 ? "w\(row * inputs.count + column + 1)" : "w\(hiddenWeights.count + row * hiddenCount + column + 1)"
    }

    /// b1/b2 when shared, b1.j/b2.j otherwise.
    public func biasName(layer: Int, neuron: Int) -> String {
        let shared = (layer == 1 ? hiddenBias : outputBias).count == 1
        return shared ? "b\(layer)" : "b\(layer).\(neuron + 1)"
    }

    /// The explanation of one gradient step (and, with `steps` > 1, the loss along the way).
    public func explain(steps: Int = 1, every: Int? = nil) throws -> BackpropExplanation {
        try validate()
        let n0 = inputs.count, n1 = hiddenCount, n2 = targets.count
        let act = activation
        // The parameters as float64 leaves.
        let w1 = Tensor(hiddenWeights, shape: [n1, n0], dtype: .float64).requiringGrad()
        let w2 = Tensor(outputWeights, shape: [n2, n1], dtype: .float64).requiringGrad()
        let b1 = Tensor(hiddenBias, shape: [hiddenBias.count], dtype: .float64).requiringGrad(!freezeBias)
        let b2 = Tensor(outputBias, shape: [outputBias.count], dtype: .float64).requiringGrad(!freezeBias)
        let x = Tensor(inputs, shape: [n0], dtype: .float64), y = Tensor(targets, shape: [n2], dtype: .float64)

        func forward() -> (z1: Tensor, h: Tensor, z2: Tensor, o: Tensor, e: Tensor) {
            let z1 = w1.matmul(x) + b1, h = act.apply(z1)
            let z2 = w2.matmul(h) + b2, o = act.apply(z2)
            let e = ((y - o).square() * 0.5).sum()
            return (z1, h, z2, o, e)
        }
        let f = forward()
        for t in [f.z1, f.h, f.z2, f.o] { t.retainGrad() }
        f.e.backward()
        func values(_ t: Tensor) -> [Double] { t.detach().toArray(as: Double.self) }
        /// a′(z), elementwise, by differentiating the activation alone.
        func localDerivative(_ z: Tensor) -> [Double] {
            let zz = z.detach().requiringGrad()
            act.apply(zz).sum().backward()
            return values(zz.grad!)
        }
        let xs = inputs, z1 = values(f.z1), h = values(f.h), z2 = values(f.z2), o = values(f.o), e = f.e.item()
        let dEdo = values(f.o.grad!), dEdz2 = values(f.z2.grad!), dEdh = values(f.h.grad!), dEdz1 = values(f.z1.grad!)
        let dodz = localDerivative(f.z2), dhdz = localDerivative(f.z1)
        let gw1 = values(w1.grad!), gw2 = values(w2.grad!)
        let gb1 = freezeBias ? nil : values(b1.grad!), gb2 = freezeBias ? nil : values(b2.grad!)

        var out = BackpropExplanation(example: self)
        let fmt = BackpropExplanation.number, given = BackpropExplanation.short
        let a = act.symbol
        // Forward pass.
        for j in 0..<n1 {
            let terms = (0..<n0).map { "\(weightName(layer: 1, row: j, column: $0))·x\($0 + 1)" }.joined(separator: " + ")
            let nums = (0..<n0).map { "\(given(hiddenWeights[j * n0 + $0]))·\(given(xs[$0]))" }.joined(separator: " + ")
            let bias = hiddenBias.count == 1 ? hiddenBias[0] : hiddenBias[j]
            out.forward.append(.init(name: "z_h\(j + 1)", formula: "\(terms) + \(biasName(layer: 1, neuron: j))", substituted: "\(nums) + \(given(bias))", value: z1[j]))
            out.forward.append(.init(name: "h\(j + 1)", formula: "\(a)(z_h\(j + 1))", substituted: "\(a)(\(fmt(z1[j])))", value: h[j]))
        }
        for i in 0..<n2 {
            let terms = (0..<n1).map { "\(weightName(layer: 2, row: i, column: $0))·h\($0 + 1)" }.joined(separator: " + ")
            let nums = (0..<n1).map { "\(given(outputWeights[i * n1 + $0]))·\(fmt(h[$0]))" }.joined(separator: " + ")
            let bias = outputBias.count == 1 ? outputBias[0] : outputBias[i]
            out.forward.append(.init(name: "z_o\(i + 1)", formula: "\(terms) + \(biasName(layer: 2, neuron: i))", substituted: "\(nums) + \(given(bias))", value: z2[i]))
            out.forward.append(.init(name: "o\(i + 1)", formula: "\(a)(z_o\(i + 1))", substituted: "\(a)(\(fmt(z2[i])))", value: o[i]))
        }
        out.loss = .init(name: "E", formula: (0..<n2).map { "½(y\($0 + 1) − o\($0 + 1))²" }.joined(separator: " + "),
                         substituted: (0..<n2).map { "½(\(given(targets[$0])) − \(fmt(o[$0])))²" }.joined(separator: " + "), value: e)

        // Output layer: ∂E/∂param = ∂E/∂o_i · ∂o_i/∂z_o_i · ∂z_o_i/∂param (param: a weight or a per-neuron bias).
        func outputChain(_ i: Int, _ param: String, _ input: String, _ inputValue: Double, _ autograd: Double) -> BackpropExplanation.Gradient {
            .init(parameter: param, layer: 2, factors: [
                .init(name: "∂E/∂o\(i + 1)", formula: "o\(i + 1) − y\(i + 1)", value: dEdo[i]),
                .init(name: "∂o\(i + 1)/∂z_o\(i + 1)", formula: act.derivativeFormula(a: "o\(i + 1)", z: "z_o\(i + 1)"), value: dodz[i]),
                .init(name: "∂z_o\(i + 1)/∂\(param)", formula: input, value: inputValue),
            ], autograd: autograd)
        }
        // Hidden layer: ∂E/∂h_j = Σ_i ∂E/∂z_o_i · w_ij, then · ∂h_j/∂z_h_j · ∂z_h_j/∂param.
        func hiddenChain(_ j: Int, _ param: String, _ input: String, _ inputValue: Double, _ autograd: Double) -> BackpropExplanation.Gradient {
            let sum = (0..<n2).map { "∂E/∂z_o\($0 + 1)·\(weightName(layer: 2, row: $0, column: j))" }.joined(separator: " + ")
            return .init(parameter: param, layer: 1, factors: [
                .init(name: "∂E/∂h\(j + 1)", formula: sum, value: dEdh[j]),
                .init(name: "∂h\(j + 1)/∂z_h\(j + 1)", formula: act.derivativeFormula(a: "h\(j + 1)", z: "z_h\(j + 1)"), value: dhdz[j]),
                .init(name: "∂z_h\(j + 1)/∂\(param)", formula: input, value: inputValue),
            ], autograd: autograd)
        }
        for i in 0..<n2 {
            for j in 0..<n1 { out.gradients.append(outputChain(i, weightName(layer: 2, row: i, column: j), "h\(j + 1)", h[j], gw2[i * n1 + j])) }
        }
        if let gb2 = gb2 {
            if outputBias.count == 1 {
                // A shared bias feeds every output neuron: the sum of their ∂E/∂z.
                out.gradients.append(.init(parameter: "b2", layer: 2, factors: (0..<n2).map {
                    .init(name: "∂E/∂z_o\($0 + 1)", formula: "(o\($0 + 1) − y\($0 + 1))·\(act.derivativeFormula(a: "o\($0 + 1)", z: "z_o\($0 + 1)"))", value: dEdz2[$0])
                }, autograd: gb2[0], combination: .sum))
            } else {
                for i in 0..<n2 { out.gradients.append(outputChain(i, biasName(layer: 2, neuron: i), "1", 1, gb2[i])) }
            }
        }
        for j in 0..<n1 {
            for k in 0..<n0 { out.gradients.append(hiddenChain(j, weightName(layer: 1, row: j, column: k), "x\(k + 1)", xs[k], gw1[j * n0 + k])) }
        }
        if let gb1 = gb1 {
            if hiddenBias.count == 1 {
                out.gradients.append(.init(parameter: "b1", layer: 1, factors: (0..<n1).map {
                    .init(name: "∂E/∂z_h\($0 + 1)", formula: "∂E/∂h\($0 + 1)·\(act.derivativeFormula(a: "h\($0 + 1)", z: "z_h\($0 + 1)"))", value: dEdz1[$0])
                }, autograd: gb1[0], combination: .sum))
            } else {
                for j in 0..<n1 { out.gradients.append(hiddenChain(j, biasName(layer: 1, neuron: j), "1", 1, gb1[j])) }
            }
        }

        // The update, by Neurone's SGD, and the new loss.
        let before: [String: Double] = Dictionary(uniqueKeysWithValues: parameterValues(w1, w2, b1, b2))
        let opt = SGD([w1, w2] + (freezeBias ? [] : [b1, b2]), lr: learningRate)
        opt.step()
        for (name, value) in parameterValues(w1, w2, b1, b2) {
            let g = out.gradients.first { $0.parameter == name }?.autograd
            out.updates.append(.init(name: name, formula: g == nil ? "frozen" : "\(name) − η·∂E/∂\(name)",
                                     substituted: g.map { "\(given(before[name]!)) − \(given(learningRate))·\($0 < 0 ? "(\(fmt($0)))" : fmt($0))" } ?? given(before[name]!), value: value))
        }
        out.newLoss = withNoGrad { forward().e.item() }
        out.lossHistory = [(0, e), (1, out.newLoss)]
        // Further steps: the loss along the way.
        let stride = Swift.max(1, every ?? Swift.max(1, steps / 10))
        if steps > 1 {
            for step in 2...steps {
                opt.zeroGrad()
                let l = forward().e
                l.backward()
                opt.step()
                if step % stride == 0 || step == steps {
                    out.lossHistory.append((step, withNoGrad { forward().e.item() }))
                }
            }
            out.finalParameters = parameterValues(w1, w2, b1, b2)
            out.finalOutputs = withNoGrad { values(forward().o) }
        }
        out.steps = steps
        return out
    }

    /// The parameters in course order: w1…, b1, w5…, b2 style names with their current values.
    func parameterValues(_ w1: Tensor, _ w2: Tensor, _ b1: Tensor, _ b2: Tensor) -> [(String, Double)] {
        let n0 = inputs.count, n1 = hiddenCount, n2 = targets.count
        let v1 = w1.detach().toArray(as: Double.self), v2 = w2.detach().toArray(as: Double.self)
        let c1 = b1.detach().toArray(as: Double.self), c2 = b2.detach().toArray(as: Double.self)
        var out: [(String, Double)] = []
        for j in 0..<n1 { for k in 0..<n0 { out.append((weightName(layer: 1, row: j, column: k), v1[j * n0 + k])) } }
        for (j, v) in c1.enumerated() { out.append((biasName(layer: 1, neuron: j), v)) }
        for i in 0..<n2 { for j in 0..<n1 { out.append((weightName(layer: 2, row: i, column: j), v2[i * n1 + j])) } }
        for (i, v) in c2.enumerated() { out.append((biasName(layer: 2, neuron: i), v)) }
        return out
    }
}

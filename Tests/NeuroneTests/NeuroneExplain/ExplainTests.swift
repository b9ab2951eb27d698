import Foundation
import XCTest
@testable import Neurone
@testable import NeuroneDevice
@testable import NeuroneCPU
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneOptim
@testable import NeuroneIO
@testable import NeuroneData
@testable import NeuronePlots
@testable import NeuroneTraining
@testable import NeuroneExplain

/// `neurone explain backprop` against hand-written derivatives (the oracle below is plain Double
/// arithmetic, no tensors) and the published numbers of the course's worked example.
final class ExplainTests: XCTestCase {
    /// A one-hidden-layer network differentiated by hand: returns the loss, the gradients by
    /// parameter name (course numbering) and the loss after one step of size lr.
    func handBackprop(_ ex: BackpropExample) -> (loss: Double, grads: [String: Double], newLoss: Double) {
        let n0 = ex.inputs.count, n1 = ex.hiddenCount, n2 = ex.targets.count
        func act(_ z: Double) -> Double {
            switch ex.activation {
            case .sigmoid: return 1 / (1 + exp(-z))
            case .tanh: return Foundation.tanh(z)
            case .relu: return max(z, 0)
            case .identity: return z
            case .leakyRelu: return z > 0 ? z : 0.01 * z
            }
        }
        func dact(_ z: Double, _ a: Double) -> Double {
            switch ex.activation {
            case .sigmoid: return a * (1 - a)
            case .tanh: return 1 - a * a
            case .relu: return z > 0 ? 1 : 0
            case .identity: return 1
            case .leakyRelu: return z > 0 ? 1 : 0.01
            }
        }
        func run(_ w1: [Double], _ b1: [Double], _ w2: [Double], _ b2: [Double]) -> (Double, [Double], [Double], [Double], [Double]) {
            var z1 = [Double](repeating: 0, count: n1), h = z1, z2 = [Double](repeating: 0, count: n2), o = z2
            for j in 0..<n1 {
                var z: Double = b1.count == 1 ? b1[0] : b1[j]
                for k in 0..<n0 { z += w1[j * n0 + k] * ex.inputs[k] }
                z1[j] = z
                h[j] = act(z)
            }
            for i in 0..<n2 {
                var z: Double = b2.count == 1 ? b2[0] : b2[i]
                for j in 0..<n1 { z += w2[i * n1 + j] * h[j] }
                z2[i] = z
                o[i] = act(z)
            }
            var e = 0.0
            for i in 0..<n2 { let d = ex.targets[i] - o[i]; e += 0.5 * d * d }
            return (e, z1, h, z2, o)
        }
        let (e, z1, h, z2, o) = run(ex.hiddenWeights, ex.hiddenBias, ex.outputWeights, ex.outputBias)
        var grads: [String: Double] = [:]
        var d2 = [Double](repeating: 0, count: n2), d1 = [Double](repeating: 0, count: n1)   // ∂E/∂z_o, ∂E/∂z_h
        for i in 0..<n2 { d2[i] = (o[i] - ex.targets[i]) * dact(z2[i], o[i]) }
        for j in 0..<n1 {
            var s = 0.0
            for i in 0..<n2 { s += d2[i] * ex.outputWeights[i * n1 + j] }
            d1[j] = s * dact(z1[j], h[j])
        }
        var w1 = ex.hiddenWeights, w2 = ex.outputWeights, b1 = ex.hiddenBias, b2 = ex.outputBias
        for i in 0..<n2 { for j in 0..<n1 {
            let g = d2[i] * h[j]
            grads[ex.weightName(layer: 2, row: i, column: j)] = g
            w2[i * n1 + j] -= ex.learningRate * g
        } }
        for j in 0..<n1 { for k in 0..<n0 {
            let g = d1[j] * ex.inputs[k]
            grads[ex.weightName(layer: 1, row: j, column: k)] = g
            w1[j * n0 + k] -= ex.learningRate * g
        } }
        if !ex.freezeBias {
            if b2.count == 1 { grads["b2"] = d2.reduce(0, +); b2[0] -= ex.learningRate * grads["b2"]! }
            else { for i in 0..<n2 { grads["b2.\(i + 1)"] = d2[i]; b2[i] -= ex.learningRate * d2[i] } }
            if b1.count == 1 { grads["b1"] = d1.reduce(0, +); b1[0] -= ex.learningRate * grads["b1"]! }
            else { for j in 0..<n1 { grads["b1.\(j + 1)"] = d1[j]; b1[j] -= ex.learningRate * d1[j] } }
        }
        return (e, grads, run(w1, b1, w2, b2).0)
    }

    func checkAgainstHand(_ ex: BackpropExample, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try ex.explain()
        let hand = handBackprop(ex)
        XCTAssertEqual(r.loss.value, hand.loss, accuracy: 1e-14, file: file, line: line)
        XCTAssertEqual(Set(r.gradients.map { $0.parameter }), Set(hand.grads.keys), file: file, line: line)
        for g in r.gradients {
            XCTAssertEqual(g.value, hand.grads[g.parameter]!, accuracy: 1e-14, "\(g.parameter) chain-rule product", file: file, line: line)
            XCTAssertEqual(g.autograd, hand.grads[g.parameter]!, accuracy: 1e-14, "\(g.parameter) autograd", file: file, line: line)
        }
        XCTAssertEqual(r.newLoss, hand.newLoss, accuracy: 1e-14, file: file, line: line)
    }

    func testCourseExampleMatchesHandDerivativesAndThePublishedNumbers() throws {
        try checkAgainstHand(BackpropExample())
        var frozen = BackpropExample()
        frozen.freezeBias = true
        try checkAgainstHand(frozen)
        let r = try frozen.explain()
        let n = BackpropExplanation.number
        // The values every write-up of this example prints (9 decimals).
        XCTAssertEqual(n(r.loss.value), "0.298371109")
        XCTAssertEqual(r.forward.map { "\($0.name)=\(n($0.value))" },
                       ["z_h1=0.377500000", "h1=0.593269992", "z_h2=0.392500000", "h2=0.596884378",
                        "z_o1=1.105905967", "o1=0.751365070", "z_o2=1.224921404", "o2=0.772928465"])
        let grads = Dictionary(uniqueKeysWithValues: r.gradients.map { ($0.parameter, n($0.value)) })
        XCTAssertEqual(grads["w5"], "0.082167041")
        XCTAssertEqual(grads["w1"], "0.000438568")
        let updated = Dictionary(uniqueKeysWithValues: r.updates.map { ($0.name, n($0.value)) })
        XCTAssertEqual([updated["w5"], updated["w6"], updated["w7"], updated["w8"]], ["0.358916480", "0.408666186", "0.511301270", "0.561370121"])
        XCTAssertEqual([updated["w1"], updated["w2"], updated["w3"], updated["w4"]], ["0.149780716", "0.199561432", "0.249751144", "0.299502287"])
        XCTAssertEqual(updated["b1"], "0.350000000")
        // Exact float64: 0.291027774 (hand computations that round the intermediate values print 0.291027924).
        XCTAssertEqual(n(r.newLoss), "0.291027774")
        let factors = r.gradients.first { $0.parameter == "w5" }!.factors.map { "\($0.name)=\($0.formula)=\(n($0.value))" }
        XCTAssertEqual(factors, ["∂E/∂o1=o1 − y1=0.741365070", "∂o1/∂z_o1=o1(1 − o1)=0.186815602", "∂z_o1/∂w5=h1=0.593269992"])
    }

    func testOtherShapesActivationsAndPerNeuronBiases() throws {
        var ex = BackpropExample()
        ex.inputs = [0.3, -1.2, 0.5]
        ex.targets = [1, 0]
        ex.hiddenWeights = (0..<12).map { Double($0) * 0.13 - 0.7 }
        ex.outputWeights = (0..<8).map { 0.9 - Double($0) * 0.21 }
        ex.hiddenBias = [0.1, -0.2, 0.3, -0.4]
        ex.outputBias = [0.05, -0.05]
        ex.learningRate = 0.3
        for a in ExplainActivation.allCases {
            ex.activation = a
            try checkAgainstHand(ex)
        }
        XCTAssertEqual(ex.weightName(layer: 2, row: 1, column: 0), "w17")
        XCTAssertEqual(ex.biasName(layer: 1, neuron: 2), "b1.3")
    }

    func testManyStepsLowerTheLoss() throws {
        let r = try BackpropExample().explain(steps: 1000, every: 250)
        XCTAssertEqual(r.lossHistory.map { $0.0 }, [0, 1, 250, 500, 750, 1000])
        XCTAssertTrue(zip(r.lossHistory, r.lossHistory.dropFirst()).allSatisfy { $1.1 < $0.1 })
        XCTAssertLessThan(r.lossHistory.last!.1, 0.01)
        XCTAssertEqual(r.finalOutputs.count, 2)
    }

    func testReportsAndBadInput() throws {
        let r = try BackpropExample().explain()
        let text = BackpropReport.text(r)
        XCTAssertTrue(text.contains("  z_h1 = w1·x1 + w2·x2 + b1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.377500000\n"), text)
        XCTAssertTrue(text.contains("  ∂E/∂w5 = ∂E/∂o1 · ∂o1/∂z_o1 · ∂z_o1/∂w5\n"))
        XCTAssertTrue(text.contains("    = 0.741365070 × 0.186815602 × 0.593269992 = 0.082167041   [autograd 0.082167041]\n"))
        XCTAssertTrue(text.contains("  w7 ← w7 − η·∂E/∂w7 = 0.5 − 0.5·(-0.022602540) = 0.511301270\n"))
        let md = BackpropReport.markdown(r)
        XCTAssertTrue(md.contains("| ∂E/∂w5 | ∂E/∂o1 · ∂o1/∂z_o1 · ∂z_o1/∂w5 |"))
        let jsonText = BackpropReport.json(r)
        // Numbers are written exactly (shortest round-trip form); Foundation's reader may round the last digit.
        XCTAssertTrue(jsonText.contains("\"loss\":\(r.loss.value),"), jsonText)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(jsonText.utf8)) as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(json["loss"] as? Double), r.loss.value, accuracy: 1e-15)
        let w5 = try XCTUnwrap(((json["gradients"] as? [String: Any])?["w5"] as? [String: Any])?["autograd"] as? Double)
        XCTAssertEqual(w5, r.gradients.first { $0.parameter == "w5" }!.autograd, accuracy: 1e-16)
        XCTAssertEqual(try XCTUnwrap((json["updated"] as? [String: Double])?["b2"]), r.updates.first { $0.name == "b2" }!.value, accuracy: 1e-15)
        XCTAssertEqual((json["network"] as? [String: Any])?["activation"] as? String, "sigmoid")
        var bad = BackpropExample()
        bad.hiddenWeights = [1, 2, 3]
        XCTAssertThrowsError(try bad.explain()) { XCTAssertEqual("\($0)", "3 hidden weights for 2 inputs: expected a multiple of 2 (hidden neurons × inputs)") }
        bad = BackpropExample()
        bad.outputWeights = [1, 2]
        XCTAssertThrowsError(try bad.explain()) { XCTAssertEqual("\($0)", "2 output weights: expected 4 (2 outputs × 2 hidden neurons)") }
        bad = BackpropExample()
        bad.hiddenBias = [1, 2, 3]
        XCTAssertThrowsError(try bad.explain()) { XCTAssertEqual("\($0)", "3 hidden biases: expected 1 (shared) or 2") }
    }
}

/// explain activation / vanishing / init / conv: values against closed forms and known behaviour.
final class ExplainFiguresTests: XCTestCase {
    func testActivationDerivativesMatchClosedForms() throws {
        let z: [Double] = [-3, -0.5, 0.25, 2]
        func sig(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        let expected: [String: (Double) -> (Double, Double)] = [
            "sigmoid": { (sig($0), sig($0) * (1 - sig($0))) },
            "tanh": { (Foundation.tanh($0), 1 - Foundation.tanh($0) * Foundation.tanh($0)) },
            "relu": { (max($0, 0), $0 > 0 ? 1 : 0) },
            "leakyrelu": { ($0 > 0 ? $0 : 0.01 * $0, $0 > 0 ? 1 : 0.01) },
            "prelu": { ($0 > 0 ? $0 : 0.25 * $0, $0 > 0 ? 1 : 0.25) },
            "elu": { ($0 > 0 ? $0 : exp($0) - 1, $0 > 0 ? 1 : exp($0)) },
            "softplus": { (log(1 + exp($0)), sig($0)) },
            "silu": { ($0 * sig($0), sig($0) * (1 + $0 * (1 - sig($0)))) },
            "gelu": { x in (x * 0.5 * (1 + erf(x / 2.0.squareRoot())), 0.5 * (1 + erf(x / 2.0.squareRoot())) + x * exp(-x * x / 2) / (2 * Double.pi).squareRoot()) },
            "identity": { ($0, 1) },
            "softmax": { (sig($0), sig($0) * (1 - sig($0))) },
        ]
        XCTAssertEqual(Set(ActivationFacts.all.map { $0.name }), Set(expected.keys))
        for facts in ActivationFacts.all {
            let (v, d) = facts.values(at: z)
            for (i, x) in z.enumerated() {
                let (ev, ed) = expected[facts.name]!(x)
                XCTAssertEqual(v[i], ev, accuracy: 1e-12, "\(facts.name)(\(x))")
                XCTAssertEqual(d[i], ed, accuracy: 1e-12, "\(facts.name)′(\(x))")
            }
        }
        XCTAssertThrowsError(try ActivationFacts.named("swish2")) { XCTAssertTrue("\($0)".hasPrefix("unknown activation 'swish2'; known: sigmoid, tanh")) }
        let svg = try ActivationFacts.named("sigmoid").chartSVG()
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("f′(z)") && svg.contains("<polyline"))
    }

    func testGradientsVanishThroughSigmoidLayersAndGlorotKeepsThemEven() throws {
        let sigmoid = try GradientFlow.run(activation: .sigmoid, depth: 8)
        let norms = sigmoid.map { $0.weightGradientNorm }
        XCTAssertEqual(norms, norms.sorted(), "norms grow from the input side to the output side")
        XCTAssertLessThan(norms[0] / norms[7], 1e-4)
        let reluHe = try GradientFlow.run(activation: .relu, depth: 8, initialisation: .he)
        XCTAssertGreaterThan(reluHe[0].weightGradientNorm / reluHe[7].weightGradientNorm, 0.05)
        func spread(_ l: GradientFlow.Layer) -> Double {
            let m = l.backpropagated.reduce(0, +) / Double(l.backpropagated.count)
            return (l.backpropagated.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(l.backpropagated.count)).squareRoot()
        }
        let standard = try GradientFlow.run(activation: .tanh, depth: 5, width: 128, initialisation: .standard)
        let glorot = try GradientFlow.run(activation: .tanh, depth: 5, width: 128, initialisation: .glorot)
        let shrinkStandard = spread(standard[4]) / spread(standard[0]), shrinkGlorot = spread(glorot[4]) / spread(glorot[0])
        XCTAssertGreaterThan(shrinkStandard, 3 * shrinkGlorot)
        XCTAssertTrue(GradientFlow.histogramsSVG([("standard", standard), ("glorot", glorot)]).contains("layer 5"))
        XCTAssertThrowsError(try GradientFlow.run(activation: .tanh, depth: 0)) { XCTAssertEqual("\($0)", "the depth must be in 1…100, got 0") }
    }

    func testConvArithmeticOfTheExamNetwork() throws {
        let rows = try ConvArithmetic.explain("course-cnn", input: [1, 28, 28])
        XCTAssertEqual(rows.map { $0.layer }, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"])
        XCTAssertEqual(rows[0].lines, [
            "H_out = ⌊(H + 2p − k) / s⌋ + 1 = ⌊(28 + 2·1 − 3) / 1⌋ + 1 = 28",
            "W_out = ⌊(W + 2p − k) / s⌋ + 1 = ⌊(28 + 2·1 − 3) / 1⌋ + 1 = 28",
            "parameters = C_out·(C_in/groups·kh·kw + 1) = 4·(1·3·3 + 1) = 40",
            "multiplications = C_out·H_out·W_out·C_in/groups·kh·kw = 4·28·28·1·3·3 = 28224"])
        XCTAssertEqual(rows[3].lines[0], "H_out = ⌊(H + 2p − k) / s⌋ + 1 = ⌊(14 + 2·1 − 4) / 4⌋ + 1 = 4")
        XCTAssertEqual(rows[3].params, 520)
        XCTAssertEqual(rows[7].lines, ["parameters = in·out + out = 32·128 + 128 = 4224", "multiplications = in·out = 32·128 = 4096"])
        XCTAssertEqual(rows.reduce(0) { $0 + $1.params }, 6_074)
        XCTAssertEqual(rows.reduce(0) { $0 + $1.multiplications }, 41_792)
    }
}

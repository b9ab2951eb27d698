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

/// Every layer, activation and loss against PyTorch on the same inputs and weights
/// (scripts/make_nn_reference.py): outputs, input gradients, parameter gradients and the state
/// after the forward pass (batch-norm running statistics).
final class NNReferenceTests: XCTestCase {
    typealias JSONValue = ReferenceTests.JSONValue
    typealias RefTensor = ReferenceTests.RefTensor

    struct NNCase: Decodable {
        let name: String
        let kind: String
        let layer: String?
        let loss: String?
        let args: [String: JSONValue]
        let train: Bool
        let state: [String: RefTensor]
        let inputs: [RefTensor]
        let gradOutput: RefTensor
        let output: RefTensor
        let extraOutputs: [RefTensor]?
        let inputGrads: [RefTensor?]
        let paramGrads: [String: RefTensor]
        let stateAfter: [String: RefTensor]
    }

    struct NNFile: Decodable { let cases: [NNCase] }

    static func load() throws -> [NNCase] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "nn", withExtension: "json", subdirectory: "Reference"))
        return try JSONDecoder().decode(NNFile.self, from: Data(contentsOf: url)).cases
    }

    func ints(_ v: JSONValue?) -> [Int]? {
        guard let v = v else { return nil }
        if case .null = v { return nil }
        if case .array = v { return v.ints }
        return [v.int]
    }

    func padding(_ v: JSONValue?) -> ConvPadding {
        if case .string(let s)? = v, s == "same" { return .same }
        return .explicit(ints(v) ?? [0])
    }

    func makeLayer(_ c: NNCase) -> Module {
        let a = c.args
        switch c.layer! {
        case "Linear": return Linear(a["in"]!.int, a["out"]!.int, bias: a["bias"]!.bool)
        case "Conv2d":
            return Conv2d(a["i"]!.int, a["o"]!.int, kernelSize: ints(a["k"])!, stride: ints(a["s"])!, padding: padding(a["p"]),
                          dilation: ints(a["d"])!, groups: a["g"]!.int, bias: a["bias"]!.bool)
        case "Conv1d":
            let p: ConvPadding = { if case .string? = a["p"] { return .same } else { return .explicit(ints(a["p"])!) } }()
            return Conv1d(a["i"]!.int, a["o"]!.int, kernelSize: a["k"]!.int, stride: a["s"]!.int, padding: p,
                          dilation: a["d"]!.int, groups: a["g"]!.int, bias: a["bias"]!.bool)
        case "MaxPool2d":
            return MaxPool2d(kernelSize: ints(a["k"])!, stride: ints(a["s"]), padding: ints(a["p"])!, dilation: ints(a["d"])!, ceilMode: a["ceil"]!.bool)
        case "AvgPool2d":
            return AvgPool2d(kernelSize: ints(a["k"])!, stride: ints(a["s"]), padding: ints(a["p"])!, ceilMode: a["ceil"]!.bool,
                             countIncludePad: a["cip"]!.bool, divisorOverride: ints(a["div"])?.first)
        case "AdaptiveAvgPool2d": return AdaptiveAvgPool2d(ints(a["out"])!)
        case "ConvTranspose2d":
            return ConvTranspose2d(a["i"]!.int, a["o"]!.int, kernelSize: ints(a["k"])!, stride: ints(a["s"])!, padding: ints(a["p"])!,
                                   outputPadding: ints(a["op"])!, dilation: ints(a["d"])!, groups: a["g"]!.int, bias: a["bias"]!.bool)
        case "MultiheadAttention":
            return MultiheadAttention(embedDim: a["e"]!.int, numHeads: a["h"]!.int, bias: a["bias"]!.bool, batchFirst: a["batchFirst"]!.bool)
        case "BatchNorm1d": return BatchNorm1d(a["features"]!.int)
        case "BatchNorm2d": return BatchNorm2d(a["features"]!.int)
        case "LayerNorm": return LayerNorm(ints(a["shape"])!)
        case "Embedding": return Embedding(a["num"]!.int, a["dim"]!.int, paddingIdx: ints(a["padding"])?.first)
        case "ReLU": return ReLU()
        case "Sigmoid": return Sigmoid()
        case "Tanh": return Tanh()
        case "LeakyReLU": return LeakyReLU(negativeSlope: a["slope"]!.double)
        case "PReLU": return PReLU(numParameters: a["num"]!.int)
        case "ELU": return ELU(alpha: a["alpha"]!.double)
        case "GELU": if case .string(let s)? = a["approximate"] { return GELU(approximateTanh: s == "tanh") } else { return GELU() }
        case "SiLU": return SiLU()
        case "Softplus": return Softplus(beta: a["beta"]!.double, threshold: a["threshold"]!.double)
        case "Softmax": return Softmax(dim: a["dim"]!.int)
        case "LogSoftmax": return LogSoftmax(dim: a["dim"]!.int)
        case "Flatten": return Flatten()
        case "Identity": return Identity()
        default: fatalError("unknown layer \(c.layer!)")
        }
    }

    func reduction(_ v: JSONValue?) -> Reduction {
        if case .string(let s)? = v { return Reduction(rawValue: s) ?? .mean }
        return .mean
    }

    func runLoss(_ c: NNCase, _ x: [Tensor]) -> Tensor {
        let a = c.args
        let red = reduction(a["reduction"])
        let weighted = a["weight"]?.bool ?? false
        switch c.loss! {
        case "mse": return Loss.mse(x[0], x[1], reduction: red)
        case "l1": return Loss.l1(x[0], x[1], reduction: red)
        case "smoothL1": return Loss.smoothL1(x[0], x[1], beta: a["beta"]!.double, reduction: red)
        case "halfSSE": return Loss.halfSumSquaredError(x[0], x[1])
        case "bce": return Loss.binaryCrossEntropy(x[0], x[1], weight: weighted ? x[2] : nil, reduction: red)
        case "bceLogits":
            return Loss.binaryCrossEntropyWithLogits(x[0], x[1], posWeight: (a["posWeight"]?.bool ?? false) ? x[2] : nil, reduction: red)
        case "crossEntropy":
            return Loss.crossEntropy(x[0], x[1], weight: weighted ? x[2] : nil, labelSmoothing: a["labelSmoothing"]?.double ?? 0, reduction: red)
        case "nll": return Loss.nll(x[0], x[1], weight: weighted ? x[2] : nil, reduction: red)
        case "klDiv":
            let r: Loss.KLReduction
            switch a["reduction"].map({ if case .string(let s) = $0 { return s } else { return "" } }) ?? "mean" {
            case "sum": r = .sum
            case "none": r = .none
            case "batchmean": r = .batchMean
            default: r = .mean
            }
            return Loss.klDivergence(x[0], x[1], reduction: r, logTarget: a["logTarget"]?.bool ?? false)
        case "hinge": return Loss.hingeEmbedding(x[0], x[1], margin: a["margin"]!.double, reduction: red)
        case "contrastive": return Loss.contrastive(x[0], x[1], label: x[2], margin: a["margin"]!.double)
        case "vae": return Loss.vae(reconstruction: x[0], target: x[1], mu: x[2], logVar: x[3])
        default: fatalError("unknown loss \(c.loss!)")
        }
    }

    var comparisons = 0

    func compare(_ got: Tensor?, _ want: RefTensor?, _ label: String, rtol: Double = 1e-5, atol: Double = 1e-5) {
        guard let want = want else { return }
        comparisons += 1
        guard let got = got else { XCTFail("\(label): missing (expected shape \(want.shape))"); return }
        XCTAssertEqual(got.shape, want.shape, "\(label): shape")
        guard got.shape == want.shape else { return }
        let g = got.toArray(as: Double.self), w = want.data.map { $0.double }
        var bad = 0
        for i in 0..<w.count where !(g[i] == w[i] || Swift.abs(g[i] - w[i]) <= atol + rtol * Swift.abs(w[i]) || (g[i].isNaN && w[i].isNaN)) {
            if bad < 3 { XCTFail("\(label): element \(i): got \(g[i]), expected \(w[i])") }
            bad += 1
        }
    }

    func testLayersAndLossesAgainstPyTorch() throws {
        let cases = try Self.load()
        XCTAssertGreaterThan(cases.count, 80)
        for c in cases {
            let inputs = c.inputs.map { $0.tensor() }
            for x in inputs where x.dtype.isFloatingPoint { x.requiresGrad = true }
            let out: Tensor
            var module: Module? = nil
            if c.kind == "layer" {
                let m = makeLayer(c)
                module = m
                let state = c.state.mapValues { $0.tensor() }
                do { try m.loadStateDict(state) } catch { XCTFail("\(c.name): \(error)"); continue }
                m.train(c.train)
                if let mha = m as? MultiheadAttention {
                    var rest = Array(inputs.dropFirst(3))
                    let kpm = (c.args["kpm"]?.bool ?? false) ? rest.removeFirst() : nil
                    let am = (c.args["am"]?.bool ?? false) ? rest.removeFirst() : nil
                    for t in [kpm, am].compactMap({ $0 }) { t.requiresGrad = false }
                    let (o, w) = mha(query: inputs[0], key: inputs[1], value: inputs[2], keyPaddingMask: kpm, attnMask: am)
                    compare(w, c.extraOutputs?.first, "\(c.name) attention weights")
                    out = o
                } else {
                    out = m(inputs[0])
                }
            } else {
                out = runLoss(c, inputs)
            }
            compare(out, c.output, "\(c.name) output")
            out.backward(c.gradOutput.tensor())
            for (i, want) in c.inputGrads.enumerated() { compare(inputs[i].grad, want, "\(c.name) grad of input \(i)") }
            if let m = module {
                let params = Dictionary(uniqueKeysWithValues: m.namedParameters())
                for (name, want) in c.paramGrads { compare(params[name]?.grad, want, "\(c.name) grad of \(name)") }
                let after = Dictionary(uniqueKeysWithValues: m.stateDict())
                XCTAssertEqual(Set(after.keys), Set(c.stateAfter.keys), "\(c.name): state names")
                for (name, want) in c.stateAfter { compare(after[name], want, "\(c.name) state \(name) after forward") }
            }
        }
        XCTAssertGreaterThan(comparisons, 250, "every case must compare its output and gradients")
        print("NNReferenceTests: \(cases.count) cases, \(comparisons) tensors compared with PyTorch")
    }

    /// MultiheadAttention's fused kernel (taken when no weights are wanted while autograd records,
    /// and whenever autograd is off) against the same PyTorch cases: output, input and parameter
    /// gradients, and the weights under no-grad.
    func testFusedAttentionAgainstPyTorch() throws {
        var cases = 0
        for c in try Self.load() where c.kind == "layer" {
            guard let mha = makeLayer(c) as? MultiheadAttention, !(c.train && mha.dropout > 0) else { continue }
            cases += 1
            try mha.loadStateDict(c.state.mapValues { $0.tensor() })
            mha.train(c.train)
            let inputs = c.inputs.map { $0.tensor() }
            var rest = Array(inputs.dropFirst(3))
            let kpm = (c.args["kpm"]?.bool ?? false) ? rest.removeFirst() : nil
            let am = (c.args["am"]?.bool ?? false) ? rest.removeFirst() : nil
            for x in inputs.prefix(3) { x.requiresGrad = true }
            let out = mha(query: inputs[0], key: inputs[1], value: inputs[2], keyPaddingMask: kpm, attnMask: am, needWeights: false).output
            compare(out, c.output, "\(c.name) fused output")
            out.backward(c.gradOutput.tensor())
            for (i, want) in c.inputGrads.enumerated() where i < 3 { compare(inputs[i].grad, want, "\(c.name) fused grad of input \(i)") }
            let params = Dictionary(uniqueKeysWithValues: mha.namedParameters())
            for (name, want) in c.paramGrads { compare(params[name]?.grad, want, "\(c.name) fused grad of \(name)") }
            let w = withNoGrad { mha(query: inputs[0], key: inputs[1], value: inputs[2], keyPaddingMask: kpm, attnMask: am).weights }
            compare(w, c.extraOutputs?.first, "\(c.name) fused attention weights")
        }
        XCTAssertGreaterThan(cases, 1)
    }
}

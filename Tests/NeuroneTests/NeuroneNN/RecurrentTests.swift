import Foundation
import XCTest
@testable import Neurone
@testable import NeuroneDevice
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneIO

/// RNN, LSTM, GRU and their cells: against PyTorch (scripts/make_rnn_reference.py), by finite
/// differences in float64 (sequences of 50+ steps included), on the reference device, and their
/// state-dict names and messages.
final class RecurrentTests: XCTestCase {
    struct Case {
        let name: String, kind: String, args: [String: Any]
        let t: [String: Tensor]
        func opt(_ key: String) -> Tensor? { t["\(name).\(key)"] }
        func get(_ key: String) -> Tensor { t["\(name).\(key)"]! }
        var params: [String: Tensor] {
            let prefix = "\(name).param."
            return Dictionary(uniqueKeysWithValues: t.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
    }

    static func cases() throws -> [Case] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "rnn_torch", withExtension: "safetensors", subdirectory: "Reference"))
        let (tensors, meta) = try Safetensors.read(url.path)
        let all = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(meta["cases"]).utf8)) as? [String: [String: Any]])
        return all.keys.sorted().map { name in Case(name: name, kind: all[name]!["kind"] as! String, args: all[name]!, t: tensors) }
    }

    /// The layer of a case, in `dtype`.
    func makeLayer(_ c: Case, dtype: DType) -> Module {
        let i = c.args["input_size"] as! Int, h = c.args["hidden_size"] as! Int
        let layers = c.args["num_layers"] as? Int ?? 1, bias = c.args["bias"] as? Bool ?? true
        let bf = c.args["batch_first"] as? Bool ?? false, bidir = c.args["bidirectional"] as? Bool ?? false
        let relu = (c.args["nonlinearity"] as? String) == "relu"
        switch c.kind {
        case "RNN": return RNN(i, h, numLayers: layers, nonlinearity: relu ? .relu : .tanh, bias: bias, batchFirst: bf, bidirectional: bidir, dtype: dtype)
        case "LSTM": return LSTM(i, h, numLayers: layers, bias: bias, batchFirst: bf, bidirectional: bidir, dtype: dtype)
        case "GRU": return GRU(i, h, numLayers: layers, bias: bias, batchFirst: bf, bidirectional: bidir, dtype: dtype)
        case "RNNCell": return RNNCell(i, h, bias: bias, nonlinearity: relu ? .relu : .tanh, dtype: dtype)
        case "LSTMCell": return LSTMCell(i, h, bias: bias, dtype: dtype)
        case "GRUCell": return GRUCell(i, h, bias: bias, dtype: dtype)
        default: fatalError("unknown case kind \(c.kind)")
        }
    }

    /// Runs a layer of any kind: (output, h_n, c_n), as the reference script names them.
    func run(_ layer: Module, _ x: Tensor, h0: Tensor?, c0: Tensor?) -> (Tensor, Tensor?, Tensor?) {
        switch layer {
        case let l as LSTM:
            let r = l(x, h0.map { ($0, c0!) })
            return (r.output, r.state.h, r.state.c)
        case let l as RNN: let r = l(x, h0); return (r.output, r.h, nil)
        case let l as GRU: let r = l(x, h0); return (r.output, r.h, nil)
        case let l as LSTMCell: let r = l(x, h0.map { ($0, c0!) }); return (r.h, nil, r.c)
        case let l as RNNCell: return (l(x, h0), nil, nil)
        case let l as GRUCell: return (l(x, h0), nil, nil)
        default: fatalError()
        }
    }

    func assertClose(_ got: Tensor?, _ want: Tensor?, _ label: String, tol: Double) {
        guard let want else { return }
        guard let got else { return XCTFail("\(label): missing") }
        XCTAssertEqual(got.shape, want.shape, label)
        guard got.shape == want.shape else { return }
        let g = got.to(.float64).toArray(as: Double.self), w = want.toArray(as: Double.self)
        var worst = 0.0
        for k in 0..<w.count { worst = Swift.max(worst, Swift.abs(g[k] - w[k]) / (1 + Swift.abs(w[k]))) }
        XCTAssertLessThanOrEqual(worst, tol, label)
    }

    /// Outputs, final states and the gradients of input, initial states and every parameter, in
    /// float64 (to 1e-10) and float32 (to 2e-5), on every device registered.
    func testAgainstPyTorch() throws {
        let cases = try Self.cases()
        XCTAssertEqual(cases.count, 12)
        for device in Device.registered {
            for (dtype, tol) in [(DType.float64, 1e-10), (.float32, 2e-5)] {
                for c in cases {
                    let label = "\(c.name) \(dtype) on \(device.name)"
                    let layer = makeLayer(c, dtype: dtype).to(device)
                    try layer.loadStateDict(c.params)
                    func leaf(_ t: Tensor?) -> Tensor? {
                        guard let t else { return nil }
                        let l = t.to(dtype).to(device: device).detach()
                        l.requiresGrad = true
                        return l
                    }
                    let x = leaf(c.get("input"))!, h0 = leaf(c.opt("h0")), c0 = leaf(c.opt("c0"))
                    let (out, hn, cn) = run(layer, x, h0: h0, c0: c0)
                    assertClose(out, c.get("output"), "\(label) output", tol: tol)
                    assertClose(hn, c.opt("h_n"), "\(label) h_n", tol: tol)
                    assertClose(cn, c.opt("c_n"), "\(label) c_n", tol: tol)
                    var loss = (out * c.get("w_output").to(dtype).to(device: device)).sum()
                    if let h = hn { loss = loss + (h * c.get("w_h_n").to(dtype).to(device: device)).sum() }
                    if let cc = cn { loss = loss + (cc * c.get("w_c_n").to(dtype).to(device: device)).sum() }
                    loss.backward()
                    assertClose(x.grad, c.get("grad.input"), "\(label) grad input", tol: tol)
                    assertClose(h0?.grad, c.opt("grad.h0"), "\(label) grad h0", tol: tol)
                    assertClose(c0?.grad, c.opt("grad.c0"), "\(label) grad c0", tol: tol)
                    let params = layer.namedParameters()
                    XCTAssertEqual(Set(params.map { $0.0 }), Set(c.params.keys), label)
                    for (name, p) in params { assertClose(p.grad, c.get("grad.param.\(name)"), "\(label) grad \(name)", tol: tol) }
                }
            }
        }
    }

    /// Finite differences in float64 through every input: x, h0, c0 and every parameter,
    /// including a 50-step LSTM and GRU where errors would accumulate.
    func testGradcheck() {
        let gen = Generator(seed: 22)
        func r(_ shape: [Int]) -> Tensor { Tensor.uniform(shape, low: -1, high: 1, dtype: .float64, generator: gen) }
        let layers: [(String, RNNBase, [Int], Bool)] = [
            ("rnn tanh, 2 layers, bidirectional", RNN(3, 4, numLayers: 2, bidirectional: true, dtype: .float64, generator: gen), [5, 2, 3], true),
            ("rnn relu, batch first", RNN(3, 4, nonlinearity: .relu, batchFirst: true, dtype: .float64, generator: gen), [2, 5, 3], true),
            ("lstm, 2 layers, bidirectional", LSTM(3, 3, numLayers: 2, bidirectional: true, dtype: .float64, generator: gen), [4, 2, 3], true),
            ("lstm, no bias, zero state", LSTM(2, 3, bias: false, dtype: .float64, generator: gen), [4, 2, 2], false),
            ("gru, 2 layers, bidirectional", GRU(3, 3, numLayers: 2, bidirectional: true, dtype: .float64, generator: gen), [4, 2, 3], true),
            ("gru, unbatched", GRU(2, 3, dtype: .float64, generator: gen), [5, 2], true),
            ("lstm, 50 steps", LSTM(2, 3, dtype: .float64, generator: gen), [50, 2, 2], true),
            ("gru, 50 steps, bidirectional", GRU(2, 2, bidirectional: true, dtype: .float64, generator: gen), [50, 1, 2], true),
        ]
        for (name, layer, shape, withState) in layers {
            let unbatched = shape.count == 2
            let stateShape = [layer.numLayers * layer.numDirections] + (unbatched ? [] : [layer.batchFirst ? shape[0] : shape[1]]) + [layer.hiddenSize]
            let lstm = layer.mode == .lstm
            var inputs = [r(shape)]
            if withState { inputs.append(r(stateShape)); if lstm { inputs.append(r(stateShape)) } }
            let first = inputs.count
            inputs += layer.flatWeights.map { $0.wrappedValue.detach() }
            // The whole output would make one backward pass per element: its first and last steps
            // and the final states carry every path through time.
            let result = gradcheck({ xs in
                for (k, p) in layer.flatWeights.enumerated() { p.wrappedValue = xs[first + k] }
                let r = layer.run(xs[0], h0: withState ? xs[1] : nil, c0: withState && lstm ? xs[2] : nil)
                let steps = r.output.shape[layer.batchFirst ? 1 : 0]
                let seq = layer.batchFirst ? r.output.transpose(0, 1) : r.output
                var parts = [seq.select(dim: 0, index: 0).reshape([-1]), seq.select(dim: 0, index: steps - 1).reshape([-1]), r.h.reshape([-1])]
                if let c = r.c { parts.append(c.reshape([-1])) }
                return Tensor.cat(parts)
            }, inputs: inputs)
            XCTAssertTrue(result.passed, "\(name): \(result)")
        }
        let cells: [(String, RNNCellBase)] = [("rnn cell", RNNCell(3, 4, dtype: .float64, generator: gen)),
                                              ("relu rnn cell", RNNCell(3, 4, nonlinearity: .relu, dtype: .float64, generator: gen)),
                                              ("lstm cell", LSTMCell(3, 4, dtype: .float64, generator: gen)),
                                              ("gru cell", GRUCell(3, 4, dtype: .float64, generator: gen))]
        for (name, cell) in cells {
            let lstm = cell.kind == .lstm
            var inputs = [r([2, 3]), r([2, 4])]
            if lstm { inputs.append(r([2, 4])) }
            let first = inputs.count
            inputs += [cell.weightIH, cell.weightHH, cell.biasIH!, cell.biasHH!].map { $0.detach() }
            let result = gradcheck({ xs in
                (cell.weightIH, cell.weightHH, cell.biasIH, cell.biasHH) = (xs[first], xs[first + 1], xs[first + 2], xs[first + 3])
                let r = cell.step(xs[0], h: xs[1], c: lstm ? xs[2] : nil)
                return r.c.map { Tensor.cat([r.h.reshape([-1]), $0.reshape([-1])]) } ?? r.h
            }, inputs: inputs)
            XCTAssertTrue(result.passed, "\(name): \(result)")
        }
    }

    /// Batches of several row blocks on several threads (the CPU's packed path splits the batch
    /// in blocks of 6 rows, one thread running all steps of its blocks), and a batch of one row
    /// (W_hh·h by dot products, W_hh read in place), against the reference device: outputs, final
    /// states and every gradient. Batch 40: 360 rows of projections, over more than one of the
    /// 256-row blocks in which the CPU sums dW_ih and dW_hh together (a block ending mid-step).
    func testCPUSequenceKernelsAgainstTheReferenceDevice() throws {
        let gen = Generator(seed: 5)
        let layers: [RNNBase] = [LSTM(7, 64, bidirectional: true, generator: gen), GRU(5, 48, numLayers: 2, generator: gen),
                                 RNN(6, 40, nonlinearity: .relu, generator: gen), RNN(6, 33, generator: gen)]
        for layer in layers {
            layer.to(.cpu)  // made on the default device, which NEURONE_DEVICE may set to the reference one
            let twin = layer.mode == .lstm ? LSTM(7, 64, bidirectional: true) as RNNBase
                : layer.mode == .gru ? GRU(5, 48, numLayers: 2) : RNN(6, layer.hiddenSize, nonlinearity: layer.mode == .rnnReLU ? .relu : .tanh)
            try twin.loadStateDict(Dictionary(uniqueKeysWithValues: layer.stateDict()))
            twin.to(.reference)
          for batch in [20, 1, 40] {
            let x = Tensor.uniform([9, batch, layer.inputSize], low: -1, high: 1, generator: gen)
            let h0 = Tensor.uniform([layer.numLayers * layer.numDirections, batch, layer.hiddenSize], low: -1, high: 1, generator: gen)
            let c0 = layer.mode == .lstm ? Tensor.uniform(h0.shape, low: -1, high: 1, generator: gen) : nil
            var results: [[Tensor]] = []
            for (model, device) in [(layer, Device.cpu), (twin, Device.reference)] {
                let xs = x.to(device: device).detach(), hs = h0.to(device: device).detach(), cs = c0?.to(device: device).detach()
                for t in [xs, hs] + (cs.map { [$0] } ?? []) { t.requiresGrad = true }
                let r = model.run(xs, h0: hs, c0: cs)
                let w = Tensor.uniform(r.output.shape, low: -1, high: 1, generator: Generator(seed: 1)).to(device: device)
                ((r.output * w).sum() + r.h.sum() + (r.c?.sum() ?? r.h.sum())).backward()
                results.append([r.output, r.h, xs.grad!, hs.grad!] + (cs.map { [$0.grad!] } ?? []) + model.parameters().map { $0.grad! })
            }
            for (k, (a, b)) in zip(results[0], results[1]).enumerated() {
                assertClose(a, b.to(device: .cpu).to(.float64), "\(layer.typeName) H=\(layer.hiddenSize) batch \(batch) tensor \(k)", tol: 1e-4)
            }
          }
        }
    }

    /// The weight gradients when the input takes none (the first layer of a model over data): the
    /// CPU then sums dW_ih, db and dW_hh step by step from one step of dL/d projections per block
    /// of rows, never writing all of them (GRU: from g kept whole) — against the reference device over zero and given
    /// initial states, one step and nine, forward and reverse, one block of rows and several, on
    /// one thread and three (each block summing on its own, the sums added after the steps).
    func testWeightGradientsWhenTheInputTakesNone() throws {
        let gen = Generator(seed: 12)
        let saved = Threading.threadCount
        defer { Threading.threadCount = saved }
        let layers: [RNNBase] = [LSTM(7, 32, numLayers: 2, bidirectional: true, generator: gen), RNN(6, 40, generator: gen),
                                 LSTM(3, 20, bias: false, generator: gen), GRU(5, 24, bidirectional: true, generator: gen)]
        for layer in layers {
            layer.to(.cpu)
            let (f, hs, l, b, bi) = (layer.inputSize, layer.hiddenSize, layer.numLayers, layer.bias, layer.bidirectional)
            let twin = layer.mode == .lstm ? LSTM(f, hs, numLayers: l, bias: b, bidirectional: bi) as RNNBase
                : layer.mode == .gru ? GRU(f, hs, numLayers: l, bias: b, bidirectional: bi) : RNN(f, hs, numLayers: l, bias: b, bidirectional: bi)
            try twin.loadStateDict(Dictionary(uniqueKeysWithValues: layer.stateDict()))
            twin.to(.reference)
            for threads in [1, 3] {
                Threading.threadCount = threads
                for (steps, batch, given) in [(9, 40, false), (9, 20, true), (1, 40, false), (1, 18, true), (9, 1, false)] {
                    let x = Tensor.uniform([steps, batch, layer.inputSize], low: -1, high: 1, generator: gen)
                    let h0 = Tensor.uniform([layer.numLayers * layer.numDirections, batch, layer.hiddenSize], low: -1, high: 1, generator: gen)
                    let c0 = layer.mode == .lstm ? Tensor.uniform(h0.shape, low: -1, high: 1, generator: gen) : nil
                    let w = Tensor.uniform([steps, batch, layer.numDirections * layer.hiddenSize], low: -1, high: 1, generator: gen)
                    var results: [[Tensor]] = []
                    for (model, device) in [(layer, Device.cpu), (twin, Device.reference)] {
                        model.zeroGrad()
                        let r = model.run(x.to(device: device), h0: given ? h0.to(device: device) : nil, c0: given ? c0?.to(device: device) : nil)
                        ((r.output * w.to(device: device)).sum() + (r.c?.sum() ?? r.h.sum())).backward()
                        results.append([r.output] + model.parameters().map { $0.grad! })
                    }
                    for (k, (a, b)) in zip(results[0], results[1]).enumerated() {
                        assertClose(a, b.to(device: .cpu).to(.float64),
                                    "\(layer.typeName) \(threads) threads, \(steps) steps × \(batch), initial states \(given ? "given" : "zero"): tensor \(k)", tol: 1e-4)
                    }
                }
            }
        }
    }

    /// The recurrence's outputs reached one at a time: only the final c (no gradient reaches the
    /// hidden states), only the last step of a batch-first output (a transposed, mostly-zero
    /// gradient read where it lies), only h_n — on the CPU's packed float32 path against the
    /// reference device, and by finite differences in float64.
    func testGradientsThroughOneOutputAtATime() throws {
        let gen = Generator(seed: 9)
        let layer = LSTM(5, 24, batchFirst: true, bidirectional: true, generator: gen)
        layer.to(.cpu)
        let twin = LSTM(5, 24, batchFirst: true, bidirectional: true)
        try twin.loadStateDict(Dictionary(uniqueKeysWithValues: layer.stateDict()))
        twin.to(.reference)
        let x = Tensor.uniform([13, 7, 5], low: -1, high: 1, generator: gen)
        let w = Tensor.uniform([13, 48], low: -1, high: 1, generator: gen)
        let losses: [(String, (Tensor, Tensor, Tensor, Tensor) -> Tensor)] = [
            ("final c only", { _, _, c, _ in c.sum() }),
            ("last step of the output", { out, _, _, w in (out.select(dim: 1, index: -1) * w).sum() }),
            ("h_n only", { _, h, _, _ in (h * h).sum() }),
        ]
        for (name, loss) in losses {
            var grads: [[Tensor]] = []
            for (model, device) in [(layer, Device.cpu), (twin, Device.reference)] {
                model.zeroGrad()
                let xs = x.to(device: device).detach()
                xs.requiresGrad = true
                let r = model.run(xs, h0: nil, c0: nil)
                loss(r.output, r.h, r.c!, w.to(device: device)).backward()
                grads.append([xs.grad!] + model.parameters().map { $0.grad! })
            }
            for (k, (a, b)) in zip(grads[0], grads[1]).enumerated() {
                assertClose(a, b.to(device: .cpu).to(.float64), "\(name): tensor \(k)", tol: 1e-4)
            }
            XCTAssertGreaterThan(grads[0][0].abs().max().item(), 1e-3, "\(name): the input's gradient is not zero")
        }
        // A graph kept for a second pass: what the first pass handed over is not read again.
        let lstm = LSTM(4, 6, generator: gen)
        let input = Tensor.uniform([5, 3, 4], low: -1, high: 1, generator: gen)
        let xs = input.detach().requiringGrad()
        let r = lstm.run(xs, h0: nil, c0: nil)
        (r.output.sum() + r.c!.sum()).backward(retainGraph: true)
        xs.grad = nil
        r.c!.sum().backward(retainGraph: true)
        let again = xs.grad!.toArray(as: Float.self)
        let fresh = input.detach().requiringGrad()
        lstm.run(fresh, h0: nil, c0: nil).c!.sum().backward()
        XCTAssertEqual(again, fresh.grad!.toArray(as: Float.self), "the final c's gradient through a retained graph")

        let small = LSTM(2, 3, batchFirst: true, dtype: .float64, generator: gen)
        let inputs = [Tensor.uniform([2, 6, 2], low: -1, high: 1, dtype: .float64, generator: gen)] + small.flatWeights.map { $0.wrappedValue.detach() }
        for (name, pick) in [("final c", { (r: (output: Tensor, h: Tensor, c: Tensor?)) in r.c! }),
                             ("last step", { r in r.output.select(dim: 1, index: -1) })] {
            let result = gradcheck({ xs in
                for (k, p) in small.flatWeights.enumerated() { p.wrappedValue = xs[1 + k] }
                return pick(small.run(xs[0], h0: nil, c0: nil)).reshape([-1])
            }, inputs: inputs)
            XCTAssertTrue(result.passed, "\(name): \(result)")
        }
    }

    /// PyTorch's parameter names and shapes, in its order; printing as PyTorch does.
    func testStateDictNamesAndDescription() {
        let lstm = LSTM(10, 20, numLayers: 2, bidirectional: true)
        XCTAssertEqual(lstm.stateDict().map { "\($0.0) \($0.1.shape)" }, [
            "weight_ih_l0 [80, 10]", "weight_hh_l0 [80, 20]", "bias_ih_l0 [80]", "bias_hh_l0 [80]",
            "weight_ih_l0_reverse [80, 10]", "weight_hh_l0_reverse [80, 20]", "bias_ih_l0_reverse [80]", "bias_hh_l0_reverse [80]",
            "weight_ih_l1 [80, 40]", "weight_hh_l1 [80, 20]", "bias_ih_l1 [80]", "bias_hh_l1 [80]",
            "weight_ih_l1_reverse [80, 40]", "weight_hh_l1_reverse [80, 20]", "bias_ih_l1_reverse [80]", "bias_hh_l1_reverse [80]"])
        XCTAssertEqual(lstm.parameterCount, 2 * (80 * 10 + 80 * 20 + 160) + 2 * (80 * 40 + 80 * 20 + 160))
        XCTAssertEqual(GRU(3, 5, bias: false).stateDict().map { $0.0 }, ["weight_ih_l0", "weight_hh_l0"])
        XCTAssertEqual(GRUCell(3, 5).stateDict().map { "\($0.0) \($0.1.shape)" }, ["weight_ih [15, 3]", "weight_hh [15, 5]", "bias_ih [15]", "bias_hh [15]"])
        XCTAssertEqual(lstm.description, "LSTM(10, 20, num_layers=2, bidirectional=True)")
        XCTAssertEqual(RNN(4, 8, nonlinearity: .relu, batchFirst: true).description, "RNN(4, 8, nonlinearity='relu', batch_first=True)")
        // PyTorch's initialisation bound, 1/√H.
        let values = GRU(3, 16, generator: Generator(seed: 1)).parameters().flatMap { $0.toArray(as: Float.self) }
        XCTAssertLessThanOrEqual(values.map { Swift.abs($0) }.max()!, 0.25)
        XCTAssertGreaterThan(values.map { Swift.abs($0) }.max()!, 0.24)
    }

    /// Dropout between layers (training only), seeded: the same seed gives the same output, and
    /// evaluation mode none.
    func testDropoutBetweenLayers() {
        let x = Tensor.uniform([4, 2, 3], low: -1, high: 1, generator: Generator(seed: 3))
        func make() -> LSTM { LSTM(3, 5, numLayers: 2, dropout: 0.5, generator: Generator(seed: 9)) }
        let a = make(), b = make()
        XCTAssertEqual(a(x).toArray(as: Float.self), b(x).toArray(as: Float.self))
        let noDrop = LSTM(3, 5, numLayers: 2, generator: Generator(seed: 9))
        XCTAssertNotEqual(make()(x).toArray(as: Float.self), noDrop(x).toArray(as: Float.self))
        let evaluated = make()
        evaluated.eval()
        XCTAssertEqual(evaluated(x).toArray(as: Float.self), noDrop(x).toArray(as: Float.self))
    }

    /// Summaries run on the meta device (shapes only).
    func testShapesOnTheMetaDevice() {
        let gru = GRU(6, 4, numLayers: 2, batchFirst: true, bidirectional: true).to(.meta)
        let r = gru(Tensor.zeros([3, 7, 6], device: .meta), nil)
        XCTAssertEqual(r.output.shape, [3, 7, 8])
        XCTAssertEqual(r.h.shape, [4, 3, 4])
    }
}

import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneONNXProto

/// An `nn.RNN` unrolled into its steps, as PyTorch's dynamo exporter writes it (no RNN op: one
/// MatMul of the whole sequence by W_ih, then per step a MatMul by W_hh, the bias Adds and Tanh or
/// Relu, the steps Concatenated — reversed for the second direction — and the next layer on
/// that). Found by its weights — per layer and direction an [H, F] matrix, then an [H, H] one
/// used at (nearly) every step — and recognised by what it computes: the block is run on a probe
/// (ONNXEvaluator) and compared with Neurone's `RNN` of those weights, tanh or relu, one or two
/// directions, with and without the layers that follow.
extension ChainReader {
    /// The distinct constant matrices the projections from `x` use, in order of first use.
    struct WeightUse {
        var name: String
        var projection: Projection
        var uses: [Int]
    }

    /// `rnn(…)` for the unrolled steps starting at node `i` (reading the chain's T×F value); the
    /// nodes used, or nil when they are not an unrolled RNN.
    mutating func unrolledRecurrentPattern(_ nodes: [Onnx_NodeProto], _ i: Int) throws -> Int? {
        guard shape.count == 2 else { return nil }
        let steps = shape[0], features = shape[1], x = current
        // the projections by constant matrices computed from x, grouped by matrix
        var derived: Set<String> = [x], weights: [WeightUse] = [], lastUse: [String: Int] = [:]
        for k in i..<nodes.count where nodes[k].input.contains(where: derived.contains) {
            derived.formUnion(nodes[k].output)
            guard ["MatMul", "Gemm"].contains(nodes[k].opType), derived.contains(nodes[k].input[0]), nodes[k].input.count > 1,
                  let p = projection(at: k, nodes) else { continue }
            let name = nodes[k].input[1]
            if let w = weights.firstIndex(where: { $0.name == name }) { weights[w].uses.append(k) } else {
                weights.append(WeightUse(name: name, projection: p, uses: [k]))
                if weights.count > 64 { break }
            }
            lastUse[name] = k
        }
        guard weights.count >= 2, weights[0].projection.weight.shape[1] == features,
              isLayout(nodes[weights[0].uses[0]].input[0], of: x, nodes) else { return nil }
        let hidden = weights[0].projection.weight.shape[0]
        func recurrent(_ w: WeightUse) -> Bool { w.projection.weight.shape == [hidden, hidden] && w.uses.count >= Swift.max(1, steps - 1) }
        // layers of (W_ih, W_hh) per direction, as long as the matrices follow that pattern
        var options: [(layers: Int, directions: Int)] = []
        for d in [1, 2] {
            var l = 0
            while (l + 1) * 2 * d <= weights.count {
                let group = weights[(l * 2 * d)..<((l + 1) * 2 * d)]
                let inFeatures = l == 0 ? features : d * hidden
                let fits = stride(from: group.startIndex, to: group.endIndex, by: 2).allSatisfy {
                    weights[$0].projection.weight.shape == [hidden, inFeatures] && recurrent(weights[$0 + 1])
                }
                guard fits else { break }
                l += 1
            }
            for layers in stride(from: l, through: 1, by: -1) { options.append((layers, d)) }
        }
        guard !options.isEmpty else { return nil }
        let batch = fixedBatch ?? 2
        guard let size = CheckedSize.product([batch, steps, Swift.max(features, 2 * hidden)]), size <= ChainReader.maxEvaluatedValues else { return nil }
        let probe = ChainReader.probe([batch, steps, features])
        let input = Tensor(probe.values, shape: probe.shape, dtype: .float64)
        for option in options.sorted(by: { $0.layers * $0.directions > $1.layers * $1.directions }) {
            let used = weights.prefix(option.layers * 2 * option.directions)
            let last = used.map { lastUse[$0.name]! }.max()!
            // the output: a value computed after the last step that is [N, T, D·H]
            let ends = (last..<Swift.min(nodes.count, last + 12)).filter { k in nodes[k].input.contains(where: derived.contains) }
            guard let end = ends.last else { continue }
            var evaluator = Evaluator(self, nodes: nodes, allowed: i...end, batch: batch, inputs: [x: probe])
            let hasBias = used.contains { $0.projection.bias != nil }
            var state: [String: Tensor] = [:]
            for (j, w) in used.enumerated() {
                let l = j / (2 * option.directions), suffix = (j / 2) % option.directions == 1 ? "_reverse" : ""
                let kind = j % 2 == 0 ? "ih" : "hh"
                state["weight_\(kind)_l\(l)\(suffix)"] = w.projection.weight
                if hasBias { state["bias_\(kind)_l\(l)\(suffix)"] = w.projection.bias ?? Tensor.zeros([hidden]) }
            }
            for nonlinearity in [RNN.Nonlinearity.tanh, .relu] {
                let rnn = RNN(features, hidden, numLayers: option.layers, nonlinearity: nonlinearity, bias: hasBias, batchFirst: true,
                              bidirectional: option.directions == 2, dtype: .float64)
                guard (try? rnn.loadStateDict(state.mapValues { $0.to(.float64) })) != nil else { continue }
                let reference = withNoGrad { rnn(input, nil).output }.contiguous().toArray(as: Double.self)
                for k in ends {
                    guard let value = nodes[k].output.first, let y = try? evaluator.value(value),
                          y.shape == [batch, steps, option.directions * hidden] else { continue }
                    let scale = Swift.max(1, y.values.map { abs($0) }.max() ?? 0)
                    guard zip(reference, y.values).allSatisfy({ abs($0 - $1) <= 1e-6 * scale }) else { continue }
                    // the block: what the output is computed from, and nothing else in between
                    let block = ancestors(of: value, nodes, within: i...k)
                    guard block == Array(i...k) else { return nil }
                    try checkSealed(nodes, inside: Set(block.flatMap { nodes[$0].output } + [x]).subtracting([value]),
                                    after: k, block: nodes[k], what: "an unrolled RNN")
                    var args = ["\(hidden)"]
                    if option.layers > 1 { args.append("layers=\(option.layers)") }
                    if option.directions == 2 { args.append("bidirectional=true") }
                    if !hasBias { args.append("bias=false") }
                    if nonlinearity == .relu { args.append("nonlinearity=relu") }
                    append("rnn(\(args.joined(separator: ",")))", state, nodes: block.map { nodes[$0] }, output: value,
                           shape: [steps, option.directions * hidden])
                    return block.count
                }
            }
        }
        return nil
    }

    /// The walked nodes within `range` that `value` is computed from (through static nodes too), sorted.
    func ancestors(of value: String, _ nodes: [Onnx_NodeProto], within range: ClosedRange<Int>) -> [Int] {
        var used = Set<Int>(), seen = Set<String>(), stack = [value]
        while let v = stack.popLast() {
            guard seen.insert(v).inserted else { continue }
            if let k = valueProducers[v], range.contains(k) {
                used.insert(k)
                stack += nodes[k].input.filter { !$0.isEmpty }
            } else if let node = staticNodes[v] {
                stack += node.input.filter { !$0.isEmpty }
            }
        }
        return used.sorted()
    }
}

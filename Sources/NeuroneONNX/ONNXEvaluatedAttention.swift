import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneONNXProto

/// Self-attention recognised by what it computes: PyTorch's own exports of
/// `nn.MultiheadAttention` (inside `nn.TransformerEncoderLayer` or alone), through the dynamo
/// and the TorchScript exporter, arrange the same function in ways that change between
/// exporters and versions (one fused in-projection split by Reshape/Transpose/Squeeze/Gather, the
/// scale applied to Q and K apart, a causal mask computed from shapes by Trilu/Equal/Where, ~100
/// nodes of shape arithmetic). Here the block from the layer's input to the output projection is
/// found by its landmarks — in-projections (MatMul or Gemm by constant matrices) reading the
/// input through layout nodes only, a Softmax, then an [E, E] output projection — and run on a
/// seeded probe input by the evaluator (ONNXEvaluator); the result is compared with Neurone's
/// `MultiheadAttention` of the weights found, for each number of heads dividing E, unmasked and
/// causal. The one that computes the same becomes the layer.
extension ChainReader {
    /// A linear map read from a MatMul or Gemm by a constant matrix, with its bias (Gemm's C or an
    /// Add of a constant vector after it).
    struct Projection {
        var weight: Tensor   // [out, in], float32
        var bias: Tensor?
        var node: Int
        /// The last node of the projection (the bias Add when there is one) and its output.
        var end: Int
        var output: String
    }

    /// What a self-attention read gives: its state (PyTorch's names), heads, mask, output and nodes.
    typealias AttentionRead = (state: [String: Tensor], heads: Int, causal: Bool, output: String, nodes: [Int])

    /// `name` as a constant: an initializer, a Constant node, or shape arithmetic (an Identity
    /// of an initializer, as PyTorch writes weights it found equal) that is the same for every batch.
    func resolvedConstant(_ name: String) -> Tensor? {
        if let t = constants[name] { return t }
        return (try? staticConstant(name)) ?? nil
    }

    /// A float vector of `count` values at `name`, or nil.
    func constantVector(_ name: String, count: Int) -> Tensor? {
        guard let b = resolvedConstant(name), b.dtype.isFloatingPoint, b.count == count else { return nil }
        return b.to(.float32).reshape([count]).contiguous()
    }

    /// The projection computed by node `k` (MatMul(x, W) or Gemm(x, W[, b])), or nil.
    func projection(at k: Int, _ nodes: [Onnx_NodeProto]) -> Projection? {
        let node = nodes[k]
        guard node.input.count >= 2, node.output.count >= 1, let c = resolvedConstant(node.input[1]), c.dtype.isFloatingPoint, c.rank == 2,
              constants[node.input[0]] == nil else { return nil }
        let m = c.to(.float32)
        var weight: Tensor, bias: Tensor?
        switch node.opType {
        case "MatMul":
            weight = m.transpose(0, 1).contiguous()
        case "Gemm":
            guard float(node, "alpha", 1) == 1, float(node, "beta", 1) == 1, int(node, "transA", 0) == 0 else { return nil }
            weight = int(node, "transB", 0) != 0 ? m.contiguous() : m.transpose(0, 1).contiguous()
            if node.input.count > 2, !node.input[2].isEmpty {
                guard let b = constantVector(node.input[2], count: weight.shape[0]) else { return nil }
                bias = b
            }
        default:
            return nil
        }
        var read = Projection(weight: weight, bias: bias, node: k, end: k, output: node.output[0])
        let r = readers(read.output, from: k + 1)
        if bias == nil, r.count == 1, nodes[r[0]].opType == "Add", nodes[r[0]].input.count == 2,
           let other = nodes[r[0]].input.first(where: { $0 != read.output }), let b = constantVector(other, count: weight.shape[0]) {
            read.bias = b
            read.end = r[0]
            read.output = nodes[r[0]].output[0]
        }
        return read
    }

    /// The ops that only move values (what lies between a layer's input and its projections).
    static let layoutOps: Set<String> = ["Transpose", "Reshape", "Identity", "Squeeze", "Unsqueeze", "Flatten"]

    /// Whether `value` is `x` seen through layout nodes only.
    func isLayout(_ value: String, of x: String, _ nodes: [Onnx_NodeProto]) -> Bool {
        var v = value
        for _ in 0..<16 {
            if v == x { return true }
            guard let k = valueProducers[v], ChainReader.layoutOps.contains(nodes[k].opType), let input = nodes[k].input.first else { return false }
            v = input
        }
        return false
    }

    /// The seeded probe a block is run on: values in (−2, 2).
    static func probe(_ shape: [Int]) -> Folded {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let n = shape.reduce(1, *)
        let values = (0..<n).map { _ -> Double in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) * 4 - 2
        }
        return Folded(shape: shape, values: values, integer: false)
    }

    /// Self-attention of the [N, T, E] value `x` recognised by evaluation (see the extension's
    /// documentation); nil when the landmarks are not there, an error when they are but the
    /// block computes something other than multi-head self-attention.
    func evaluatedSelfAttention(_ x: String, steps: Int, embed e: Int, _ nodes: [Onnx_NodeProto], from: Int) throws -> AttentionRead? {
        guard from < nodes.count else { return nil }
        // the first Softmax computed from x
        var derived: Set<String> = [x], softmax: Int?
        for k in from..<nodes.count where nodes[k].input.contains(where: derived.contains) {
            derived.formUnion(nodes[k].output)
            if nodes[k].opType == "Softmax" { softmax = k; break }
        }
        guard let s = softmax else { return nil }
        let inProjections = (from..<s).filter { ["MatMul", "Gemm"].contains(nodes[$0].opType) && derived.contains(nodes[$0].input.first ?? "") }
            .compactMap { projection(at: $0, nodes) }
        guard !inProjections.isEmpty,
              inProjections.allSatisfy({ $0.weight.shape[1] == e && isLayout(nodes[$0.node].input[0], of: x, nodes) }) else { return nil }
        var blocks: [Projection] = []
        if inProjections.count == 1, inProjections[0].weight.shape[0] == 3 * e {
            let p = inProjections[0]
            let w = p.weight.chunk(3, dim: 0), b = p.bias?.chunk(3, dim: 0)
            blocks = (0..<3).map { Projection(weight: w[$0].contiguous(), bias: b?[$0].contiguous(), node: p.node, end: p.end, output: p.output) }
        } else if inProjections.count == 3, inProjections.allSatisfy({ $0.weight.shape[0] == e }) {
            blocks = inProjections
        } else { return nil }
        // the output projection: the first MatMul/Gemm by a constant after the softmax, reading what it mixed
        var mixed: Set<String> = [nodes[s].output[0]], outProjection: Projection?
        for k in (s + 1)..<nodes.count where nodes[k].input.contains(where: mixed.contains) {
            if ["MatMul", "Gemm"].contains(nodes[k].opType), mixed.contains(nodes[k].input[0]), let p = projection(at: k, nodes) {
                outProjection = p
                break
            }
            mixed.formUnion(nodes[k].output)
        }
        guard var out = outProjection, out.weight.shape == [e, e] else { return nil }
        // the block's output: the projection's, or a layout of it (and its bias) that is [N, T, E] again
        var candidates = [(value: out.output, end: out.end, bias: out.bias)]
        var v = out.output, end = out.end, bias = out.bias
        for _ in 0..<8 {
            let r = readers(v, from: end + 1)
            guard r.count == 1, let next = nodes[r[0]].output.first else { break }
            let node = nodes[r[0]]
            if ChainReader.layoutOps.contains(node.opType) || node.opType == "Dropout", node.input.first == v {
            } else if node.opType == "Add", bias == nil, node.input.count == 2,
                      let b = node.input.first(where: { $0 != v }).flatMap({ constantVector($0, count: e) }) {
                bias = b
            } else { break }
            v = next
            end = r[0]
            candidates.append((v, end, bias))
        }
        // run the block on the probe and compare with MultiheadAttention
        let batch = fixedBatch ?? 2
        guard let size = CheckedSize.product([batch, steps, e]), size <= ChainReader.maxEvaluatedValues else {
            throw fail(nodes[s], "it is the softmax of an attention block that import would run on a probe of \(batch)×\(steps)×\(e) values to recognise; at most \(ChainReader.maxEvaluatedValues) are run")
        }
        let probe = ChainReader.probe([batch, steps, e])
        var evaluator = Evaluator(self, nodes: nodes, allowed: from...candidates.last!.end, batch: batch, inputs: [x: probe])
        let input = Tensor(probe.values, shape: probe.shape, dtype: .float64)
        let heads = (1...e).filter { e % $0 == 0 }
        var evaluated = false, problem = ""
        for candidate in candidates.reversed() {
            let y: Folded
            do { y = try evaluator.value(candidate.value) } catch { problem = "\(error)"; continue }
            guard y.shape == [batch, steps, e], y.values.allSatisfy({ $0.isFinite }) else { continue }
            evaluated = true
            out.bias = candidate.bias
            let hasBias = blocks.contains { $0.bias != nil } || out.bias != nil
            let scale = y.values.map { abs($0) }.max() ?? 0
            for order in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
                var state = ["in_proj_weight": Tensor.cat(order.map { blocks[$0].weight }, dim: 0).contiguous(), "out_proj.weight": out.weight]
                if hasBias {
                    state["in_proj_bias"] = Tensor.cat(order.map { blocks[$0].bias ?? Tensor.zeros([e]) }, dim: 0).contiguous()
                    state["out_proj.bias"] = out.bias ?? Tensor.zeros([e])
                }
                for h in heads {
                    let attention = MultiheadAttention(embedDim: e, numHeads: h, bias: hasBias, batchFirst: true, dtype: .float64)
                    try attention.loadStateDict(state.mapValues { $0.to(.float64) })
                    for causal in [false, true] {
                        let mask = causal ? Tensor.causalMask(steps, dtype: .float64) : nil
                        let reference = withNoGrad { attention(query: input, key: input, value: input, attnMask: mask, needWeights: false).output }
                        let diff = zip(reference.contiguous().toArray(as: Double.self), y.values).map { abs($0 - $1) }.max() ?? 0
                        guard diff <= 1e-6 * Swift.max(1, scale) else { continue }
                        // the block's nodes: what the output is computed from, from `from` on
                        return (state, h, causal, candidate.value, ancestors(of: candidate.value, nodes, within: from...candidate.end))
                    }
                }
            }
        }
        let what = "an attention block (in-projection '\(nodes[blocks[0].node].name)', softmax '\(nodes[s].name)', output projection '\(nodes[out.node].name)')"
        guard evaluated else {
            throw fail(nodes[s], "it is the softmax of \(what), whose output import could not compute as a [batch, \(steps), \(e)] value\(problem.isEmpty ? "" : " (\(problem))")")
        }
        // attention over the first axis: a model taking [T, N, E] (batch_first=False)
        var state = ["in_proj_weight": Tensor.cat(blocks.map { $0.weight }, dim: 0).contiguous(), "out_proj.weight": out.weight]
        let hasBias = blocks.contains { $0.bias != nil } || out.bias != nil
        if hasBias {
            state["in_proj_bias"] = Tensor.cat(blocks.map { $0.bias ?? Tensor.zeros([e]) }, dim: 0).contiguous()
            state["out_proj.bias"] = out.bias ?? Tensor.zeros([e])
        }
        for h in heads {
            let attention = MultiheadAttention(embedDim: e, numHeads: h, bias: hasBias, batchFirst: false, dtype: .float64)
            try attention.loadStateDict(state.mapValues { $0.to(.float64) })
            let reference = withNoGrad { attention(query: input, key: input, value: input, needWeights: false).output }.contiguous().toArray(as: Double.self)
            if let y = try? evaluator.value(candidates.last!.value), y.values.count == reference.count,
               zip(reference, y.values).allSatisfy({ abs($0 - $1) <= 1e-6 * Swift.max(1, abs($1)) }) {
                throw fail(nodes[s], "it is the softmax of self-attention over the input's first axis: the model takes time-first sequences ([steps, batch, features]: batch_first=False); import reads batch-first models (export with batch_first=True)")
            }
        }
        throw fail(nodes[s], "it is the softmax of \(what) that computes something other than multi-head self-attention (\(heads.map(String.init).joined(separator: ", ")) heads, unmasked or causal) of its weights")
    }
}

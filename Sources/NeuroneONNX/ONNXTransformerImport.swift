import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneONNXProto

/// Import of Transformer encoder layers and positional encodings: the branching subgraph of a
/// layer — self-attention (Q, K, V projections, heads, scaled scores, an optional causal mask,
/// softmax, the output projection), the residual Adds, the LayerNorms and the feed-forward block,
/// post- or pre-norm — is matched by following values from the layer's input, and becomes an
/// `encoder(…)` spec layer with PyTorch's state-dict names.
extension ChainReader {
    /// A linear layer read from a MatMul by a constant [in, out] and an optional Add of a bias.
    struct LinearRead {
        var weight: Tensor   // [out, in]
        var bias: Tensor?
        var output: String
        var nodes: [Int]
    }

    /// One encoder layer read.
    struct EncoderLayerRead {
        var heads: Int, ff: Int, normFirst: Bool, gelu: Bool, causal: Bool
        var state: [String: Tensor]
        var output: String
        var nodes: [Int]
        func sameKind(_ o: EncoderLayerRead) -> Bool { heads == o.heads && ff == o.ff && normFirst == o.normFirst && gelu == o.gelu && causal == o.causal }
    }

    /// The indices of the walked nodes (from `from` on) that read `value`.
    func readers(_ value: String, from: Int) -> [Int] {
        (valueReaders[value] ?? []).filter { $0 >= from }
    }

    /// The one node reading `value` that is an `op` (nil when none or several are).
    func reader(_ value: String, _ op: String, _ nodes: [Onnx_NodeProto], from: Int) -> Int? {
        let r = readers(value, from: from).filter { nodes[$0].opType == op }
        return r.count == 1 ? r[0] : nil
    }

    /// A constant of `node` at input `k` as float32 (an initializer, or one PyTorch's exporter
    /// passes through Identity), or nil.
    func floatConstant(_ node: Onnx_NodeProto, _ k: Int) -> Tensor? {
        guard k < node.input.count, let t = resolvedConstant(node.input[k]), t.dtype.isFloatingPoint else { return nil }
        return t.dtype == .float32 ? t : t.to(.float32)
    }

    /// MatMul(value, W [in, out]) with an optional Add of a bias [out].
    func linearFrom(_ value: String, inFeatures: Int, _ nodes: [Onnx_NodeProto], from: Int) -> LinearRead? {
        let candidates = readers(value, from: from).filter {
            nodes[$0].opType == "MatMul" && nodes[$0].input.first == value && floatConstant(nodes[$0], 1).map { $0.rank == 2 && $0.shape[0] == inFeatures } == true
        }
        guard candidates.count == 1 else { return nil }
        return linearAt(candidates[0], nodes)
    }

    func linearAt(_ m: Int, _ nodes: [Onnx_NodeProto]) -> LinearRead? {
        guard let wt = floatConstant(nodes[m], 1), wt.rank == 2 else { return nil }
        let out = wt.shape[1], y = nodes[m].output[0]
        var read = LinearRead(weight: wt.transpose(0, 1).contiguous(), bias: nil, output: y, nodes: [m])
        let r = readers(y, from: m + 1)
        if r.count == 1, nodes[r[0]].opType == "Add", let other = nodes[r[0]].input.first(where: { $0 != y }),
           let b = resolvedConstant(other), b.dtype.isFloatingPoint, b.count == out {
            read.bias = (b.dtype == .float32 ? b : b.to(.float32)).reshape([out])
            read.output = nodes[r[0]].output[0]
            read.nodes.append(r[0])
        }
        return read
    }

    /// LayerNormalization over the last axis at node `n`: weight, bias, eps.
    func layerNormAt(_ n: Int, features: Int, _ nodes: [Onnx_NodeProto]) -> (weight: Tensor, bias: Tensor, eps: Double)? {
        let node = nodes[n]
        guard node.opType == "LayerNormalization", [-1, 2].contains(int(node, "axis", -1)), let w = floatConstant(node, 1), w.count == features else { return nil }
        let b = floatConstant(node, 2) ?? Tensor.zeros([features])
        guard b.count == features else { return nil }
        return (w.reshape([features]), b.reshape([features]), float(node, "epsilon", 1e-5))
    }

    /// Self-attention of the [N, T, E] value `x`: in_proj/out_proj weights and biases, heads, the
    /// mask (nil or causal), output, nodes — as Neurone exports `MultiheadAttention`, or else
    /// recognised by what it computes (ONNXEvaluatedAttention: PyTorch's exports).
    func selfAttentionFrom(_ x: String, steps: Int, embed e: Int, _ nodes: [Onnx_NodeProto], from: Int) throws -> AttentionRead? {
        if let a = try neuroneSelfAttention(x, steps: steps, embed: e, nodes, from: from) { return a }
        return try evaluatedSelfAttention(x, steps: steps, embed: e, nodes, from: from)
    }

    /// Self-attention as Neurone's export writes it: three [E, E] projections, each reshaped to
    /// heads and transposed, the scores scaled by 1/√d, an optional causal mask constant.
    func neuroneSelfAttention(_ x: String, steps: Int, embed e: Int, _ nodes: [Onnx_NodeProto], from: Int) throws -> AttentionRead? {
        let projections = readers(x, from: from).filter {
            nodes[$0].opType == "MatMul" && nodes[$0].input.first == x && floatConstant(nodes[$0], 1)?.shape == [e, e]
        }
        guard projections.count == 3 else { return nil }
        // each projection: (+ bias) → Reshape [0, 0, h, d] → Transpose
        var branches: [(linear: LinearRead, heads: Int, perm: [Int], output: String, nodes: [Int])] = []
        for p in projections {
            guard let l = linearAt(p, nodes), let rs = reader(l.output, "Reshape", nodes, from: p + 1),
                  let target = constants[nodes[rs].input.count > 1 ? nodes[rs].input[1] : ""]?.toArray(as: Int64.self).map({ Int($0) }),
                  target.count == 4, target[2] >= 1, target[2] <= e, e % target[2] == 0, target[3] == e / target[2],
                  let tr = reader(nodes[rs].output[0], "Transpose", nodes, from: rs + 1), let perm = ints(nodes[tr], "perm") else { return nil }
            branches.append((l, target[2], perm, nodes[tr].output[0], l.nodes + [rs, tr]))
        }
        let heads = branches[0].heads, d = e / heads
        guard branches.allSatisfy({ $0.heads == heads }), let k = branches.firstIndex(where: { $0.perm == [0, 2, 3, 1] }),
              let scores = reader(branches[k].output, "MatMul", nodes, from: from), nodes[scores].input.count == 2, nodes[scores].input[1] == branches[k].output,
              let q = branches.firstIndex(where: { $0.output == nodes[scores].input[0] && $0.perm == [0, 2, 1, 3] }),
              let v = (0..<3).first(where: { $0 != k && $0 != q }), branches[v].perm == [0, 2, 1, 3] else { return nil }
        // × 1/√d (or ÷ √d), an optional additive mask, softmax over keys, × V
        var used = branches.flatMap { $0.nodes } + [scores]
        let s = nodes[scores].output[0]
        let scaleAt = readers(s, from: scores + 1)
        guard scaleAt.count == 1, let sc = floatConstant(nodes[scaleAt[0]], 1), sc.count == 1, nodes[scaleAt[0]].input.first == s else { return nil }
        let factor = sc.toArray(as: Double.self)[0]
        let scale = nodes[scaleAt[0]].opType == "Mul" ? factor : nodes[scaleAt[0]].opType == "Div" ? 1 / factor : .nan
        guard abs(scale * Double(d).squareRoot() - 1) < 1e-5 else {
            throw fail(nodes[scaleAt[0]], "it scales the attention scores by \(scale); import reads scaled dot-product attention (1/√\(d) for heads of \(d) features)")
        }
        used.append(scaleAt[0])
        var value = nodes[scaleAt[0]].output[0], causal = false
        if let add = reader(value, "Add", nodes, from: scaleAt[0] + 1), let mask = nodes[add].input.first(where: { $0 != value }).flatMap({ constants[$0] }) {
            let m = mask.to(.float64).toArray(as: Double.self)
            let isCausal = mask.count == steps * steps && (0..<steps).allSatisfy { i in
                (0..<steps).allSatisfy { j in j > i ? m[i * steps + j] <= -1e9 : m[i * steps + j] == 0 }
            }
            guard isCausal else { throw fail(nodes[add], "it adds a mask to the attention scores that is not the causal one; import reads unmasked or causal self-attention") }
            causal = true
            used.append(add)
            value = nodes[add].output[0]
        }
        guard let sm = reader(value, "Softmax", nodes, from: from), [-1, 3].contains(int(nodes[sm], "axis", -1)),
              let mix = reader(nodes[sm].output[0], "MatMul", nodes, from: sm + 1), nodes[mix].input == [nodes[sm].output[0], branches[v].output],
              let back = reader(nodes[mix].output[0], "Transpose", nodes, from: mix + 1), ints(nodes[back], "perm") == [0, 2, 1, 3],
              let join = reader(nodes[back].output[0], "Reshape", nodes, from: back + 1),
              let out = linearFrom(nodes[join].output[0], inFeatures: e, nodes, from: join + 1), out.weight.shape == [e, e] else { return nil }
        used += [sm, mix, back, join] + out.nodes
        let lq = branches[q].linear, lk = branches[k].linear, lv = branches[v].linear
        var state = ["in_proj_weight": Tensor.cat([lq.weight, lk.weight, lv.weight], dim: 0).contiguous(), "out_proj.weight": out.weight]
        if let bq = lq.bias, let bk = lk.bias, let bv = lv.bias, let bo = out.bias {
            state["in_proj_bias"] = Tensor.cat([bq, bk, bv], dim: 0).contiguous()
            state["out_proj.bias"] = bo
        } else if [lq.bias, lk.bias, lv.bias, out.bias].contains(where: { $0 != nil }) {
            throw fail(nodes[projections[0]], "some of its attention's projections have biases and others not; PyTorch's MultiheadAttention has all four or none")
        }
        return (state, heads, causal, out.output, used)
    }

    /// The feed-forward block from `x`: linear1, ReLU or GELU, linear2.
    func feedForwardFrom(_ x: String, embed e: Int, _ nodes: [Onnx_NodeProto], from: Int) -> (state: [String: Tensor], ff: Int, gelu: Bool, output: String, nodes: [Int])? {
        guard let l1 = linearFrom(x, inFeatures: e, nodes, from: from), let b1 = l1.bias else { return nil }
        let ff = l1.weight.shape[0]
        let next = readers(l1.output, from: l1.nodes.last! + 1)
        guard let first = next.min() else { return nil }
        var activation: (count: Int, gelu: Bool)?
        if nodes[first].opType == "Relu" && next.count == 1 { activation = (1, false) }
        else if nodes[first].opType == "Gelu" && next.count == 1 && string(nodes[first], "approximate", "none") == "none" { activation = (1, true) }
        else {
            var probe = self
            probe.current = l1.output
            if let (count, token) = probe.activationPattern(nodes, first), token == "gelu" { activation = (count, true) }
        }
        guard let act = activation else { return nil }
        let actNodes = Array(first..<(first + act.count))
        guard let l2 = linearFrom(nodes[first + act.count - 1].output[0], inFeatures: ff, nodes, from: first + act.count),
              l2.weight.shape[0] == e, let b2 = l2.bias else { return nil }
        return (["linear1.weight": l1.weight, "linear1.bias": b1, "linear2.weight": l2.weight, "linear2.bias": b2], ff, act.gelu, l2.output,
                l1.nodes + actNodes + l2.nodes)
    }

    /// Add(a, b) in either order, read after `from`.
    func sum(_ a: String, _ b: String, _ nodes: [Onnx_NodeProto], from: Int) -> Int? {
        let r = readers(a, from: from).filter { nodes[$0].opType == "Add" && Set(nodes[$0].input) == Set([a, b]) && nodes[$0].input.count == 2 }
        return r.count == 1 ? r[0] : nil
    }

    /// One encoder layer from `x` ([N, T, E]), post-norm or pre-norm.
    func encoderLayerFrom(_ x: String, steps: Int, embed e: Int, _ nodes: [Onnx_NodeProto], from: Int) throws -> EncoderLayerRead? {
        var state: [String: Tensor] = [:]
        func norm(_ n: Int, _ name: String) throws -> Bool {
            guard let ln = layerNormAt(n, features: e, nodes) else { return false }
            guard abs(ln.eps - 1e-5) <= 1e-9 else {
                throw fail(nodes[n], "its epsilon is \(ln.eps); import reads encoder layers with PyTorch's LayerNorm epsilon 1e-5")
            }
            state[name + ".weight"] = ln.weight
            state[name + ".bias"] = ln.bias
            return true
        }
        func attention(_ from: [String: Tensor], _ node: Int) throws {
            guard from["in_proj_bias"] != nil else {
                throw fail(nodes[node], "its attention has projections without biases; import reads encoder layers with biases (PyTorch's default)")
            }
            for (k, v) in from { state["self_attn." + k] = v }
        }
        // post-norm: LN(x + SA(x)), then LN(h + FF(h))
        if let a = try selfAttentionFrom(x, steps: steps, embed: e, nodes, from: from) {
            guard let s1 = sum(x, a.output, nodes, from: from), let n1 = reader(nodes[s1].output[0], "LayerNormalization", nodes, from: s1 + 1),
                  try norm(n1, "norm1") else { return nil }
            let h = nodes[n1].output[0]
            guard let f = feedForwardFrom(h, embed: e, nodes, from: n1 + 1), let s2 = sum(h, f.output, nodes, from: n1 + 1),
                  let n2 = reader(nodes[s2].output[0], "LayerNormalization", nodes, from: s2 + 1), try norm(n2, "norm2") else { return nil }
            try attention(a.state, a.nodes[0])
            state.merge(f.state) { a, _ in a }
            return EncoderLayerRead(heads: a.heads, ff: f.ff, normFirst: false, gelu: f.gelu, causal: a.causal, state: state,
                                    output: nodes[n2].output[0], nodes: a.nodes + [s1, n1] + f.nodes + [s2, n2])
        }
        // pre-norm: h = x + SA(LN(x)), then h + FF(LN(h))
        guard let n1 = reader(x, "LayerNormalization", nodes, from: from), try norm(n1, "norm1"),
              let a = try selfAttentionFrom(nodes[n1].output[0], steps: steps, embed: e, nodes, from: n1 + 1),
              let s1 = sum(x, a.output, nodes, from: from) else { return nil }
        let h = nodes[s1].output[0]
        guard let n2 = reader(h, "LayerNormalization", nodes, from: s1 + 1), try norm(n2, "norm2"),
              let f = feedForwardFrom(nodes[n2].output[0], embed: e, nodes, from: n2 + 1), let s2 = sum(h, f.output, nodes, from: s1 + 1) else { return nil }
        try attention(a.state, a.nodes[0])
        state.merge(f.state) { a, _ in a }
        return EncoderLayerRead(heads: a.heads, ff: f.ff, normFirst: true, gelu: f.gelu, causal: a.causal, state: state,
                                output: nodes[s2].output[0], nodes: [n1] + a.nodes + [s1, n2] + f.nodes + [s2])
    }

    /// Encoder layers starting at node `i` (which reads the chain's T×E value): `encoder(…)`
    /// spec layers, consecutive layers of one kind as one with `layers=`; the nodes used, or nil
    /// when node `i` does not start an encoder layer.
    mutating func encoderPattern(_ nodes: [Onnx_NodeProto], _ i: Int) throws -> Int? {
        guard shape.count == 2 else { return nil }
        let steps = shape[0], e = shape[1]
        var x = current, read: [EncoderLayerRead] = [], end = i
        while let layer = try encoderLayerFrom(x, steps: steps, embed: e, nodes, from: end) {
            let used = Set(layer.nodes)
            // the layer's nodes are the next ones in order, and nothing after them reads inside it
            guard used.count == layer.nodes.count, used == Set(end..<(end + used.count)) else {
                if read.isEmpty { return nil }
                break
            }
            try checkSealed(nodes, inside: Set(layer.nodes.flatMap { nodes[$0].output } + [x]).subtracting([layer.output]),
                            after: end + used.count - 1, block: nodes[end], what: "a Transformer encoder layer")
            read.append(layer)
            x = layer.output
            end += used.count
        }
        guard !read.isEmpty else { return nil }
        var groups: [[EncoderLayerRead]] = []
        for layer in read {
            if let last = groups.last?.last, last.sameKind(layer) { groups[groups.count - 1].append(layer) } else { groups.append([layer]) }
        }
        for group in groups {
            let first = group[0]
            var state: [String: Tensor] = [:]
            for (l, layer) in group.enumerated() { for (k, v) in layer.state { state["layers.\(l).\(k)"] = v } }
            var args = ["\(first.heads)", "ff=\(first.ff)"]
            if group.count > 1 { args.append("layers=\(group.count)") }
            args.append("dropout=0")
            if first.gelu { args.append("activation=gelu") }
            if first.normFirst { args.append("norm_first=true") }
            if first.causal { args.append("causal=true") }
            append("encoder(\(args.joined(separator: ",")))", state, nodes: group.flatMap { $0.nodes }.sorted().map { nodes[$0] },
                   output: group.last!.output, shape: shape)
        }
        return end - i
    }

    /// Self-attention of the chain's T×E value starting at node `i` (not inside an encoder
    /// layer): `attention(heads)`; the nodes used, or nil when node `i` does not start one.
    mutating func attentionPattern(_ nodes: [Onnx_NodeProto], _ i: Int) throws -> Int? {
        guard shape.count == 2,
              let a = try selfAttentionFrom(current, steps: shape[0], embed: shape[1], nodes, from: i) else { return nil }
        let used = Set(a.nodes)
        guard used.count == a.nodes.count, used == Set(i..<(i + used.count)) else { return nil }
        if a.causal { throw fail(nodes[i], "its self-attention has a causal mask, which the spec's attention layer does not (encoder(…,causal=true) does)") }
        try checkSealed(nodes, inside: Set(a.nodes.flatMap { nodes[$0].output } + [current]).subtracting([a.output]),
                        after: i + used.count - 1, block: nodes[i], what: "a self-attention layer")
        append("attention(\(a.heads)\(a.state["in_proj_bias"] == nil ? ",bias=false" : ""))", a.state, nodes: a.nodes.sorted().map { nodes[$0] },
               output: a.output, shape: shape)
        return used.count
    }

    /// Add of a constant [T, E] table at node `i` to a sequence: `posenc(max_len=T)` when it is
    /// the table of sinusoids, else a learned one, `posenc(max_len=T,learned=true)`; false for
    /// another Add.
    mutating func positionalEncoding(_ nodes: [Onnx_NodeProto], _ i: Int) -> Bool {
        let node = nodes[i]
        guard shape.count == 2, node.input.count == 2, let other = node.input.first(where: { $0 != current }),
              let table = resolvedConstant(other), table.dtype.isFloatingPoint, table.count == shape[0] * shape[1],
              table.shape.drop(while: { $0 == 1 }).elementsEqual(shape) else { return false }
        let values = (table.dtype == .float32 ? table : table.to(.float32)).reshape([shape[0], shape[1]]).contiguous()
        let pe = SinusoidalPositionalEncoding(dModel: shape[1], maxLength: shape[0]).pe
        if (values.to(.float64) - pe.to(.float64)).abs().max().item() <= 1e-6 {
            append("posenc(max_len=\(shape[0]))", ["pe": pe], nodes: [node], output: node.output[0], shape: shape)
        } else {
            append("posenc(max_len=\(shape[0]),learned=true)", ["embedding.weight": values], nodes: [node], output: node.output[0], shape: shape)
        }
        return true
    }
}

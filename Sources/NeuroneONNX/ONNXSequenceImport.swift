import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneONNXProto

/// Import of recurrent layers: ONNX's RNN, LSTM and GRU ops between the Transposes that take a
/// batch-first sequence to ONNX's time-first layout and back — as Neurone's export and PyTorch's
/// `torch.onnx.export` write an `nn.LSTM(batch_first=True)` — become `rnn`, `lstm`, `gru` spec
/// layers with PyTorch's weights (gates re-ordered back from ONNX's).
extension ChainReader {
    /// One ONNX recurrent op read: its kind, sizes and weights by PyTorch's names for layer `l`.
    struct RecurrentLayer {
        var mode: String          // "rnn", "lstm", "gru"
        var nonlinearity: String  // "tanh" or "relu" (rnn only)
        var hidden: Int
        var directions: Int
        var bias: Bool
        /// weight_ih, weight_hh, bias_ih, bias_hh per direction ("" or "_reverse")
        var weights: [(suffix: String, ih: Tensor, hh: Tensor, bih: Tensor?, bhh: Tensor?)]
        var nodes: [Onnx_NodeProto]

        func sameKind(_ o: RecurrentLayer) -> Bool {
            mode == o.mode && nonlinearity == o.nonlinearity && hidden == o.hidden && directions == o.directions && bias == o.bias
        }
    }

    static let recurrentOps: Set<String> = ["RNN", "LSTM", "GRU"]

    /// Transpose [1, 0, 2] of a T×F sequence, then recurrent ops (each followed by the nodes
    /// that turn its [T, D, N, H] output into [T, N, D·H]), then Transpose [1, 0, 2] back: the
    /// layers as spec tokens (stacked ops of one kind as one layer with `layers=`). Returns the
    /// nodes used, or nil when node `i` does not start such a pattern.
    mutating func recurrentPattern(_ nodes: [Onnx_NodeProto], _ i: Int) throws -> Int? {
        let open = nodes[i]
        guard open.opType == "Transpose", shape.count == 2, ints(open, "perm") == [1, 0, 2], open.input.first == current,
              i + 1 < nodes.count, ChainReader.recurrentOps.contains(nodes[i + 1].opType) else { return nil }
        let steps = shape[0]
        var value = open.output[0], features = shape[1], k = i + 1
        fullShapes[value] = [steps, -1, features]
        var read: [RecurrentLayer] = []
        while k < nodes.count, ChainReader.recurrentOps.contains(nodes[k].opType), nodes[k].input.first == value {
            var layer = try recurrentOp(nodes[k], features: features)
            let (used, out) = try timeFirstOutput(nodes, k + 1, from: nodes[k], steps: steps, directions: layer.directions, hidden: layer.hidden)
            layer.nodes += used
            read.append(layer)
            value = out
            features = layer.directions * layer.hidden
            k += 1 + used.count
        }
        guard k < nodes.count, nodes[k].opType == "Transpose", ints(nodes[k], "perm") == [1, 0, 2], nodes[k].input.first == value else {
            let at = k < nodes.count ? nodes[k] : nodes[k - 1]
            throw fail(at, "after the recurrent layers import expects a Transpose with perm [1, 0, 2] back to batch-first sequences (the layers' time-first output '\(value)' is read otherwise)")
        }
        // the values inside the pattern are read by nothing after it
        try checkSealed(nodes, inside: Set(([open] + read.flatMap { $0.nodes }).flatMap { $0.output }.filter { !$0.isEmpty }),
                        after: k, block: nodes[k], what: "the recurrent layers", expected: "import reads their output sequence only (no final states)")
        // stacked ops of one kind are one layer with several
        var groups: [[RecurrentLayer]] = []
        for layer in read {
            if let last = groups.last?.last, last.sameKind(layer) { groups[groups.count - 1].append(layer) } else { groups.append([layer]) }
        }
        for (g, group) in groups.enumerated() {
            let first = group[0]
            var state: [String: Tensor] = [:]
            for (l, layer) in group.enumerated() {
                for w in layer.weights {
                    state["weight_ih_l\(l)\(w.suffix)"] = w.ih
                    state["weight_hh_l\(l)\(w.suffix)"] = w.hh
                    if let b = w.bih { state["bias_ih_l\(l)\(w.suffix)"] = b }
                    if let b = w.bhh { state["bias_hh_l\(l)\(w.suffix)"] = b }
                }
            }
            var args = ["\(first.hidden)"]
            if group.count > 1 { args.append("layers=\(group.count)") }
            if first.directions == 2 { args.append("bidirectional=true") }
            if !first.bias { args.append("bias=false") }
            if first.mode == "rnn" && first.nonlinearity == "relu" { args.append("nonlinearity=relu") }
            var used = group.flatMap { $0.nodes }
            if g == 0 { used.insert(open, at: 0) }
            if g == groups.count - 1 { used.append(nodes[k]) }
            append("\(first.mode)(\(args.joined(separator: ",")))", state, nodes: used, output: used.last!.output[0],
                   shape: [steps, first.directions * first.hidden])
        }
        return k + 1 - i
    }

    /// An RNN, LSTM or GRU node reading a [T, N, features] sequence, as PyTorch computes it.
    func recurrentOp(_ node: Onnx_NodeProto, features: Int) throws -> RecurrentLayer {
        let mode = node.opType.lowercased()
        let gates = mode == "lstm" ? 4 : mode == "gru" ? 3 : 1
        guard int(node, "layout", 0) == 0 else {
            throw fail(node, "its layout is 1 (batch first inside the op); import reads layout 0 between Transposes, as PyTorch and Neurone export")
        }
        let direction = string(node, "direction", "forward")
        guard ["forward", "bidirectional"].contains(direction) else {
            throw fail(node, "its direction is '\(direction)'; import reads 'forward' and 'bidirectional' (PyTorch's layers)")
        }
        let d = direction == "bidirectional" ? 2 : 1
        let hidden = int(node, "hidden_size", 0)
        guard hidden >= 1, hidden <= ModelSpec.maxSize else { throw fail(node, "its hidden_size \(hidden) is not a size ≥ 1") }
        guard attribute(node, "clip") == nil, attribute(node, "activation_alpha") == nil, attribute(node, "activation_beta") == nil else {
            throw fail(node, "it sets clip or activation_alpha/beta, which PyTorch's layers do not have")
        }
        let activations = attribute(node, "activations").map { $0.strings.map { String(decoding: $0, as: UTF8.self) } }
        var nonlinearity = "tanh"
        switch mode {
        case "lstm":
            guard activations == nil || activations! == Array(repeating: ["Sigmoid", "Tanh", "Tanh"], count: d).flatMap({ $0 }) else {
                throw fail(node, "its activations are \(activations!); import reads LSTMs with Sigmoid, Tanh, Tanh (PyTorch's)")
            }
            guard int(node, "input_forget", 0) == 0 else { throw fail(node, "it couples the input and forget gates (input_forget = 1), which PyTorch's LSTM does not") }
            if node.input.count > 7 && !node.input[7].isEmpty { throw fail(node, "it has peephole weights (input P), which PyTorch's LSTM does not") }
        case "gru":
            guard activations == nil || activations! == Array(repeating: ["Sigmoid", "Tanh"], count: d).flatMap({ $0 }) else {
                throw fail(node, "its activations are \(activations!); import reads GRUs with Sigmoid, Tanh (PyTorch's)")
            }
            guard int(node, "linear_before_reset", 0) == 1 else {
                throw fail(node, "its linear_before_reset is 0; PyTorch's GRU (and Neurone's) applies the reset gate after the hidden state's product (linear_before_reset = 1)")
            }
        default:
            let a = activations ?? Array(repeating: "Tanh", count: d)
            guard a.count == d, Set(a).count == 1, let f = a.first, ["Tanh", "Relu"].contains(f) else {
                throw fail(node, "its activations are \(a); import reads RNNs with Tanh or Relu, the same in both directions")
            }
            nonlinearity = f.lowercased()
        }
        if node.input.count > 4, !node.input[4].isEmpty {
            throw fail(node, "it has sequence_lens ('\(node.input[4])'); import reads recurrent layers over whole, unpadded sequences")
        }
        for (index, what) in [(5, "initial_h"), (6, "initial_c")] where index < node.input.count && !node.input[index].isEmpty {
            let name = node.input[index]
            // a constant, or zeros the graph makes for the batch (PyTorch's Expand of 0)
            guard constants[name] != nil || staticNodes[name] != nil else {
                throw fail(node, "its \(what) '\(name)' is computed from the data; import reads recurrent layers that start from zero states")
            }
            for batch in probeBatches {
                let v = try fold(name, batch: batch)
                guard !v.integer, v.values.allSatisfy({ $0 == 0 }) else {
                    throw fail(node, "its \(what) is not all zeros; import reads recurrent layers that start from zero states")
                }
            }
        }
        let w = try floating(try constant(node, 1, "input weights W"), node, "W")
        let r = try floating(try constant(node, 2, "recurrent weights R"), node, "R")
        guard w.shape == [d, gates * hidden, features] else {
            throw fail(node, "its W has shape \(w.shape); expected [\(d), \(gates * hidden), \(features)] (directions, \(gates) gates × hidden \(hidden), input features)")
        }
        guard r.shape == [d, gates * hidden, hidden] else {
            throw fail(node, "its R has shape \(r.shape); expected [\(d), \(gates * hidden), \(hidden)]")
        }
        let b = try optionalConstant(node, 3, "biases B").map { try floating($0, node, "B") }
        if let b, b.shape != [d, 2 * gates * hidden] {
            throw fail(node, "its B has shape \(b.shape); expected [\(d), \(2 * gates * hidden)] (input and recurrent biases)")
        }
        // PyTorch's gate blocks from ONNX's: LSTM i,f,g,o from i,o,f,c; GRU r,z,n from z,r,h
        let order = mode == "lstm" ? [0, 2, 3, 1] : mode == "gru" ? [1, 0, 2] : [0]
        func pytorch(_ t: Tensor) -> Tensor {
            let blocks = t.chunk(gates, dim: 0)
            return Tensor.cat(order.map { blocks[$0] }, dim: 0).contiguous()
        }
        var weights: [(suffix: String, ih: Tensor, hh: Tensor, bih: Tensor?, bhh: Tensor?)] = []
        for dir in 0..<d {
            let bias = b.map { $0.select(dim: 0, index: dir) }
            weights.append((dir == 1 ? "_reverse" : "", pytorch(w.select(dim: 0, index: dir)), pytorch(r.select(dim: 0, index: dir)),
                            bias.map { pytorch($0.narrow(dim: 0, start: 0, length: gates * hidden)) },
                            bias.map { pytorch($0.narrow(dim: 0, start: gates * hidden, length: gates * hidden)) }))
        }
        return RecurrentLayer(mode: mode, nonlinearity: nonlinearity, hidden: hidden, directions: d, bias: b != nil,
                              weights: weights, nodes: [node])
    }

    /// The nodes from `k` on that turn a recurrent op's Y [T, D, N, H] into [T, N, D·H]:
    /// Transpose [0, 2, 1, 3] then Reshape (Neurone's, and PyTorch's for two directions), or a
    /// Squeeze of axis 1 for one direction (PyTorch's). (nodes, the value reached).
    mutating func timeFirstOutput(_ nodes: [Onnx_NodeProto], _ k: Int, from op: Onnx_NodeProto, steps: Int, directions d: Int, hidden: Int) throws -> ([Onnx_NodeProto], String) {
        let y = op.output.first ?? ""
        guard !y.isEmpty else { throw fail(op, "its output Y is not used; import reads the output sequence") }
        fullShapes[y] = [steps, d, -1, hidden]
        if k < nodes.count, nodes[k].opType == "Squeeze", nodes[k].input.first == y, d == 1 {
            let axes = opset >= 13 ? try optionalConstant(nodes[k], 1, "axes")?.toArray(as: Int64.self).map { Int($0) } : ints(nodes[k], "axes")
            guard axes == [1] else { throw fail(nodes[k], "it squeezes axes \(axes ?? []) of a recurrent layer's output; expected [1], its direction axis") }
            fullShapes[nodes[k].output[0]] = [steps, -1, hidden]
            return ([nodes[k]], nodes[k].output[0])
        }
        guard k + 1 < nodes.count, nodes[k].opType == "Transpose", nodes[k].input.first == y, ints(nodes[k], "perm") == [0, 2, 1, 3],
              nodes[k + 1].opType == "Reshape", nodes[k + 1].input.first == nodes[k].output[0] else {
            throw fail(op, "import expects its output Y [steps, directions, batch, hidden] to become [steps, batch, directions × hidden] by Transpose [0, 2, 1, 3] and Reshape (or, for one direction, Squeeze of axis 1)")
        }
        fullShapes[nodes[k].output[0]] = [steps, -1, d, hidden]
        // a constant target, or one computed from the shape (PyTorch's): right for every batch size
        let reshape = nodes[k + 1]
        for (batch, target) in try foldedTargets(reshape) {
            guard target.count == 3, [0, -1, steps].contains(target[0]), [0, -1, batch].contains(target[1]), [-1, d * hidden].contains(target[2]),
                  target.filter({ $0 == -1 }).count <= 1 else {
                throw fail(reshape, "it reshapes a recurrent layer's output to \(target) for a batch of \(batch); expected [steps, batch, \(d * hidden)] (e.g. [0, 0, \(d * hidden)])")
            }
        }
        fullShapes[reshape.output[0]] = [steps, -1, d * hidden]
        return ([nodes[k], reshape], reshape.output[0])
    }
}

import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneONNXProto

extension ONNXGraphBuilder {
    /// RNN, LSTM and GRU as ONNX's RNN, LSTM and GRU ops, one per layer: the weights re-ordered to
    /// ONNX's gates (LSTM i,o,f,c from PyTorch's i,f,g,o; GRU z,r,h from r,z,n, with
    /// linear_before_reset as PyTorch computes it), both directions in one op; batch-first inputs
    /// transposed to ONNX's [T, N, F] and back.
    func recurrent(_ m: RNNBase, _ x: ONNXValue, path: String) throws -> ONNXValue {
        guard x.shape.count == 3 else {
            throw ONNXError("cannot export layer '\(path)' (\(m.typeName)): expected a batch of sequences, found an input of shape \(x.shape)")
        }
        func child(_ name: String) -> String { path.isEmpty ? name : path + "." + name }
        let y = m(x.sample)
        let state = Dictionary(m.stateDict(), uniquingKeysWith: { a, _ in a })
        let (op, order): (String, [Int]) = switch m.mode {
        case .lstm: ("LSTM", [0, 3, 1, 2])
        case .gru: ("GRU", [1, 0, 2])
        case .rnnTanh, .rnnReLU: ("RNN", [0])
        }
        let h = m.hiddenSize, d = m.numDirections
        func gates(_ t: Tensor) -> Tensor {
            let blocks = t.chunk(order.count, dim: 0)
            return Tensor.cat(order.map { blocks[$0] }, dim: 0)
        }
        func stacked(_ kind: String, _ layer: Int) -> Tensor {
            Tensor.stack((0..<d).map { gates(state["\(kind)_l\(layer)\($0 == 1 ? "_reverse" : "")"]!) }, dim: 0).contiguous()
        }
        // time first inside
        let steps = m.batchFirst ? x.shape[1] : x.shape[0], n = m.batchFirst ? x.shape[0] : x.shape[1]
        var h0 = m.batchFirst ? add("Transpose", [x.name], path: path, attributes: [.ints("perm", [1, 0, 2])], sample: x.sample.transpose(0, 1)) : x
        for layer in 0..<m.numLayers {
            var inputs = [h0.name, initializer(stacked("weight_ih", layer), name: child("W_l\(layer)")),
                          initializer(stacked("weight_hh", layer), name: child("R_l\(layer)"))]
            if m.bias {
                let b = Tensor.cat([stacked("bias_ih", layer), stacked("bias_hh", layer)], dim: 1).contiguous()
                inputs.append(initializer(b, name: child("B_l\(layer)")))
            }
            var attributes: [ONNXAttribute] = [.int("hidden_size", h), .string("direction", d == 2 ? "bidirectional" : "forward")]
            if m.mode == .gru { attributes.append(.int("linear_before_reset", 1)) }
            if m.mode == .rnnReLU { attributes.append(.strings("activations", Array(repeating: "Relu", count: d))) }
            if m.mode == .rnnTanh { attributes.append(.strings("activations", Array(repeating: "Tanh", count: d))) }
            // Y [T, D, N, H] → [T, N, D, H] → [T, N, D·H]; the values inside are those of the layer
            let shape = [steps, d, n, h]
            let out = add(op, inputs, path: path, attributes: attributes, sample: Tensor.zeros(shape, dtype: x.sample.dtype))
            let moved = add("Transpose", [out.name], path: path, attributes: [.ints("perm", [0, 2, 1, 3])],
                            sample: Tensor.zeros([steps, n, d, h], dtype: x.sample.dtype))
            h0 = add("Reshape", [moved.name, int64s([0, 0, d * h], name: child("join"))], path: path,
                     sample: layer == m.numLayers - 1 && !m.batchFirst ? y : Tensor.zeros([steps, n, d * h], dtype: x.sample.dtype))
        }
        return m.batchFirst ? add("Transpose", [h0.name], path: path, attributes: [.ints("perm", [1, 0, 2])], sample: y) : h0
    }

    /// A Transformer encoder layer: self-attention and the feed-forward block with their residuals
    /// and LayerNorms, post- or pre-norm; `mask` an additive [T, T] mask (the causal one).
    func encoderLayer(_ m: TransformerEncoderLayer, _ x: ONNXValue, mask: Tensor?, path: String) throws -> ONNXValue {
        func child(_ name: String) -> String { path.isEmpty ? name : path + "." + name }
        let y = m(x.sample, mask: mask, keyPaddingMask: nil)
        func attention(_ v: ONNXValue) throws -> ONNXValue { try selfAttention(m.selfAttn, v, mask: mask, path: child("self_attn")) }
        func feedForward(_ v: ONNXValue) throws -> ONNXValue {
            var f = try lower(m.linear1, v, path: child("linear1"))
            f = m.activation == .relu ? add("Relu", [f.name], path: path, sample: f.sample.relu())
                                      : gelu(f, tanh: false, path: path, sample: f.sample.gelu())
            return try lower(m.linear2, f, path: child("linear2"))
        }
        func sum(_ a: ONNXValue, _ b: ONNXValue) -> ONNXValue { add("Add", [a.name, b.name], path: path, sample: a.sample + b.sample) }
        if m.normFirst {
            let x1 = sum(x, try attention(try lower(m.norm1, x, path: child("norm1"))))
            let out = sum(x1, try feedForward(try lower(m.norm2, x1, path: child("norm2"))))
            return ONNXValue(name: out.name, sample: y)
        }
        let x1 = try lower(m.norm1, sum(x, try attention(x)), path: child("norm1"))
        let out = try lower(m.norm2, sum(x1, try feedForward(x1)), path: child("norm2"))
        return ONNXValue(name: out.name, sample: y)
    }

    /// The layers in turn (with the causal mask when `isCausal`), then the final norm.
    func encoder(_ m: TransformerEncoder, _ x: ONNXValue, path: String) throws -> ONNXValue {
        func child(_ name: String) -> String { path.isEmpty ? name : path + "." + name }
        guard x.shape.count == 3 else {
            throw ONNXError("cannot export layer '\(path)' (TransformerEncoder): expected a batch of sequences, found an input of shape \(x.shape)")
        }
        let steps = m.layers[0].batchFirst ? x.shape[1] : x.shape[0]
        let mask = m.isCausal ? Tensor.causalMask(steps, dtype: x.sample.dtype, device: x.sample.device) : nil
        var h = x
        for (i, layer) in m.layers.enumerated() { h = try encoderLayer(layer, h, mask: mask, path: child("layers.\(i)")) }
        if let norm = m.norm { h = try lower(norm, h, path: child("norm")) }
        return ONNXValue(name: h.name, sample: m(x.sample))
    }
}

import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneONNXProto

extension ONNXGraphBuilder {
    /// Adds the nodes computing `module`'s output from `x`; `path` is the module's state-dict
    /// prefix ("" for the root), which names its nodes and initializers. Throws naming the layer
    /// when ONNX export does not know it.
    public func lower(_ module: Module, _ x: ONNXValue, path: String) throws -> ONNXValue {
        if let custom = module as? ONNXExportable { return try custom.exportONNX(x, to: self, path: path) }
        func child(_ name: String) -> String { path.isEmpty ? name : path + "." + name }
        func weight(_ t: Tensor, _ name: String) -> String { initializer(t, name: child(name)) }
        let rank = x.shape.count
        switch module {
        case let m as Sequential:
            var h = x
            for (i, layer) in m.layers.enumerated() { h = try lower(layer, h, path: child(String(i))) }
            return h
        case let m as Linear:
            let y = m(x.sample)
            if rank == 2 {
                var inputs = [x.name, weight(m.weight, "weight")]
                if let b = m.bias { inputs.append(weight(b, "bias")) }
                return add("Gemm", inputs, path: path, attributes: [.int("transB", 1)], sample: y)
            }
            let product = add("MatMul", [x.name, initializer(m.weight.transpose(0, 1).contiguous(), name: child("weight_t"))], path: path,
                              sample: m.bias == nil ? y : x.sample.matmul(m.weight.transpose(0, 1)))
            guard let b = m.bias else { return product }
            return add("Add", [product.name, weight(b, "bias")], path: path, sample: y)
        case let m as Conv2d:
            let pads = Self.convPads(m.padding, kernel: m.kernelSize, dilation: Self.pair(m.dilation), path: path)
            return add("Conv", [x.name, weight(m.weight, "weight")] + (m.bias.map { [weight($0, "bias")] } ?? []), path: path,
                       attributes: [.ints("kernel_shape", m.kernelSize), .ints("strides", Self.pair(m.stride)), .ints("pads", pads),
                                    .ints("dilations", Self.pair(m.dilation)), .int("group", m.groups)],
                       sample: m(x.sample))
        case let m as Conv1d:
            let pads = Self.convPads(m.padding, kernel: [m.kernelSize], dilation: [m.dilation], path: path)
            return add("Conv", [x.name, weight(m.weight, "weight")] + (m.bias.map { [weight($0, "bias")] } ?? []), path: path,
                       attributes: [.ints("kernel_shape", [m.kernelSize]), .ints("strides", [m.stride]), .ints("pads", pads),
                                    .ints("dilations", [m.dilation]), .int("group", m.groups)],
                       sample: m(x.sample))
        case let m as ConvTranspose2d:
            let p = Self.pair(m.padding)
            return add("ConvTranspose", [x.name, weight(m.weight, "weight")] + (m.bias.map { [weight($0, "bias")] } ?? []), path: path,
                       attributes: [.ints("kernel_shape", m.kernelSize), .ints("strides", Self.pair(m.stride)), .ints("pads", p + p),
                                    .ints("output_padding", Self.pair(m.outputPadding)), .ints("dilations", Self.pair(m.dilation)),
                                    .int("group", m.groups)],
                       sample: m(x.sample))
        case let m as MaxPool2d:
            let k = Self.pair(m.kernelSize), p = Self.pair(m.padding)
            return add("MaxPool", [x.name], path: path,
                       attributes: [.ints("kernel_shape", k), .ints("strides", Self.pair(m.stride ?? k)), .ints("pads", p + p),
                                    .ints("dilations", Self.pair(m.dilation)), .int("ceil_mode", m.ceilMode ? 1 : 0)],
                       sample: m(x.sample))
        case let m as AvgPool2d:
            if let d = m.divisorOverride {
                throw ONNXError("cannot export layer '\(path)' (AvgPool2d): divisor_override=\(d) has no ONNX AveragePool equivalent")
            }
            let k = Self.pair(m.kernelSize), p = Self.pair(m.padding)
            return add("AveragePool", [x.name], path: path,
                       attributes: [.ints("kernel_shape", k), .ints("strides", Self.pair(m.stride ?? k)), .ints("pads", p + p),
                                    .int("ceil_mode", m.ceilMode ? 1 : 0), .int("count_include_pad", m.countIncludePad ? 1 : 0)],
                       sample: m(x.sample))
        case let m as AdaptiveAvgPool2d:
            let size = Self.pair(m.outputSize), h = x.shape[rank - 2], w = x.shape[rank - 1]
            if size == [1, 1] { return add("GlobalAveragePool", [x.name], path: path, sample: m(x.sample)) }
            guard h % size[0] == 0 && w % size[1] == 0 else {
                throw ONNXError("cannot export layer '\(path)' (AdaptiveAvgPool2d): output \(size[0])×\(size[1]) from input \(h)×\(w) uses windows of different sizes, which ONNX's AveragePool cannot express; export needs sizes that divide the input's")
            }
            let k = [h / size[0], w / size[1]]
            return add("AveragePool", [x.name], path: path, attributes: [.ints("kernel_shape", k), .ints("strides", k)], sample: m(x.sample))
        case let m as BatchNorm:
            let c = m.numFeatures, dtype = m.runningMean.dtype
            let scale = m.weight.map { weight($0, "weight") } ?? initializer(Tensor.ones([c], dtype: dtype), name: child("weight"))
            let bias = m.bias.map { weight($0, "bias") } ?? initializer(Tensor.zeros([c], dtype: dtype), name: child("bias"))
            return add("BatchNormalization", [x.name, scale, bias, weight(m.runningMean, "running_mean"), weight(m.runningVar, "running_var")],
                       path: path, attributes: [.float("epsilon", m.eps)], sample: m(x.sample))
        case let m as LayerNorm:
            let dtype = x.sample.dtype
            let scale = m.weight.map { weight($0, "weight") } ?? initializer(Tensor.ones(m.normalizedShape, dtype: dtype), name: child("weight"))
            return add("LayerNormalization", [x.name, scale] + (m.bias.map { [weight($0, "bias")] } ?? []), path: path,
                       attributes: [.int("axis", -m.normalizedShape.count), .float("epsilon", m.eps)], sample: m(x.sample))
        case let m as Embedding:
            return add("Gather", [weight(m.weight, "weight"), x.name], path: path, attributes: [.int("axis", 0)], sample: m(x.sample))
        case let m as Flatten:
            let start = m.startDim < 0 ? m.startDim + rank : m.startDim, end = m.endDim < 0 ? m.endDim + rank : m.endDim
            if start == 1 && end == rank - 1 { return add("Flatten", [x.name], path: path, attributes: [.int("axis", 1)], sample: m(x.sample)) }
            let dims = (0..<start).map { $0 == 0 ? 0 : x.shape[$0] } + [-1] + Array(x.shape[(end + 1)...])
            return add("Reshape", [x.name, int64s(dims, name: child("shape"))], path: path, sample: m(x.sample))
        case let m as Unflatten:
            let dim = m.dim < 0 ? m.dim + rank : m.dim
            guard dim > 0 else {
                throw ONNXError("cannot export layer '\(path)' (Unflatten): it splits the batch dimension, which an exported graph keeps whole")
            }
            let dims = [0] + Array(x.shape[1..<dim]) + m.sizes + Array(x.shape[(dim + 1)...])
            return add("Reshape", [x.name, int64s(dims, name: child("shape"))], path: path, sample: m(x.sample))
        case let m as Reshape:
            let y = m(x.sample)
            return add("Reshape", [x.name, int64s([0] + Array(y.shape.dropFirst()), name: child("shape"))], path: path, sample: y)
        case let m as Permute:
            return add("Transpose", [x.name], path: path, attributes: [.ints("perm", [0] + m.dims)], sample: m(x.sample))
        case is ImageRows:
            let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
            let rows = c == 1 ? x : add("Transpose", [x.name], path: path, attributes: [.ints("perm", [0, 2, 1, 3])], sample: x.sample.permute(0, 2, 1, 3))
            return add("Reshape", [rows.name, int64s([0, h, c * w], name: child("shape"))], path: path, sample: module(x.sample))
        case is LastStep:
            return add("Gather", [x.name, initializer(Tensor(Int64(-1), dtype: .int64), name: child("last"))], path: path,
                       attributes: [.int("axis", 1)], sample: module(x.sample))
        case is SequenceMean:
            return reduceMean(x, axes: [1], path: path, sample: module(x.sample))
        case is ReLU: return add("Relu", [x.name], path: path, sample: module(x.sample))
        case is Sigmoid: return add("Sigmoid", [x.name], path: path, sample: module(x.sample))
        case is Tanh: return add("Tanh", [x.name], path: path, sample: module(x.sample))
        case let m as LeakyReLU:
            return add("LeakyRelu", [x.name], path: path, attributes: [.float("alpha", m.negativeSlope)], sample: m(x.sample))
        case let m as ELU:
            return add("Elu", [x.name], path: path, attributes: [.float("alpha", m.alpha)], sample: m(x.sample))
        case let m as PReLU:
            let c = m.weight.count
            let slope = c == 1 || rank <= 2 ? m.weight : m.weight.reshape([c] + Array(repeating: 1, count: rank - 2))
            return add("PRelu", [x.name, initializer(slope, name: child("weight"))], path: path, sample: m(x.sample))
        case is SiLU:
            let s = add("Sigmoid", [x.name], path: path, sample: x.sample.sigmoid())
            return add("Mul", [x.name, s.name], path: path, sample: module(x.sample))
        case let m as GELU:
            return gelu(x, tanh: m.approximateTanh, path: path, sample: m(x.sample))
        case let m as Softplus:
            let y = m(x.sample)
            if m.beta == 1 && m.threshold == 20 { return add("Softplus", [x.name], path: path, sample: y) }
            let dtype = x.sample.dtype
            let scaled = add("Mul", [x.name, scalar(m.beta, dtype: dtype, name: child("beta"))], path: path, sample: x.sample * m.beta)
            let soft = add("Softplus", [scaled.name], path: path, sample: y)
            let back = add("Div", [soft.name, scalar(m.beta, dtype: dtype, name: child("beta"))], path: path, sample: y)
            let linear = add("Greater", [scaled.name, scalar(m.threshold, dtype: dtype, name: child("threshold"))], path: path, sample: y)
            return add("Where", [linear.name, x.name, back.name], path: path, sample: y)
        case let m as Softmax:
            return add("Softmax", [x.name], path: path, attributes: [.int("axis", m.dim)], sample: m(x.sample))
        case let m as LogSoftmax:
            return add("LogSoftmax", [x.name], path: path, attributes: [.int("axis", m.dim)], sample: m(x.sample))
        case is Dropout, is Dropout2d, is Identity:
            return x   // evaluation mode: the identity
        case let m as MultiheadAttention:
            return try selfAttention(m, x, path: path)
        case let m as RNNBase:
            return try recurrent(m, x, path: path)
        case let m as TransformerEncoderLayer:
            return try encoderLayer(m, x, mask: nil, path: path)
        case let m as TransformerEncoder:
            return try encoder(m, x, path: path)
        case let m as SinusoidalPositionalEncoding:
            let t = x.shape[rank - 2]
            return add("Add", [x.name, initializer(m.pe.narrow(dim: 0, start: 0, length: t).contiguous(), name: child("pe"))], path: path,
                       sample: m(x.sample))
        case let m as LearnedPositionalEncoding:
            let t = x.shape[rank - 2]
            return add("Add", [x.name, initializer(m.embedding.weight.narrow(dim: 0, start: 0, length: t).contiguous(), name: child("embedding.weight"))],
                       path: path, sample: m(x.sample))
        case let m as MnistCNN:
            var h = try lower(m.conv1, x, path: child("conv1"))
            h = add("Relu", [h.name], path: path, sample: h.sample.relu())
            h = try lower(m.conv2, h, path: child("conv2"))
            h = add("Relu", [h.name], path: path, sample: h.sample.relu())
            h = add("MaxPool", [h.name], path: path, attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])],
                    sample: h.sample.maxPool2d(kernel: [2]))
            h = add("Flatten", [h.name], path: path, attributes: [.int("axis", 1)], sample: h.sample.flatten(startDim: 1))
            h = try lower(m.fc1, h, path: child("fc1"))
            h = add("Relu", [h.name], path: path, sample: h.sample.relu())
            h = try lower(m.fc2, h, path: child("fc2"))
            return add("LogSoftmax", [h.name], path: path, attributes: [.int("axis", 1)], sample: h.sample.logSoftmax(dim: 1))
        case let m as AttentionClassifier:
            let n = x.shape[0]
            var h = add("Reshape", [x.name, int64s([0, 28, 28], name: child("rows"))], path: path, sample: x.sample.reshape([n, 28, 28]))
            h = try lower(m.embed, h, path: child("embed"))
            h = try lower(m.attn, h, path: child("attn"))
            h = reduceMean(h, axes: [1], path: path, sample: h.sample.mean(dim: 1))
            h = try lower(m.fc1, h, path: child("fc1"))
            h = add("Relu", [h.name], path: path, sample: h.sample.relu())
            return try lower(m.fc2, h, path: child("fc2"))
        default:
            throw ONNXError("cannot export layer '\(path.isEmpty ? "(the model)" : path)' (\(module.typeName)): ONNX export does not know this layer yet. It exports \(ONNXExport.supportedLayers.joined(separator: ", ")); a module of your own can conform to ONNXExportable and write its nodes (docs/ONNX.md)")
        }
    }

    /// Mean over `axes` without keeping them (ReduceMean's axes are an attribute before opset 18, an input after).
    func reduceMean(_ x: ONNXValue, axes: [Int], path: String, sample: Tensor) -> ONNXValue {
        if opset >= 18 {
            return add("ReduceMean", [x.name, int64s(axes, name: (path.isEmpty ? "" : path + ".") + "axes")], path: path,
                       attributes: [.int("keepdims", 0)], sample: sample)
        }
        return add("ReduceMean", [x.name], path: path, attributes: [.ints("axes", axes), .int("keepdims", 0)], sample: sample)
    }

    /// GELU: the Gelu op from opset 20, before it the formula (erf, or tanh's approximation).
    func gelu(_ x: ONNXValue, tanh: Bool, path: String, sample y: Tensor) -> ONNXValue {
        if opset >= 20 { return add("Gelu", [x.name], path: path, attributes: [.string("approximate", tanh ? "tanh" : "none")], sample: y) }
        let dtype = x.sample.dtype
        func c(_ v: Double, _ name: String) -> String { scalar(v, dtype: dtype, name: (path.isEmpty ? "" : path + ".") + name) }
        let inner: ONNXValue
        if tanh {
            // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
            let x2 = add("Mul", [x.name, x.name], path: path, sample: y)
            let x3 = add("Mul", [x2.name, x.name], path: path, sample: y)
            let cubic = add("Mul", [x3.name, c(0.044715, "gelu_cubic")], path: path, sample: y)
            let sum = add("Add", [x.name, cubic.name], path: path, sample: y)
            let scaled = add("Mul", [sum.name, c((2 / Double.pi).squareRoot(), "gelu_scale")], path: path, sample: y)
            inner = add("Tanh", [scaled.name], path: path, sample: y)
        } else {
            // 0.5·x·(1 + erf(x/√2))
            let scaled = add("Mul", [x.name, c(1 / 2.0.squareRoot(), "gelu_scale")], path: path, sample: y)
            inner = add("Erf", [scaled.name], path: path, sample: y)
        }
        let one = add("Add", [inner.name, c(1, "one")], path: path, sample: y)
        let times = add("Mul", [x.name, one.name], path: path, sample: y)
        return add("Mul", [times.name, c(0.5, "half")], path: path, sample: y)
    }

    /// Self-attention (query = key = value = x; `mask`: an additive [T, T] mask or none) as
    /// MatMul, Softmax and reshapes.
    func selfAttention(_ m: MultiheadAttention, _ x: ONNXValue, mask: Tensor? = nil, path: String) throws -> ONNXValue {
        guard x.shape.count == 3 else {
            throw ONNXError("cannot export layer '\(path)' (MultiheadAttention): expected a batch of sequences [N, T, E], found an input of shape \(x.shape)")
        }
        func child(_ name: String) -> String { path.isEmpty ? name : path + "." + name }
        let y = m(query: x.sample, key: x.sample, value: x.sample, attnMask: mask, needWeights: false).output
        let e = m.embedDim, heads = m.numHeads, d = e / heads
        // batch first inside: [N, T, E]
        let input = m.batchFirst ? x : add("Transpose", [x.name], path: path, attributes: [.ints("perm", [1, 0, 2])], sample: x.sample.transpose(0, 1))
        let xs = input.sample
        func projection(_ i: Int, _ name: String) -> ONNXValue {
            let w = m.inProjWeight.narrow(dim: 0, start: i * e, length: e)
            var v = add("MatMul", [input.name, initializer(w.transpose(0, 1).contiguous(), name: child(name + "_weight_t"))], path: path,
                        sample: xs.matmul(w.transpose(0, 1)))
            if let b = m.inProjBias {
                let bias = b.narrow(dim: 0, start: i * e, length: e)
                v = add("Add", [v.name, initializer(bias.contiguous(), name: child(name + "_bias"))], path: path, sample: v.sample + bias)
            }
            return add("Reshape", [v.name, int64s([0, 0, heads, d], name: child("heads"))], path: path,
                       sample: v.sample.reshape([xs.shape[0], xs.shape[1], heads, d]))
        }
        let q = projection(0, "q"), k = projection(1, "k"), v = projection(2, "v")
        let qh = add("Transpose", [q.name], path: path, attributes: [.ints("perm", [0, 2, 1, 3])], sample: q.sample.permute(0, 2, 1, 3))
        let kt = add("Transpose", [k.name], path: path, attributes: [.ints("perm", [0, 2, 3, 1])], sample: k.sample.permute(0, 2, 3, 1))
        let vh = add("Transpose", [v.name], path: path, attributes: [.ints("perm", [0, 2, 1, 3])], sample: v.sample.permute(0, 2, 1, 3))
        let scores = add("MatMul", [qh.name, kt.name], path: path, sample: qh.sample.matmul(kt.sample))
        let scaled = add("Mul", [scores.name, scalar(1 / Double(d).squareRoot(), dtype: xs.dtype, name: child("scale"))], path: path,
                         sample: scores.sample * (1 / Double(d).squareRoot()))
        let masked = mask.map { add("Add", [scaled.name, initializer($0, name: child("mask"))], path: path, sample: scaled.sample + $0) } ?? scaled
        let weights = add("Softmax", [masked.name], path: path, attributes: [.int("axis", -1)], sample: masked.sample.softmax(dim: -1))
        let mixed = add("MatMul", [weights.name, vh.name], path: path, sample: weights.sample.matmul(vh.sample))
        let back = add("Transpose", [mixed.name], path: path, attributes: [.ints("perm", [0, 2, 1, 3])], sample: mixed.sample.permute(0, 2, 1, 3))
        let joined = add("Reshape", [back.name, int64s([0, 0, e], name: child("join"))], path: path,
                         sample: back.sample.reshape([xs.shape[0], xs.shape[1], e]))
        let out = try lower(m.outProj, joined, path: child("out_proj"))
        let result = ONNXValue(name: out.name, sample: m.batchFirst ? y : y.transpose(0, 1))
        return m.batchFirst ? result : add("Transpose", [result.name], path: path, attributes: [.ints("perm", [1, 0, 2])], sample: y)
    }

    /// Two values for a 2-D op from PyTorch's one-or-two form.
    static func pair(_ v: [Int]) -> [Int] { v.count == 1 ? [v[0], v[0]] : v }

    /// ONNX `pads` (all begins, then all ends) of a convolution's padding.
    static func convPads(_ padding: ConvPadding, kernel: [Int], dilation: [Int], path: String) -> [Int] {
        let n = kernel.count
        switch padding {
        case .valid: return Array(repeating: 0, count: 2 * n)
        case .explicit(let p):
            let each = p.count == 1 ? Array(repeating: p[0], count: n) : p
            return each + each
        case .same:
            // odd totals put the extra on the right, as PyTorch does
            let total = (0..<n).map { dilation[$0] * (kernel[$0] - 1) }
            return total.map { $0 / 2 } + total.map { $0 - $0 / 2 }
        }
    }
}

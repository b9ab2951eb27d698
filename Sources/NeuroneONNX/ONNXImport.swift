import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import NeuroneData
import NeuroneONNXProto
import SwiftProtobuf

/// Import of an ONNX model as a Neurone model: a graph that is a chain of layers (each node reads
/// the previous layer's output and constants) becomes a model spec (docs/MODELS.md) and a state
/// dict, so that it trains, evaluates and exports again like any Neurone model.
public enum ONNXImport {
    /// The opsets import reads (of the default domain).
    public static let opsets = 11...23
    /// The IR versions import reads.
    public static let irVersions = Int64(3)...Int64(11)
    /// The metadata_props key under which export keeps a language model's vocabulary.json.
    public static let vocabularyKey = "neurone.vocabulary"
    /// The largest .onnx file import reads (protobuf's own limit).
    public static let maxFileBytes = Int(Int32.max)

    /// What an import found.
    public struct Model {
        /// The layers as a model spec.
        public let spec: String
        /// One sample's input shape (without the batch).
        public let inputShape: [Int]
        /// The input's element type (float32, or int64 for a model starting with an embedding).
        public let inputDType: DType
        /// The weights, by the spec model's state-dict names.
        public let state: [String: Tensor]
        /// The opset the file declares.
        public let opset: Int
        /// The normalisation the graph starts with (Sub of a constant, then Div by one, as Neurone
        /// exports `--normalize`), which a checkpoint keeps in its data pipeline; nil for none.
        public let normalization: Normalization?
        /// For each layer of the spec, the ONNX nodes it came from.
        public let sources: [(layer: String, nodes: [String])]
        /// The model's metadata_props (Neurone's export keeps a language model's vocabulary
        /// under `vocabularyKey`).
        public var metadata: [String: String] = [:]

        /// The spec's model with the imported weights.
        public func module() throws -> Module {
            let model: Module
            do { (model, _) = try NamedModels.make(spec, input: inputShape) }
            catch { throw ONNXError("the layers read from the graph do not fit together as '\(spec)' for input \(inputShape.map(String.init).joined(separator: "x")): \(error)") }
            do { try model.loadStateDict(state) }
            catch { throw ONNXError("the weights read from the graph do not fit the model '\(spec)': \(error)") }
            return model
        }
    }

    /// Reads and converts the .onnx file at `path`.
    public static func read(_ path: String) throws -> Model {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ONNXError("cannot open \(path)") }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()).map { Int($0) } ?? 0
        guard size <= maxFileBytes else { throw ONNXError("\(path) is \(size) bytes, more than the \(maxFileBytes) a protobuf message may have") }
        try handle.seek(toOffset: 0)
        let data = try handle.readToEnd() ?? Data()
        return try convert(try decode(data, source: path), source: path)
    }

    /// The ModelProto in `data`; throws naming `source` when it is not one.
    public static func decode(_ data: Data, source: String) throws -> Onnx_ModelProto {
        guard !data.isEmpty else { throw ONNXError("\(source) is empty; expected an ONNX model") }
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = 64
        let model: Onnx_ModelProto
        do { model = try Onnx_ModelProto(serializedBytes: data, options: options) }
        catch { throw ONNXError("\(source) is not an ONNX model (\(describe(error)) in \(data.count) bytes: truncated or not a .onnx file)") }
        guard model.hasGraph else { throw ONNXError("\(source) holds no graph; expected an ONNX model") }
        return model
    }

    static func describe(_ error: Error) -> String {
        switch error as? BinaryDecodingError {
        case .truncated?: return "the data ends inside a field"
        case .malformedProtobuf?: return "malformed protobuf"
        case .invalidUTF8?: return "a string that is not UTF-8"
        case .messageDepthLimit?: return "messages nested deeper than 64"
        default: return "\(error)"
        }
    }

    /// Converts a decoded model (see the type's documentation).
    public static func convert(_ model: Onnx_ModelProto, source: String) throws -> Model {
        guard irVersions.contains(model.irVersion) else {
            throw ONNXError("\(source): IR version \(model.irVersion) is \(model.irVersion < irVersions.lowerBound ? "too old" : "too new"); import reads IR versions \(irVersions.lowerBound)…\(irVersions.upperBound)")
        }
        guard let opsetEntry = model.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw ONNXError("\(source) declares no opset of the default ONNX domain")
        }
        let opset = Int(clamping: opsetEntry.version)
        guard opsets.contains(opset) else {
            throw ONNXError("\(source): opset \(opset) is \(opset < opsets.lowerBound ? "too old" : "too new"); import reads opsets \(opsets.lowerBound)…\(opsets.upperBound) (export again with opset_version=\(ONNXExport.defaultOpset))")
        }
        var reader = ChainReader(graph: model.graph, opset: opset, source: source)
        var read = try reader.read()
        read.metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        return read
    }
}

/// Walks a graph as a chain of layers.
struct ChainReader {
    let graph: Onnx_GraphProto
    let opset: Int
    let source: String
    /// Initializers and Constant nodes' values, by name.
    var constants: [String: Tensor] = [:]
    /// The value the chain has reached.
    var current = ""
    /// Its per-sample shape.
    var shape: [Int] = []
    var layers: [(token: String, state: [String: Tensor], nodes: [String])] = []
    var inputDType = DType.float32
    var normalization: Normalization?
    /// For each value, the indices of the (sorted) nodes that read it.
    var valueReaders: [String: [Int]] = [:]
    /// For each value a walked node computes, that node's index.
    var valueProducers: [String: Int] = [:]
    /// The nodes of shape arithmetic (ONNXShapeFolding), by their output.
    var staticNodes: [String: Onnx_NodeProto] = [:]
    /// The full shapes of the values read so far, -1 standing for the batch.
    var fullShapes: [String: [Int]] = [:]
    /// The input's batch size when the graph fixes it.
    var fixedBatch: Int?

    init(graph: Onnx_GraphProto, opset: Int, source: String) {
        self.graph = graph
        self.opset = opset
        self.source = source
    }

    func fail(_ node: Onnx_NodeProto, _ message: String) -> ONNXError {
        ONNXError("\(source): node '\(node.name.isEmpty ? "(unnamed)" : node.name)' (\(node.opType)): \(message)")
    }

    // MARK: attributes

    func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }
    func int(_ node: Onnx_NodeProto, _ name: String, _ dflt: Int) -> Int { attribute(node, name).map { Int(clamping: $0.i) } ?? dflt }
    func float(_ node: Onnx_NodeProto, _ name: String, _ dflt: Double) -> Double { attribute(node, name).map { Double($0.f) } ?? dflt }
    func ints(_ node: Onnx_NodeProto, _ name: String) -> [Int]? { attribute(node, name).map { $0.ints.map { Int(clamping: $0) } } }
    func string(_ node: Onnx_NodeProto, _ name: String, _ dflt: String) -> String { attribute(node, name).map { String(decoding: $0.s, as: UTF8.self) } ?? dflt }

    /// The constant input `i` of `node`, which must exist.
    func constant(_ node: Onnx_NodeProto, _ i: Int, _ what: String) throws -> Tensor {
        guard i < node.input.count, !node.input[i].isEmpty else { throw fail(node, "its \(what) (input \(i)) is missing") }
        if let t = constants[node.input[i]] { return t }
        if staticNodes[node.input[i]] != nil {
            guard let t = try staticConstant(node.input[i]) else {
                throw fail(node, "its \(what) '\(node.input[i])' depends on the batch size; import reads it as a constant")
            }
            return t
        }
        throw fail(node, "its \(what) '\(node.input[i])' is computed in the graph; import reads it only as a constant (an initializer)")
    }

    func optionalConstant(_ node: Onnx_NodeProto, _ i: Int, _ what: String) throws -> Tensor? {
        guard i < node.input.count, !node.input[i].isEmpty else { return nil }
        return try constant(node, i, what)
    }

    func floating(_ t: Tensor, _ node: Onnx_NodeProto, _ what: String) throws -> Tensor {
        guard t.dtype.isFloatingPoint else { throw fail(node, "its \(what) is \(t.dtype); expected float") }
        return t.dtype == .float32 ? t : t.to(.float32)
    }

    // MARK: the walk

    mutating func read() throws -> ONNXImport.Model {
        for (i, p) in graph.initializer.enumerated() {
            constants[p.name] = try ONNXTensors.tensor(p, what: "initializer '\(p.name.isEmpty ? "#\(i)" : p.name)'")
        }
        let inputs = graph.input.filter { constants[$0.name] == nil }
        guard inputs.count == 1 else {
            throw ONNXError("\(source): the graph has \(inputs.count) inputs (\(inputs.map { $0.name }.joined(separator: ", "))); import reads models of one input")
        }
        guard graph.output.count == 1 else {
            throw ONNXError("\(source): the graph has \(graph.output.count) outputs; import reads models of one output")
        }
        let input = inputs[0]
        let tensorType = input.type.tensorType
        switch Onnx_TensorProto.DataType(rawValue: Int(tensorType.elemType)) {
        case .float?, .double?: inputDType = .float32
        case .int64?, .int32?: inputDType = .int64
        default: throw ONNXError("\(source): the input '\(input.name)' is of type \(tensorType.elemType); import reads float or int64 inputs")
        }
        let dims = tensorType.shape.dim
        guard dims.count >= 2 else {
            throw ONNXError("\(source): the input '\(input.name)' has \(dims.count) dimensions; expected a batch and at least one more")
        }
        for (i, d) in dims.enumerated().dropFirst() {
            guard d.dimValue > 0, d.dimValue <= Int64(ModelSpec.maxSize) else {
                throw ONNXError("\(source): dimension \(i) of the input '\(input.name)' is \(d.dimParam.isEmpty ? String(d.dimValue) : "symbolic ('\(d.dimParam)')"); import needs fixed positive sizes except for the batch")
            }
        }
        shape = dims.dropFirst().map { Int($0.dimValue) }
        do { _ = try ModelSpec.parseShape(shape.map(String.init).joined(separator: "x")) }   // the size checks of a typed shape
        catch { throw ONNXError("\(source): the input '\(input.name)': \(error)") }
        let inputShape = shape
        current = input.name
        fixedBatch = dims[0].dimValue > 0 ? Int(dims[0].dimValue) : nil
        fullShapes[current] = [-1] + shape

        // constants and shape arithmetic first; the walk reads the rest
        var nodes: [Onnx_NodeProto] = []
        for node in try sorted() {
            if node.opType == "Constant" {
                guard let a = attribute(node, "value"), a.hasT, node.output.count == 1 else {
                    throw fail(node, "import reads Constant nodes holding a tensor ('value')")
                }
                constants[node.output[0]] = try ONNXTensors.tensor(a.t, what: "the value of constant node '\(node.name)'")
            } else if isStatic(node) {
                staticNodes[node.output[0]] = node
            } else {
                nodes.append(node)
            }
        }
        for (k, node) in nodes.enumerated() {
            for name in Set(node.input) where !name.isEmpty { valueReaders[name, default: []].append(k) }
            for name in node.output where !name.isEmpty { valueProducers[name] = k }
        }
        var i = 0
        // (x − mean) / std at the start: the checkpoint's normalisation, not a layer
        if nodes.count >= 2, nodes[0].opType == "Sub", nodes[0].input.first == current, nodes[1].opType == "Div",
           nodes[1].input.first == nodes[0].output.first, nodes[0].input.count == 2, nodes[1].input.count == 2,
           let m = constants[nodes[0].input[1]], m.count == 1, m.dtype.isFloatingPoint,
           let s = constants[nodes[1].input[1]], s.count == 1, s.dtype.isFloatingPoint,
           let n = try? Normalization(mean: m.toArray(as: Double.self)[0], std: s.toArray(as: Double.self)[0]) {
            normalization = n
            current = nodes[1].output[0]
            i = 2
        }
        while i < nodes.count {
            i += try step(nodes, i)
        }
        guard current == graph.output[0].name else {
            throw ONNXError("\(source): the chain of layers ends at '\(current)', but the graph's output is '\(graph.output[0].name)'")
        }
        guard !layers.isEmpty else { throw ONNXError("\(source): the graph has no layers") }
        var state: [String: Tensor] = [:]
        for (index, layer) in layers.enumerated() {
            for (name, t) in layer.state { state["\(index).\(name)"] = t }
        }
        return ONNXImport.Model(spec: layers.map { $0.token }.joined(separator: " "), inputShape: inputShape, inputDType: inputDType,
                                state: state, opset: opset, normalization: normalization, sources: layers.map { ($0.token, $0.nodes) })
    }

    /// The nodes in an order where each comes after what it reads; throws on a value nothing
    /// defines, a value defined twice, or a cycle.
    mutating func sorted() throws -> [Onnx_NodeProto] {
        var producer: [String: Int] = [:]
        let nodes = graph.node
        for (i, node) in nodes.enumerated() {
            for o in node.output where !o.isEmpty {
                if producer[o] != nil || constants[o] != nil || o == current {
                    throw fail(node, "its output '\(o)' is also defined elsewhere in the graph; each value must be defined once")
                }
                producer[o] = i
            }
        }
        var indegree = [Int](repeating: 0, count: nodes.count), readers = [[Int]](repeating: [], count: nodes.count)
        for (i, node) in nodes.enumerated() {
            for name in node.input where !name.isEmpty {
                if let p = producer[name] { indegree[i] += 1; readers[p].append(i) }
                else if constants[name] == nil && name != current {
                    throw fail(node, "it reads '\(name)', which no node, initializer or graph input defines (a missing initializer?)")
                }
            }
        }
        // Kahn's algorithm taking the earliest ready node first: a graph already in order (as
        // ONNX requires) keeps its order, which the multi-node patterns rely on.
        var ready = (0..<nodes.count).filter { indegree[$0] == 0 }.reversed().map { $0 }, order: [Int] = []
        while let next = ready.popLast() {
            order.append(next)
            for r in readers[next] {
                indegree[r] -= 1
                if indegree[r] == 0 {
                    let at = ready.firstIndex(where: { $0 < r }) ?? ready.count   // ready stays in decreasing order
                    ready.insert(r, at: at)
                }
            }
        }
        if order.count < nodes.count, let stuck = (0..<nodes.count).first(where: { indegree[$0] > 0 }) {
            throw fail(nodes[stuck], "the graph has a cycle through this node (its inputs depend on its own output)")
        }
        return order.map { nodes[$0] }
    }

    /// Throws when a node after index `after`, or the graph's output, reads one of the values
    /// `inside` a block that became one layer (`what`; `block` is named for the output): the
    /// chain of layers could not hold it.
    func checkSealed(_ nodes: [Onnx_NodeProto], inside: Set<String>, after: Int, block: Onnx_NodeProto, what: String,
                     expected: String = "import reads graphs that are a chain of layers") throws {
        if after + 1 < nodes.count, let reader = nodes[(after + 1)...].first(where: { $0.input.contains(where: inside.contains) }) {
            throw fail(reader, "it reads a value inside \(what) (\(reader.input.filter(inside.contains).map { "'\($0)'" }.joined(separator: ", "))); \(expected)")
        }
        if inside.contains(graph.output[0].name) { throw fail(block, "the graph's output is a value inside \(what)") }
    }

    mutating func append(_ token: String, _ state: [String: Tensor] = [:], nodes: [Onnx_NodeProto], output: String, shape newShape: [Int]) {
        layers.append((token, state, nodes.map { $0.name }))
        current = output
        shape = newShape
        fullShapes[output] = [-1] + newShape
    }

    /// Reads the layer starting at node `i`; returns how many nodes it used.
    mutating func step(_ nodes: [Onnx_NodeProto], _ i: Int) throws -> Int {
        let node = nodes[i]
        if let token = softplusPattern(nodes, i) {
            append(token, nodes: Array(nodes[i..<(i + 5)]), output: nodes[i + 4].output[0], shape: shape)
            return 5
        }
        if node.input.contains(current), let (count, token) = activationPattern(nodes, i) {
            append(token, nodes: Array(nodes[i..<(i + count)]), output: nodes[i + count - 1].output[0], shape: shape)
            return count
        }
        if node.input.first == current, let count = try encoderPattern(nodes, i) ?? attentionPattern(nodes, i) ?? unrolledRecurrentPattern(nodes, i) {
            return count
        }
        let data = node.input.filter { !$0.isEmpty && constants[$0] == nil && staticNodes[$0] == nil }
        guard data == [current] || (data.isEmpty && node.opType == "Gather") else {
            throw fail(node, data.isEmpty
                ? "it reads only constants; import expects each node to read the previous layer's output"
                : "it reads \(data.map { "'\($0)'" }.joined(separator: " and ")) where the chain is at '\(current)'; import reads graphs that are a chain of layers (no branches)")
        }
        guard let output = node.output.first, !output.isEmpty else { throw fail(node, "it has no output") }
        let next = i + 1 < nodes.count ? nodes[i + 1] : nil
        let rank = shape.count
        switch node.opType {
        case "Gemm":
            guard float(node, "alpha", 1) == 1, float(node, "beta", 1) == 1, int(node, "transA", 0) == 0 else {
                throw fail(node, "import reads Gemm as a linear layer: alpha = beta = 1 and transA = 0")
            }
            guard data.first == node.input.first else { throw fail(node, "the layer's input must be Gemm's first operand") }
            var w = try floating(try constant(node, 1, "weight"), node, "weight")
            guard w.rank == 2 else { throw fail(node, "its weight has shape \(w.shape); expected a matrix") }
            if int(node, "transB", 0) == 0 { w = w.transpose(0, 1).contiguous() }
            guard rank == 1, w.shape[1] == shape[0] else {
                throw fail(node, "its weight is \(w.shape[0])×\(w.shape[1]) but its input has shape \(shape) per sample (expected \(w.shape[1]) features)")
            }
            var state = ["weight": w]
            if let b = try optionalConstant(node, 2, "bias") {
                guard b.count == w.shape[0] else { throw fail(node, "its bias has \(b.count) values; expected \(w.shape[0]), one per output") }
                state["bias"] = try floating(b, node, "bias").reshape([w.shape[0]])
            }
            append("linear(\(w.shape[0])\(state["bias"] == nil ? ",bias=false" : ""))", state, nodes: [node], output: output, shape: [w.shape[0]])
            return 1
        case "MatMul":
            guard node.input.first == current else { throw fail(node, "the layer's input must be MatMul's first operand") }
            let wt = try floating(try constant(node, 1, "weight"), node, "weight")
            guard wt.rank == 2, rank >= 1, wt.shape[0] == shape[rank - 1] else {
                throw fail(node, "its weight has shape \(wt.shape); expected [\(shape.last ?? 0), out] for inputs of shape \(shape) per sample")
            }
            let out = wt.shape[1]
            var state = ["weight": wt.transpose(0, 1).contiguous()]
            var used = [node]
            if let add = next, add.opType == "Add", add.input.contains(output),
               let other = add.input.first(where: { $0 != output }), let b = constants[other], b.count == out {
                state["bias"] = try floating(b, add, "bias").reshape([out])
                used.append(add)
            }
            append("linear(\(out)\(state["bias"] == nil ? ",bias=false" : ""))", state, nodes: used, output: used.last!.output[0],
                   shape: Array(shape.dropLast()) + [out])
            return used.count
        case "Conv":
            let w = try floating(try constant(node, 1, "weight"), node, "weight")
            guard w.rank == 4 || w.rank == 3, rank == w.rank - 1 else {
                throw fail(node, "its weight has shape \(w.shape) for inputs of shape \(shape) per sample; import reads 1-D and 2-D convolutions")
            }
            let n = w.rank - 2, kernel = Array(w.shape.suffix(n)), groups = int(node, "group", 1)
            let strides = ints(node, "strides") ?? Array(repeating: 1, count: n), dilations = ints(node, "dilations") ?? Array(repeating: 1, count: n)
            guard groups >= 1, groups <= shape[0], shape[0] == w.shape[1] * groups else {
                throw fail(node, "its weight expects \(w.shape[1]) input channels per group × \(groups) groups, but its input has \(shape[0]) channels")
            }
            let padding = try pads(node, n, kernel: kernel, strides: strides, dilations: dilations)
            var state = ["weight": w]
            if let b = try optionalConstant(node, 2, "bias") {
                guard b.count == w.shape[0] else { throw fail(node, "its bias has \(b.count) values; expected \(w.shape[0]), one per output channel") }
                state["bias"] = try floating(b, node, "bias").reshape([w.shape[0]])
            }
            var args = ["\(w.shape[0])", "kernel=\(tuple(kernel))"]
            if strides.contains(where: { $0 != 1 }) { args.append("stride=\(tuple(strides))") }
            args.append("padding=\(padding.spec)")
            if dilations.contains(where: { $0 != 1 }) { args.append("dilation=\(tuple(dilations))") }
            if groups != 1 { args.append("groups=\(groups)") }
            if state["bias"] == nil { args.append("bias=false") }
            let outSize = (0..<n).map { d in
                padding.spec == "same" ? shape[d + 1]
                    : Tensor.windowOutput(shape[d + 1], kernel: kernel[d], stride: strides[d], pad: padding.each[d], dilation: dilations[d], ceilMode: false)
            }
            append((n == 2 ? "conv(" : "conv1d(") + args.joined(separator: ",") + ")", state, nodes: [node], output: output, shape: [w.shape[0]] + outSize)
            return 1
        case "ConvTranspose":
            let w = try floating(try constant(node, 1, "weight"), node, "weight")
            guard w.rank == 4, rank == 3 else {
                throw fail(node, "its weight has shape \(w.shape) for inputs of shape \(shape) per sample; import reads 2-D transposed convolutions")
            }
            guard attribute(node, "output_shape") == nil else { throw fail(node, "it sets output_shape; import reads pads and output_padding") }
            let kernel = Array(w.shape.suffix(2)), groups = int(node, "group", 1)
            let strides = ints(node, "strides") ?? [1, 1], dilations = ints(node, "dilations") ?? [1, 1]
            let outputPadding = ints(node, "output_padding") ?? [0, 0]
            guard w.shape[0] == shape[0], groups >= 1, groups <= shape[0], shape[0] % groups == 0 else {
                throw fail(node, "its weight expects \(w.shape[0]) input channels in \(groups) groups, but its input has \(shape[0]) channels")
            }
            guard outputPadding.count == 2, outputPadding.allSatisfy({ $0 >= 0 && $0 <= ModelSpec.maxSize }) else {
                throw fail(node, "its output_padding \(outputPadding) is not two sizes ≥ 0")
            }
            let padding = try pads(node, 2, kernel: kernel, strides: strides, dilations: dilations, pooling: true)
            let out = w.shape[1] * groups
            var state = ["weight": w]
            if let b = try optionalConstant(node, 2, "bias") {
                guard b.count == out else { throw fail(node, "its bias has \(b.count) values; expected \(out), one per output channel") }
                state["bias"] = try floating(b, node, "bias").reshape([out])
            }
            var args = ["\(out)", "kernel=\(tuple(kernel))", "stride=\(tuple(strides))", "padding=\(padding.spec)"]
            if outputPadding != [0, 0] { args.append("output_padding=\(tuple(outputPadding))") }
            if dilations != [1, 1] { args.append("dilation=\(tuple(dilations))") }
            if groups != 1 { args.append("groups=\(groups)") }
            if state["bias"] == nil { args.append("bias=false") }
            var size = [0, 0]
            for i in 0..<2 {
                size[i] = Tensor.transposedWindowOutput(shape[i + 1], kernel: kernel[i], stride: strides[i], pad: padding.each[i],
                                                        dilation: dilations[i], outputPadding: outputPadding[i])
                guard size[i] > 0, size[i] <= ModelSpec.maxSize else { throw fail(node, "its output would have \(size[i]) pixels along dim \(i + 2)") }
            }
            append("convtranspose(" + args.joined(separator: ",") + ")", state, nodes: [node], output: output, shape: [out] + size)
            return 1
        case "MaxPool", "AveragePool":
            let isMax = node.opType == "MaxPool"
            guard let kernel = ints(node, "kernel_shape"), kernel.count == 2, rank == 3 else {
                throw fail(node, "import reads 2-D pooling of C×H×W inputs; found kernel \(ints(node, "kernel_shape") ?? []) on \(shape)")
            }
            if isMax && node.output.count > 1 && !node.output[1].isEmpty { throw fail(node, "its indices output is used; import reads pooling values only") }
            let strides = ints(node, "strides") ?? [1, 1], dilations = ints(node, "dilations") ?? [1, 1]
            let padding = try pads(node, 2, kernel: kernel, strides: strides, dilations: dilations, pooling: true)
            let ceil = int(node, "ceil_mode", 0) == 1
            var args = ["kernel=\(tuple(kernel))", "stride=\(tuple(strides))", "padding=\(padding.spec)"]
            if isMax && dilations != [1, 1] { args.append("dilation=\(tuple(dilations))") }
            if !isMax && dilations != [1, 1] { throw fail(node, "dilated average pooling has no Neurone layer") }
            if ceil { args.append("ceil=true") }
            if !isMax { args.append("count_include_pad=\(int(node, "count_include_pad", 0) == 1)") }
            let out = (0..<2).map { Tensor.windowOutput(shape[$0 + 1], kernel: kernel[$0], stride: strides[$0], pad: padding.each[$0], dilation: dilations[$0], ceilMode: ceil) }
            guard out.allSatisfy({ $0 > 0 }) else { throw fail(node, "its window does not fit in the input \(shape)") }
            append((isMax ? "maxpool(" : "avgpool(") + args.joined(separator: ",") + ")", nodes: [node], output: output, shape: [shape[0]] + out)
            return 1
        case "GlobalAveragePool":
            guard rank == 3 else { throw fail(node, "import reads global pooling of C×H×W inputs, found \(shape)") }
            append("adaptiveavgpool(1)", nodes: [node], output: output, shape: [shape[0], 1, 1])
            return 1
        case "BatchNormalization":
            guard int(node, "training_mode", 0) == 0, node.output.count == 1 || node.output.dropFirst().allSatisfy({ $0.isEmpty }) else {
                throw fail(node, "import reads batch normalization in inference mode (training_mode = 0, one output)")
            }
            let c = shape[0]
            var state: [String: Tensor] = [:]
            for (k, name) in [(1, "weight"), (2, "bias"), (3, "running_mean"), (4, "running_var")] {
                let t = try floating(try constant(node, k, name), node, name)
                guard t.count == c else { throw fail(node, "its \(name) has \(t.count) values; the input has \(c) channels") }
                state[name] = t.reshape([c])
            }
            state["num_batches_tracked"] = Tensor(Int64(0), dtype: .int64)
            let eps = float(node, "epsilon", 1e-5), momentum = 1 - float(node, "momentum", 0.9)
            append("batchnorm(eps=\(number(eps)),momentum=\(number(momentum)))", state, nodes: [node], output: output, shape: shape)
            return 1
        case "LayerNormalization":
            let axis = int(node, "axis", -1)
            guard axis == -1 || axis == rank else {
                throw fail(node, "it normalises from axis \(axis); import reads layer normalisation over the last dimension (axis = -1)")
            }
            let f = shape[rank - 1]
            let w = try floating(try constant(node, 1, "scale"), node, "scale")
            guard w.count == f else { throw fail(node, "its scale has \(w.count) values; the last dimension has \(f)") }
            var state = ["weight": w.reshape([f])]
            if let b = try optionalConstant(node, 2, "bias") {
                guard b.count == f else { throw fail(node, "its bias has \(b.count) values; the last dimension has \(f)") }
                state["bias"] = try floating(b, node, "bias").reshape([f])
            } else {
                state["bias"] = Tensor.zeros([f])
            }
            append("layernorm(eps=\(number(float(node, "epsilon", 1e-5))))", state, nodes: [node], output: output, shape: shape)
            return 1
        case "Flatten":
            guard int(node, "axis", 1) == 1 else { throw fail(node, "import reads Flatten with axis = 1 (keep the batch, flatten the rest)") }
            append("flatten", nodes: [node], output: output, shape: [try flatSize(node)])
            return 1
        case "Reshape":
            // a constant target, or one computed from the input's shape ([Shape(x)[0], -1], as
            // PyTorch writes x.view(x.size(0), -1)): folded for each probe batch
            let targets = try foldedTargets(node)
            let flat = try flatSize(node)
            if targets.allSatisfy({ t in t.target.count == 2 && (t.target[1] == flat || t.target[1] == -1 && [0, t.batch].contains(t.target[0])) }) {
                append("flatten", nodes: [node], output: output, shape: [flat])
                return 1
            }
            if rank == 3 && shape[0] == 1 && targets.allSatisfy({ t in t.target.count == 3 && Array(t.target.dropFirst()) == [shape[1], shape[2]] }) {
                append("rows", nodes: [node], output: output, shape: [shape[1], shape[2]])
                return 1
            }
            // any other shape per sample, the batch kept: reshape(…) (Keras's Reshape)
            let count = CheckedSize.product(shape) ?? 0, allowZero = int(node, "allowzero", 0) == 1
            let perSample = targets.map { t -> [Int]? in
                guard t.target.count >= 2, t.target.count <= 9, [0, -1, t.batch].contains(t.target[0]), !(allowZero && t.target[0] == 0) else { return nil }
                var dims = t.target.dropFirst().enumerated().map { $0.element == 0 && !allowZero && $0.offset < rank ? shape[$0.offset] : $0.element }
                let free = dims.filter { $0 == -1 }.count
                guard dims.allSatisfy({ $0 == -1 || $0 > 0 }), free <= (t.target[0] == -1 ? 0 : 1),
                      let known = CheckedSize.product(dims.filter { $0 != -1 }), known > 0, count % known == 0 else { return nil }
                if let k = dims.firstIndex(of: -1) { dims[k] = count / known }
                return CheckedSize.product(dims) == count ? dims : nil
            }
            if let dims = perSample[0], perSample.allSatisfy({ $0 == dims }) {
                append("reshape(\(dims.map(String.init).joined(separator: ",")))", nodes: [node], output: output, shape: dims)
                return 1
            }
            throw fail(node, "it reshapes \(shape) per sample to \(targets[0].target)\(targets.count > 1 ? " for a batch of \(targets[0].batch)" : ""); import reads Reshape that keeps the batch (flatten, reshape(…))")
        case "Relu", "Sigmoid", "Tanh", "Softplus":
            append(node.opType.lowercased(), nodes: [node], output: output, shape: shape)
            return 1
        case "Add":
            if positionalEncoding(nodes, i) { return 1 }
            throw fail(node, "import reads Add of a constant as a bias after MatMul or as a positional encoding (a [steps, features] table added to a sequence)")
        case "Transpose":
            if let count = try recurrentPattern(nodes, i) { return count }
            // the batch kept first: the sample's dimensions permuted (Keras's Permute)
            if let perm = ints(node, "perm"), perm.count == rank + 1, perm.first == 0, perm.sorted() == Array(0...rank) {
                append("permute(\(perm.dropFirst().map(String.init).joined(separator: ",")))", nodes: [node], output: output,
                       shape: perm.dropFirst().map { shape[$0 - 1] })
                return 1
            }
            throw fail(node, "import reads Transpose that keeps the batch first (permute(…)), or around recurrent layers (perm [1, 0, 2] of a batch-first sequence before RNN, LSTM or GRU and after them)")
        case "Identity", "Dropout":
            if node.output.count > 1 && !node.output[1].isEmpty { throw fail(node, "its mask output is used") }
            current = output
            fullShapes[output] = [-1] + shape
            return 1
        case "LeakyRelu":
            append("leakyrelu(slope=\(number(float(node, "alpha", 0.01))))", nodes: [node], output: output, shape: shape)
            return 1
        case "Elu":
            append("elu(alpha=\(number(float(node, "alpha", 1))))", nodes: [node], output: output, shape: shape)
            return 1
        case "PRelu":
            let slope = try floating(try constant(node, 1, "slope"), node, "slope")
            let perChannel = slope.count > 1
            guard !perChannel || slope.count == shape[0] else {
                throw fail(node, "its slope has \(slope.count) values; expected 1 or one per channel (\(shape[0]))")
            }
            append(perChannel ? "prelu(per_channel=true)" : "prelu", ["weight": slope.reshape([slope.count])], nodes: [node], output: output, shape: shape)
            return 1
        case "Gelu":
            let approx = string(node, "approximate", "none")
            append(approx == "tanh" ? "gelu(approximate=tanh)" : "gelu", nodes: [node], output: output, shape: shape)
            return 1
        case "Softmax", "LogSoftmax":
            let axis = int(node, "axis", opset >= 13 ? -1 : 1)
            guard opset >= 13 || axis == rank || axis == -1 else {
                throw fail(node, "before opset 13 \(node.opType) flattens from its axis; import reads it on the last axis only")
            }
            append("\(node.opType.lowercased())(dim=\(axis))", nodes: [node], output: output, shape: shape)
            return 1
        case "Gather":
            if node.input.count == 2, let w = constants[node.input[0]], node.input[1] == current, int(node, "axis", 0) == 0 {
                guard layers.isEmpty, inputDType == .int64 else { throw fail(node, "an embedding must read the graph's int64 input directly") }
                let table = try floating(w, node, "embedding table")
                guard table.rank == 2 else { throw fail(node, "its table has shape \(table.shape); expected [rows, dim]") }
                append("embedding(\(table.shape[0]),\(table.shape[1]))", ["weight": table], nodes: [node], output: output, shape: shape + [table.shape[1]])
                return 1
            }
            if node.input.first == current, let index = try? constant(node, 1, "index"), index.count == 1, index.rank == 0,
               int(node, "axis", 0) == 1, rank == 2, [-1, shape[0] - 1].contains(Int(index.toArray(as: Int64.self)[0])) {
                append("last", nodes: [node], output: output, shape: [shape[1]])
                return 1
            }
            throw fail(node, "import reads Gather as an embedding (a table indexed by the int64 input) or as the last step of a sequence")
        case "ReduceMean":
            let axes = opset >= 18 ? try optionalConstant(node, 1, "axes")?.toArray(as: Int64.self).map { Int($0) } : ints(node, "axes")
            // over an image's height and width (PyTorch's dynamo export of AdaptiveAvgPool2d((1, 1))): a global average pool
            if rank == 3, let a = axes, Set(a.map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3] {
                append("adaptiveavgpool(1)", nodes: [node], output: output, shape: [shape[0], 1, 1])
                if int(node, "keepdims", 1) == 0 { append("flatten", nodes: [node], output: output, shape: [shape[0]]) }
                return 1
            }
            // over the last axis of a C×L value (PyTorch's x.mean(dim=2) after a Conv1d): the steps made the first axis, then their mean
            if rank == 2, let a = axes, a == [2] || a == [-1], int(node, "keepdims", 1) == 0 {
                let (channels, steps) = (shape[0], shape[1])
                append("permute(2,1)", nodes: [node], output: output, shape: [steps, channels])
                append("mean", nodes: [node], output: output, shape: [channels])
                return 1
            }
            guard rank == 2, axes == [1], int(node, "keepdims", 1) == 0 else {
                throw fail(node, "import reads ReduceMean as the mean over a sequence's steps (axes [1], keepdims 0) or over an image's height and width (axes [2, 3])")
            }
            append("mean", nodes: [node], output: output, shape: [shape[1]])
            return 1
        case "RNN", "LSTM", "GRU":
            // reached only outside the Transpose pattern that recurrentPattern reads
            if int(node, "layout", 0) != 0 {
                throw fail(node, "its layout is \(int(node, "layout", 0)) (batch first inside the op); import reads layout 0 between Transposes [1, 0, 2], as PyTorch and Neurone export")
            }
            throw fail(node, "it reads the model's input as a time-first sequence ([steps, batch, features]: batch_first=False); import reads batch-first models (a Transpose [1, 0, 2] before the op, as PyTorch writes batch_first=True)")
        default:
            throw fail(node, "import does not read this operator; it reads \(ChainReader.operators.joined(separator: ", ")) (docs/ONNX.md)")
        }
    }

    static let operators = ["Gemm", "MatMul(+Add)", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization",
                            "LayerNormalization", "Flatten", "Reshape (as flatten or a per-sample reshape)", "Relu", "Sigmoid", "Tanh", "Softplus", "LeakyRelu",
                            "Elu", "PRelu", "Gelu", "Softmax", "LogSoftmax", "Identity", "Dropout", "Gather (embedding, last step)",
                            "ReduceMean (mean over steps; over height and width as a global average pool)", "Transpose keeping the batch first (permute)", "RNN, LSTM, GRU (between Transposes of a batch-first sequence)", "Transformer encoder layers (self-attention, residual Adds, LayerNormalization, feed-forward)", "self-attention as Neurone exports MultiheadAttention", "PyTorch's own MultiheadAttention and TransformerEncoderLayer exports and nn.RNN unrolled by the dynamo exporter (recognised by what they compute)", "Add of a positional encoding table", "Constant", "Softplus with beta and threshold as Neurone writes it", "SiLU and GELU written as elementwise nodes (Mul, Div, Add, Sub, Erf, Tanh, Sigmoid, Pow, Sqrt)"]

    static let elementwise: Set<String> = ["Mul", "Div", "Add", "Sub", "Erf", "Tanh", "Sigmoid", "Pow", "Sqrt"]

    /// Nodes i… that together compute an activation Neurone has as one layer (SiLU, GELU exact or
    /// tanh-approximated) from the chain's value and scalar constants, in whatever arrangement
    /// the exporter wrote them (Neurone's, PyTorch's): each window of elementwise nodes is
    /// evaluated on probe values and compared with the activation. (count, spec token) or nil.
    func activationPattern(_ nodes: [Onnx_NodeProto], _ i: Int) -> (Int, String)? {
        let probe = stride(from: -4.0, through: 4.0, by: 0.25).map { $0 }
        func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }
        func geluTanh(_ x: Double) -> Double { 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) }
        func silu(_ x: Double) -> Double { x / (1 + exp(-x)) }
        let targets: [(String, [Double])] = [("silu", probe.map(silu)), ("gelu", probe.map(gelu)), ("gelu(approximate=tanh)", probe.map(geluTanh))]
        var values: [String: [Double]] = [current: probe]
        var window: [String] = []
        for k in 0..<Swift.min(12, nodes.count - i) {
            let node = nodes[i + k]
            guard ChainReader.elementwise.contains(node.opType), node.output.count == 1 else { return nil }
            var operands: [[Double]] = []
            for name in node.input {
                if let v = values[name] { operands.append(v) }
                else if let c = constants[name], c.count == 1, c.dtype.isFloatingPoint { operands.append(Array(repeating: c.toArray(as: Double.self)[0], count: probe.count)) }
                else { return nil }
            }
            let unary = ["Erf", "Tanh", "Sigmoid", "Sqrt"].contains(node.opType)
            guard operands.count == (unary ? 1 : 2) else { return nil }
            let result: [Double] = probe.indices.map { j in
                let a = operands[0][j], b = unary ? 0 : operands[1][j]
                switch node.opType {
                case "Mul": return a * b
                case "Div": return a / b
                case "Add": return a + b
                case "Sub": return a - b
                case "Pow": return pow(a, b)
                case "Erf": return erf(a)
                case "Tanh": return tanh(a)
                case "Sigmoid": return 1 / (1 + exp(-a))
                default: return sqrt(a)
                }
            }
            values[node.output[0]] = result
            window.append(node.output[0])
            guard k >= 1, let match = targets.first(where: { t in zip(t.1, result).allSatisfy { abs($0 - $1) <= 1e-5 * Swift.max(1, abs($0)) } }) else { continue }
            // the window's inner values and the input are read by nothing after it
            let inner = Set(window.dropLast() + [current])
            if nodes[(i + k + 1)...].allSatisfy({ $0.input.allSatisfy { !inner.contains($0) } }) && !inner.contains(graph.output[0].name) {
                return (k + 1, match.0)
            }
        }
        return nil
    }

    /// Softplus with beta and threshold as `ONNXGraphBuilder.lower` writes it: Mul(x, β), Softplus,
    /// Div(·, β), Greater(βx, threshold), Where(·, x, ·); the spec token or nil.
    func softplusPattern(_ nodes: [Onnx_NodeProto], _ i: Int) -> String? {
        guard i + 4 < nodes.count else { return nil }
        let n = Array(nodes[i...(i + 4)])
        guard n.map({ $0.opType }) == ["Mul", "Softplus", "Div", "Greater", "Where"], n.allSatisfy({ $0.output.count == 1 }) else { return nil }
        func scalar(_ node: Onnx_NodeProto, _ k: Int) -> Double? {
            guard k < node.input.count, let c = constants[node.input[k]], c.count == 1, c.dtype.isFloatingPoint else { return nil }
            return c.toArray(as: Double.self)[0]
        }
        let scaled = n[0].output[0]
        guard n[0].input.first == current, let beta = scalar(n[0], 1), n[1].input == [scaled], n[2].input.first == n[1].output[0],
              scalar(n[2], 1) == beta, n[3].input.first == scaled, let threshold = scalar(n[3], 1),
              n[4].input == [n[3].output[0], current, n[2].output[0]] else { return nil }
        let inner = Set(n.dropLast().map { $0.output[0] } + [current])
        guard nodes[(i + 5)...].allSatisfy({ $0.input.allSatisfy { !inner.contains($0) } }) else { return nil }
        return "softplus(beta=\(number(beta)),threshold=\(number(threshold)))"
    }

    /// The spec's padding of a node's `pads`/`auto_pad` ("(h,w)", "p", "same" or "valid") and the
    /// padding on each side of each spatial dim (the begin side for "same").
    func pads(_ node: Onnx_NodeProto, _ n: Int, kernel: [Int], strides: [Int], dilations: [Int], pooling: Bool = false) throws -> (spec: String, each: [Int]) {
        guard kernel.count == n, strides.count == n, dilations.count == n, (kernel + strides + dilations).allSatisfy({ $0 >= 1 && $0 <= ModelSpec.maxSize }) else {
            throw fail(node, "its kernel \(kernel), strides \(strides) and dilations \(dilations) must be \(n) positive sizes each")
        }
        let total = (0..<n).map { dilations[$0] * (kernel[$0] - 1) }
        let auto = string(node, "auto_pad", "NOTSET")
        switch auto {
        case "NOTSET", "":
            let p = ints(node, "pads") ?? Array(repeating: 0, count: 2 * n)
            guard p.count == 2 * n, p.allSatisfy({ $0 >= 0 && $0 <= ModelSpec.maxSize }) else {
                throw fail(node, "its pads \(p) are not \(2 * n) sizes ≥ 0")
            }
            let begin = Array(p.prefix(n)), end = Array(p.suffix(n))
            if begin != end {
                if !pooling && strides.allSatisfy({ $0 == 1 }) && begin == total.map({ $0 / 2 }) && end == total.map({ $0 - $0 / 2 }) {
                    return ("same", begin)
                }
                throw fail(node, "its padding is not symmetric (begin \(begin), end \(end)); Neurone's layers pad both sides alike")
            }
            return (tuple(begin), begin)
        case "VALID": return (pooling ? tuple(Array(repeating: 0, count: n)) : "valid", Array(repeating: 0, count: n))
        case "SAME_UPPER" where !pooling && strides.allSatisfy({ $0 == 1 }): return ("same", total.map { $0 / 2 })
        default: throw fail(node, "auto_pad \(auto) has no Neurone equivalent; export with explicit pads")
        }
    }

    /// The number of values per sample, checked: at most `ModelSpec.maxSampleElements`.
    func flatSize(_ node: Onnx_NodeProto) throws -> Int {
        guard let n = CheckedSize.product(shape), n <= ModelSpec.maxSampleElements else {
            throw fail(node, "its input of shape \(shape) per sample holds more than the \(ModelSpec.maxSampleElements) values a model may handle")
        }
        return n
    }

    func tuple(_ v: [Int]) -> String { v.count == 1 || Set(v).count == 1 ? "\(v[0])" : "(\(v.map(String.init).joined(separator: ",")))" }
    func number(_ v: Double) -> String {
        let f = Double(Float(v))   // attributes are float32: 1e-5 is 9.99999974738e-06
        for digits in 1...9 { let s = String(format: "%.\(digits)g", f); if Float(s) == Float(f) { return s } }
        return "\(f)"
    }
}

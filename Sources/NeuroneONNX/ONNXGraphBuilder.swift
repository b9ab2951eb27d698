import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneONNXProto

/// A value of the graph being exported: its ONNX name, and what it holds when the model runs on
/// the export's sample input (which gives every shape and lets a lowering check itself).
public struct ONNXValue {
    /// The value's name in the graph.
    public let name: String
    /// Its value on the sample input.
    public let sample: Tensor
    /// A value of the graph.
    public init(name: String, sample: Tensor) {
        self.name = name
        self.sample = sample
    }
    /// Its shape on the sample input (the first dim is the batch).
    public var shape: [Int] { sample.shape }
}

/// An attribute of an ONNX node.
public enum ONNXAttribute {
    /// An integer attribute (name, value).
    case int(String, Int)
    /// A list of integers.
    case ints(String, [Int])
    /// A float (written as float32, as ONNX stores it).
    case float(String, Double)
    /// A string (written as UTF-8 bytes).
    case string(String, String)
    /// A list of strings.
    case strings(String, [String])

    var proto: Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        switch self {
        case let .int(name, v): a.name = name; a.type = .int; a.i = Int64(v)
        case let .ints(name, v): a.name = name; a.type = .ints; a.ints = v.map { Int64($0) }
        case let .float(name, v): a.name = name; a.type = .float; a.f = Float(v)
        case let .string(name, v): a.name = name; a.type = .string; a.s = Data(v.utf8)
        case let .strings(name, v): a.name = name; a.type = .strings; a.strings = v.map { Data($0.utf8) }
        }
        return a
    }
}

/// A module that writes its own ONNX nodes, for a network whose `forward` is Swift code rather
/// than a chain of layers: `exportONNX` adds the nodes computing its output from `input` to
/// `graph` (`graph.lower` exports a sub-module; `graph.add` adds one node) and returns the output.
public protocol ONNXExportable: Module {
    func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder, path: String) throws -> ONNXValue
}

/// The graph an export builds: nodes in order, initializers (the weights), unique names.
public final class ONNXGraphBuilder {
    /// The opset the nodes are written for.
    public let opset: Int
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    private var names: Set<String> = []
    private var initializerNames: [ObjectIdentifier: String] = [:]
    /// Keeps tensors whose identity names an initializer alive, so identities are not reused.
    private var kept: [Tensor] = []

    init(opset: Int, reservedNames: [String]) {
        self.opset = opset
        names = Set(reservedNames)
    }

    /// `base`, or `base_1`, `base_2`… if taken.
    func unique(_ base: String) -> String {
        var name = base, i = 0
        while names.contains(name) { i += 1; name = "\(base)_\(i)" }
        names.insert(name)
        return name
    }

    /// The node-name scope of a module path: "/0/conv" for "0.conv", "" for the root.
    static func scope(_ path: String) -> String { path.isEmpty ? "" : "/" + path.replacingOccurrences(of: ".", with: "/") }

    /// Adds a node `op` of `inputs` ("" for an absent optional input) with one output, whose value
    /// on the sample input is `sample`.
    @discardableResult
    public func add(_ op: String, _ inputs: [String], path: String, attributes: [ONNXAttribute] = [], sample: Tensor) -> ONNXValue {
        let nodeName = unique(ONNXGraphBuilder.scope(path) + "/" + op)
        let output = unique(nodeName + "_output_0")
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = nodeName
        node.input = inputs
        node.output = [output]
        node.attribute = attributes.map { $0.proto }
        nodes.append(node)
        return ONNXValue(name: output, sample: sample)
    }

    /// An initializer holding `tensor` (once per tensor object: tied weights share one), named
    /// `name` or a unique variant of it.
    public func initializer(_ tensor: Tensor, name: String) -> String {
        if let known = initializerNames[ObjectIdentifier(tensor)] { return known }
        let unique = unique(name)
        initializers.append(ONNXTensors.proto(tensor, name: unique))
        initializerNames[ObjectIdentifier(tensor)] = unique
        kept.append(tensor)
        return unique
    }

    /// An int64 1-D initializer (shapes, axes, indices).
    public func int64s(_ values: [Int], name: String) -> String {
        initializer(Tensor(values.map { Int64($0) }, shape: [values.count], dtype: .int64), name: name)
    }

    /// A 0-d initializer of `dtype` holding `value` (a constant operand of elementwise nodes).
    public func scalar(_ value: Double, dtype: DType, name: String) -> String {
        initializer(Tensor.full([], value, dtype: dtype), name: name)
    }

    /// Renames a value everywhere it appears (the graph output gets its public name).
    func rename(_ old: String, to new: String) {
        for i in nodes.indices {
            nodes[i].input = nodes[i].input.map { $0 == old ? new : $0 }
            nodes[i].output = nodes[i].output.map { $0 == old ? new : $0 }
        }
    }
}

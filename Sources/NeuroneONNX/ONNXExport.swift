import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import NeuroneData
import NeuroneONNXProto

/// Export of a Neurone model to ONNX (`torch.onnx.export`'s counterpart): the model runs once on
/// a sample input in evaluation mode while each layer writes its nodes (`ONNXGraphBuilder.lower`);
/// the weights become initializers named by their state-dict names.
public enum ONNXExport {
    /// The opsets an export can target.
    public static let opsets = 17...21
    /// The default opset (PyTorch's default in its TorchScript exporter).
    public static let defaultOpset = 17

    /// The layers `lower` knows, for messages and docs.
    public static let supportedLayers = [
        "Sequential", "Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
        "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout", "Dropout2d", "Identity", "Flatten", "Unflatten", "Embedding",
        "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "PReLU", "SiLU", "GELU", "Softplus", "Softmax", "LogSoftmax",
        "MultiheadAttention (self-attention)", "RNN", "LSTM", "GRU", "TransformerEncoderLayer", "TransformerEncoder",
        "SinusoidalPositionalEncoding", "LearnedPositionalEncoding", "ImageRows (rows)", "LastStep (last)", "SequenceMean (mean)", "MnistCNN",
        "AttentionClassifier",
    ]

    /// What an export produced: the ONNX model, and the sample input with the Neurone model's
    /// output on it (what ONNX Runtime should reproduce).
    public struct Result {
        /// The model, ready to serialise.
        public var model: Onnx_ModelProto
        /// The sample input the graph was traced with.
        public let input: Tensor
        /// Neurone's output on `input`.
        public let output: Tensor

        /// The model's protobuf bytes.
        public func serializedData() throws -> Data { try model.serializedData() }

        /// Adds `value` to the model's metadata_props under `key` (replacing an entry of that key).
        public mutating func setMetadata(_ key: String, _ value: String) {
            model.metadataProps.removeAll { $0.key == key }
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            model.metadataProps.append(entry)
        }
    }

    /// The IR version that goes with an opset (onnx/helper.py's VERSION_TABLE).
    static func irVersion(opset: Int) -> Int64 {
        switch opset {
        case ...18: return 8
        case 19, 20: return 9
        default: return 10
        }
    }

    /// Exports `model` for inputs of `sampleShape` (one sample, without the batch: [1, 28, 28],
    /// [784], [T] of token indices), traced with a batch of `batch` seeded random samples. With
    /// `dynamicBatch` the graph's batch dimension is symbolic ("batch"); otherwise it is `batch`.
    ///
    /// The model runs in evaluation mode (dropout off, batch norm's running statistics) and is put
    /// back in training mode afterwards if it was in it. Throws `ONNXError` naming the first layer
    /// ONNX export does not know, or an option out of range.
    public static func export(_ model: Module, sampleShape: [Int], batch: Int = 2, dynamicBatch: Bool = false,
                              opset: Int = defaultOpset, seed: UInt64 = 0, normalization: Normalization? = nil,
                              inputName: String = "input", outputName: String = "output", docString: String = "") throws -> Result {
        guard batch >= 1 else { throw ONNXError("the sample batch must be at least 1, got \(batch)") }
        let generator = Generator(seed: seed)
        let dtype = model.expectedInputDType ?? model.parameters().first?.dtype ?? .float32
        let shape = [batch] + sampleShape
        let input: Tensor
        if dtype.isFloatingPoint {
            input = Tensor.randn(shape, dtype: dtype, generator: generator)
        } else {
            let tokens = (model.namedModules().lazy.compactMap { $0.1 as? Embedding }.first?.numEmbeddings) ?? 2
            input = Tensor.randint(0, tokens, shape, dtype: dtype, generator: generator)
        }
        return try export(model, input: input, dynamicBatch: dynamicBatch, opset: opset, normalization: normalization,
                          inputName: inputName, outputName: outputName, docString: docString)
    }

    /// Exports `model` traced on `input` (a batch: [N, …]); see `export(_:sampleShape:…)`. With
    /// `normalization`, the graph starts with Sub and Div nodes computing (x − mean) / std, so that
    /// it takes raw inputs as the checkpoint's data pipeline does.
    public static func export(_ model: Module, input: Tensor, dynamicBatch: Bool = false, opset: Int = defaultOpset,
                              normalization: Normalization? = nil,
                              inputName: String = "input", outputName: String = "output", docString: String = "") throws -> Result {
        guard opsets.contains(opset) else {
            throw ONNXError("opset \(opset) is not supported: export writes opsets \(opsets.lowerBound)…\(opsets.upperBound)")
        }
        guard input.rank >= 1, input.shape[0] >= 1 else { throw ONNXError("the sample input must be a batch of at least one sample, got shape \(input.shape)") }
        guard inputName != outputName, !inputName.isEmpty, !outputName.isEmpty else {
            throw ONNXError("the input and output names must be different and not empty, got '\(inputName)' and '\(outputName)'")
        }
        let wasTraining = model.isTraining
        model.eval()
        defer { if wasTraining { model.train() } }

        let graph = ONNXGraphBuilder(opset: opset, reservedNames: [inputName, outputName])
        var start = ONNXValue(name: inputName, sample: input)
        if let n = normalization {
            guard input.dtype.isFloatingPoint else { throw ONNXError("normalisation applies to float inputs; this model takes \(input.dtype)") }
            let centred = graph.add("Sub", [inputName, graph.scalar(n.mean, dtype: input.dtype, name: "normalize.mean")], path: "normalize",
                                    sample: input - n.mean)
            start = graph.add("Div", [centred.name, graph.scalar(n.std, dtype: input.dtype, name: "normalize.std")], path: "normalize",
                              sample: n.apply(input))
        }
        let first = start
        let result = try withNoGrad { try graph.lower(model, first, path: "") }
        var resultName = result.name
        if resultName == inputName {   // a model that passes its input through
            resultName = graph.add("Identity", [inputName], path: "", sample: result.sample).name
        }
        graph.rename(resultName, to: outputName)

        func valueInfo(_ name: String, _ t: Tensor) -> Onnx_ValueInfoProto {
            var info = Onnx_ValueInfoProto()
            info.name = name
            var tensorType = Onnx_TypeProto.Tensor()
            tensorType.elemType = Int32(ONNXTensors.elementType(t.dtype).rawValue)
            var shapeProto = Onnx_TensorShapeProto()
            shapeProto.dim = t.shape.enumerated().map { i, size in
                var dim = Onnx_TensorShapeProto.Dimension()
                if i == 0 && dynamicBatch { dim.dimParam = "batch" } else { dim.dimValue = Int64(size) }
                return dim
            }
            tensorType.shape = shapeProto
            var type = Onnx_TypeProto()
            type.tensorType = tensorType
            info.type = type
            return info
        }

        var g = Onnx_GraphProto()
        g.name = "neurone"
        g.node = graph.nodes
        g.initializer = graph.initializers
        g.input = [valueInfo(inputName, input)]
        g.output = [valueInfo(outputName, result.sample)]
        var m = Onnx_ModelProto()
        m.irVersion = irVersion(opset: opset)
        m.producerName = "neurone"
        m.producerVersion = "0.1"
        var op = Onnx_OperatorSetIdProto()
        op.domain = ""
        op.version = Int64(opset)
        m.opsetImport = [op]
        if !docString.isEmpty { m.docString = docString }
        m.graph = g
        return Result(model: m, input: input, output: result.sample)
    }

    /// Writes an export to `path` (a temporary file, then a rename: never half-written).
    public static func write(_ result: Result, to path: String) throws {
        try writeFileAtomically(try result.serializedData(), to: path)
    }
}

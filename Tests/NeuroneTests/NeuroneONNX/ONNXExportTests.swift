import Foundation
import XCTest
@testable import Neurone
import NeuroneONNX
import NeuroneONNXProto

/// ONNX export: the graphs' structure, and their outputs as ONNX Runtime computed them
/// (Reference/onnx_runtime.safetensors, written by scripts/check_onnx --write-reference, which
/// runs every case below in ONNX Runtime; CI runs the live comparison too).
final class ONNXExportTests: XCTestCase {
    struct Case {
        let name: String
        let sampleShape: [Int]
        let opset: Int
        let dynamicBatch: Bool
        let batch: Int
        let make: () throws -> Module
    }

    /// Random running statistics, so that batch norm's export is checked on more than 0 and 1.
    static func randomizeBuffers(_ m: Module, seed: UInt64) {
        let g = Generator(seed: seed)
        withNoGrad {
            for (name, t) in m.namedBuffers() {
                if name.hasSuffix("running_mean") { t.copy(from: Tensor.randn(t.shape, dtype: t.dtype, generator: g) * 0.3) }
                if name.hasSuffix("running_var") { t.copy(from: Tensor.uniform(t.shape, low: 0.5, high: 1.5, dtype: t.dtype, generator: g)) }
            }
        }
    }

    static func spec(_ spec: String, _ input: [Int], seed: UInt64) throws -> Module {
        let (m, _) = try NamedModels.make(spec, input: input, generator: Generator(seed: seed))
        randomizeBuffers(m, seed: seed + 1)
        return m
    }

    /// Every layer export knows, across opsets 17–21, with and without a symbolic batch.
    static let cases: [Case] = [
        Case(name: "conv_stack", sampleShape: [1, 12, 12], opset: 17, dynamicBatch: true, batch: 3) {
            try spec("conv(8,3,padding=same,dilation=2) batchnorm prelu(per_channel=true) maxpool(3,stride=2,padding=1,ceil=true) "
                     + "conv(8,3,groups=2,stride=2,padding=1) elu(alpha=0.7) avgpool(2,ceil=true,count_include_pad=false) dropout2d(0.2) flatten "
                     + "linear(32) batchnorm leakyrelu(slope=0.2) layernorm gelu dropout(0.3) linear(16) silu softplus(beta=2,threshold=1) "
                     + "linear(10) logsoftmax", [1, 12, 12], seed: 1)
        },
        Case(name: "conv1d_gelu_tanh", sampleShape: [3, 16], opset: 20, dynamicBatch: false, batch: 2) {
            try spec("conv1d(6,3,padding=same) gelu(approximate=tanh) conv1d(4,3,stride=2,dilation=2) batchnorm sigmoid flatten "
                     + "linear(5) softplus softmax", [3, 16], seed: 2)
        },
        Case(name: "conv1d_gelu_opset17", sampleShape: [3, 16], opset: 17, dynamicBatch: true, batch: 2) {
            try spec("conv1d(6,3,padding=2) gelu conv1d(4,3,padding=valid) gelu(approximate=tanh) tanh flatten linear(5)", [3, 16], seed: 3)
        },
        Case(name: "rows_attention_mean", sampleShape: [1, 10, 12], opset: 18, dynamicBatch: true, batch: 2) {
            let g = Generator(seed: 4)
            return Sequential(ImageRows(), Linear(12, 16, generator: g), MultiheadAttention(embedDim: 16, numHeads: 4, batchFirst: true, generator: g),
                              SequenceMean(), Linear(16, 3, generator: g))
        },
        Case(name: "attention_sequence_first", sampleShape: [2, 8], opset: 19, dynamicBatch: false, batch: 5) {
            // [T, N, E] in, as PyTorch's batch_first=False: the "batch" dim of the sample is time
            let g = Generator(seed: 5)
            return Sequential(Linear(8, 8, generator: g), MultiheadAttention(embedDim: 8, numHeads: 2, generator: g), GELU())
        },
        Case(name: "embedding_last", sampleShape: [6], opset: 17, dynamicBatch: true, batch: 3) {
            try spec("embedding(20,8) layernorm last linear(4)", [6], seed: 6)
        },
        Case(name: "embedding_mean_opset21", sampleShape: [5], opset: 21, dynamicBatch: true, batch: 2) {
            try spec("embedding(12,6,padding_idx=0) mean relu linear(3)", [5], seed: 7)
        },
        Case(name: "deconv_unflatten", sampleShape: [6], opset: 17, dynamicBatch: true, batch: 2) {
            let g = Generator(seed: 8)
            return Sequential(Linear(6, 32, generator: g), Unflatten(dim: 1, sizes: [2, 4, 4]),
                              ConvTranspose2d(2, 3, kernelSize: [3], stride: [2], padding: [1], outputPadding: [1], generator: g), Sigmoid(),
                              AdaptiveAvgPool2d([4, 4]), Flatten(startDim: 2), Tanh())
        },
        Case(name: "convtranspose_spec", sampleShape: [3, 5, 5], opset: 17, dynamicBatch: true, batch: 2) {
            try spec("convtranspose(4,3,stride=2,padding=1,output_padding=1) relu convtranspose(2,(2,3),groups=2,dilation=2,bias=false) tanh",
                     [3, 5, 5], seed: 24)
        },
        Case(name: "global_pool_opset21", sampleShape: [2, 7, 7], opset: 21, dynamicBatch: true, batch: 2) {
            let g = Generator(seed: 9)
            return Sequential(Conv2d(2, 4, kernelSize: 3, padding: .valid, generator: g), ReLU(), AdaptiveAvgPool2d([1]), Flatten(),
                              Dropout(0.3), Identity(), Linear(4, 2, generator: g), Softmax(dim: -1))
        },
        Case(name: "mlp", sampleShape: [1, 28, 28], opset: 17, dynamicBatch: true, batch: 2) { try spec("mlp", [1, 28, 28], seed: 10) },
        Case(name: "lenet5", sampleShape: [1, 28, 28], opset: 17, dynamicBatch: true, batch: 2) { try spec("lenet5", [1, 28, 28], seed: 11) },
        Case(name: "mnist_cnn", sampleShape: [1, 28, 28], opset: 17, dynamicBatch: true, batch: 2) { try spec("mnist-cnn", [1, 28, 28], seed: 12) },
        Case(name: "attention", sampleShape: [1, 28, 28], opset: 18, dynamicBatch: true, batch: 2) { try spec("attention", [1, 28, 28], seed: 13) },
        Case(name: "course_cnn", sampleShape: [1, 28, 28], opset: 17, dynamicBatch: false, batch: 1) { try spec("course-cnn", [1, 28, 28], seed: 14) },
        Case(name: "digits_cnn", sampleShape: [1, 8, 8], opset: 19, dynamicBatch: true, batch: 4) { try spec("digits-cnn", [1, 8, 8], seed: 15) },
        // sequence layers
        Case(name: "lstm", sampleShape: [1, 28, 28], opset: 17, dynamicBatch: true, batch: 2) { try spec("lstm", [1, 28, 28], seed: 16) },
        Case(name: "gru_bidirectional", sampleShape: [6, 5], opset: 18, dynamicBatch: true, batch: 3) {
            try spec("gru(8,layers=2,bidirectional=true) mean linear(3)", [6, 5], seed: 17)
        },
        Case(name: "rnn_relu", sampleShape: [5, 4], opset: 17, dynamicBatch: true, batch: 2) {
            try spec("rnn(7,nonlinearity=relu,layers=2) rnn(6,bias=false,bidirectional=true) last linear(2)", [5, 4], seed: 18)
        },
        Case(name: "lstm_sequence_first", sampleShape: [3, 4], opset: 17, dynamicBatch: false, batch: 5) {
            // [T, N, F] in, as PyTorch's batch_first=False: the "batch" dim of the sample is time
            Sequential(LSTM(4, 6, numLayers: 2, bidirectional: true, generator: Generator(seed: 19)))
        },
        Case(name: "transformer", sampleShape: [1, 28, 28], opset: 17, dynamicBatch: true, batch: 2) { try spec("transformer", [1, 28, 28], seed: 20) },
        Case(name: "char_lstm", sampleShape: [10], opset: 17, dynamicBatch: true, batch: 2) { try spec("char-lstm", [10], seed: 21) },
        Case(name: "char_transformer", sampleShape: [10], opset: 18, dynamicBatch: true, batch: 2) { try spec("char-transformer", [10], seed: 22) },
        Case(name: "encoder_gelu_learned", sampleShape: [7, 4], opset: 20, dynamicBatch: true, batch: 2) {
            let g = Generator(seed: 23)
            return Sequential(Linear(4, 8, generator: g), LearnedPositionalEncoding(dModel: 8, maxLength: 10, generator: g),
                              TransformerEncoder(numLayers: 2, norm: LayerNorm([8]), isCausal: true) {
                                  TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, dropout: 0.2, activation: .gelu, batchFirst: true, generator: g)
                              }, Linear(8, 3, generator: g))
        },
    ]

    static func export(_ c: Case) throws -> ONNXExport.Result {
        try ONNXExport.export(try c.make(), sampleShape: c.sampleShape, batch: c.batch, dynamicBatch: c.dynamicBatch, opset: c.opset, seed: 42)
    }

    /// Each case's output against ONNX Runtime's on the same input (committed), and its bytes
    /// parse back; with NEURONE_ONNX_OUT set, writes NAME.onnx and NAME.safetensors (the sample
    /// input and Neurone's output) there for scripts/check_onnx.
    func testOutputsMatchONNXRuntime() throws {
        let url = Bundle.module.url(forResource: "onnx_runtime", withExtension: "safetensors", subdirectory: "Reference")
        let reference = try url.map { try Safetensors.read($0.path).tensors } ?? [:]
        let out = ProcessInfo.processInfo.environment["NEURONE_ONNX_OUT"]
        for c in Self.cases {
            let r = try Self.export(c)
            if let dir = out {
                try ONNXExport.write(r, to: "\(dir)/\(c.name).onnx")
                try Safetensors.write([("input", r.input), ("output", r.output)], to: "\(dir)/\(c.name).safetensors")
            }
            let parsed = try Onnx_ModelProto(serializedBytes: try r.serializedData())
            XCTAssertEqual(parsed, r.model, c.name)
            guard let ort = reference[c.name] else {
                XCTFail("\(c.name): no ONNX Runtime output in Reference/onnx_runtime.safetensors; run scripts/check_onnx --write-reference")
                continue
            }
            XCTAssertEqual(ort.shape, r.output.shape, c.name)
            let diff = (ort.to(.float64) - r.output.to(.float64)).abs().max().item()
            XCTAssertLessThanOrEqual(diff, 1e-5, "\(c.name): Neurone and ONNX Runtime differ by \(diff)")
        }
    }

    func testGraphStructure() throws {
        // conv(…, padding=same, dilation=2) pads 2 on each side; the graph input and output are typed
        let r = try Self.export(Self.cases[0])
        let g = r.model.graph
        XCTAssertEqual(r.model.irVersion, 8)
        XCTAssertEqual(r.model.opsetImport.map { $0.version }, [17])
        XCTAssertEqual(r.model.producerName, "neurone")
        let conv = try XCTUnwrap(g.node.first { $0.opType == "Conv" })
        XCTAssertEqual(conv.name, "/0/Conv")
        XCTAssertEqual(conv.input, ["input", "0.weight", "0.bias"])
        XCTAssertEqual(conv.attribute.first { $0.name == "pads" }?.ints, [2, 2, 2, 2])
        XCTAssertEqual(conv.attribute.first { $0.name == "dilations" }?.ints, [2, 2])
        XCTAssertEqual(g.input.map { $0.name }, ["input"])
        XCTAssertEqual(g.input[0].type.tensorType.shape.dim.map { $0.dimParam }, ["batch", "", "", ""])
        XCTAssertEqual(g.input[0].type.tensorType.shape.dim.dropFirst().map { $0.dimValue }, [1, 12, 12])
        XCTAssertEqual(g.output[0].type.tensorType.shape.dim.last?.dimValue, 10)
        XCTAssertEqual(g.node.last?.opType, "LogSoftmax")
        XCTAssertEqual(g.node.last?.output, ["output"])
        // dropout leaves no node; batch norm carries its running statistics
        XCTAssertFalse(g.node.contains { $0.opType == "Dropout" })
        let bn = try XCTUnwrap(g.node.first { $0.opType == "BatchNormalization" })
        XCTAssertEqual(bn.input.dropFirst().map { $0 }, ["1.weight", "1.bias", "1.running_mean", "1.running_var"])
        let mean = try XCTUnwrap(g.initializer.first { $0.name == "1.running_mean" })
        XCTAssertEqual(mean.dims, [8])
        XCTAssertEqual(mean.rawData.count, 8 * 4)
        // every node input is the graph input, an initializer or an earlier node's output
        var known = Set(g.initializer.map { $0.name } + ["input"])
        for node in g.node {
            for i in node.input where !i.isEmpty { XCTAssertTrue(known.contains(i), "\(node.name) reads \(i) before it exists") }
            known.formUnion(node.output)
        }
        // a fixed batch writes sizes, no symbols; opset 20 uses Gelu itself
        let fixed = try Self.export(Self.cases[1])
        XCTAssertEqual(fixed.model.irVersion, 9)
        XCTAssertEqual(fixed.model.graph.input[0].type.tensorType.shape.dim.map { $0.dimValue }, [2, 3, 16])
        XCTAssertEqual(fixed.model.graph.node.first { $0.opType == "Gelu" }?.attribute.first?.s, Data("tanh".utf8))
        XCTAssertFalse(try Self.export(Self.cases[2]).model.graph.node.contains { $0.opType == "Gelu" })
    }

    func testTiedWeightsAreOneInitializer() throws {
        let shared = Linear(4, 4, generator: Generator(seed: 1))
        let r = try ONNXExport.export(Sequential(shared, ReLU(), shared), sampleShape: [4])
        XCTAssertEqual(r.model.graph.initializer.map { $0.name }, ["0.weight", "0.bias"])
        XCTAssertEqual(r.model.graph.node.map { $0.opType }, ["Gemm", "Relu", "Gemm"])
    }

    func testIdentityModelHasAnOutputNode() throws {
        let r = try ONNXExport.export(Sequential(Dropout(0.5)), sampleShape: [3])
        XCTAssertEqual(r.model.graph.node.map { $0.opType }, ["Identity"])
        XCTAssertEqual(r.model.graph.node[0].input, ["input"])
        XCTAssertEqual(r.model.graph.node[0].output, ["output"])
    }

    func testExportRestoresTrainingMode() throws {
        let m = Sequential(Linear(2, 2), Dropout(0.5))
        _ = try ONNXExport.export(m, sampleShape: [2])
        XCTAssertTrue(m.isTraining)
        m.eval()
        _ = try ONNXExport.export(m, sampleShape: [2])
        XCTAssertFalse(m.isTraining)
    }

    func testUnsupportedLayersAndOptionsAreNamed() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        let decoder = Sequential(Linear(3, 4), TransformerDecoderLayer(dModel: 4, nhead: 2, batchFirst: true))
        let m1 = message { _ = try ONNXExport.export(decoder, sampleShape: [2, 3]) }
        XCTAssertTrue(m1.contains("layer '1' (TransformerDecoderLayer)") && m1.contains("ONNXExportable"), m1)
        let m2 = message { _ = try ONNXExport.export(Sequential(Linear(2, 2)), sampleShape: [2], opset: 16) }
        XCTAssertTrue(m2.contains("opset 16") && m2.contains("17…21"), m2)
        let pool = Sequential(AvgPool2d(kernelSize: [2], divisorOverride: 3))
        let m3 = message { _ = try ONNXExport.export(pool, sampleShape: [1, 4, 4]) }
        XCTAssertTrue(m3.contains("'0' (AvgPool2d)") && m3.contains("divisor_override=3"), m3)
        let adaptive = Sequential(AdaptiveAvgPool2d([3]))
        let m4 = message { _ = try ONNXExport.export(adaptive, sampleShape: [1, 7, 7]) }
        XCTAssertTrue(m4.contains("'0' (AdaptiveAvgPool2d)") && m4.contains("3×3 from input 7×7"), m4)
        let m5 = message { _ = try ONNXExport.export(Sequential(Unflatten(dim: 0, sizes: [2, 1])), sampleShape: [3]) }
        XCTAssertTrue(m5.contains("batch dimension"), m5)
    }

    /// A module of one's own writes its nodes through ONNXExportable.
    final class Doubler: Module, ONNXExportable {
        override func forward(_ x: Tensor) -> Tensor { x * 2 }
        func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder, path: String) throws -> ONNXValue {
            graph.add("Add", [input.name, input.name], path: path, sample: forward(input.sample))
        }
    }

    func testCustomModulesExportThemselves() throws {
        let r = try ONNXExport.export(Sequential(Linear(2, 3), Doubler()), sampleShape: [2])
        XCTAssertEqual(r.model.graph.node.map { $0.opType }, ["Gemm", "Add"])
        XCTAssertEqual(r.model.graph.node[1].name, "/1/Add")
    }
}

import Foundation
import XCTest
@testable import Neurone
@testable import NeuroneONNX
import NeuroneONNXProto

/// ONNX import: models exported by PyTorch's torch.onnx.export (Reference/onnx/torch_*.onnx,
/// scripts/make_onnx_import_reference.py) give PyTorch's outputs in Neurone, export again to
/// graphs ONNX Runtime runs (scripts/check_onnx), and fine-tune; Neurone's own exports read back;
/// every kind of broken file is an error naming the node.
final class ONNXImportTests: XCTestCase {
    func reference(_ name: String) throws -> (onnx: String, input: Tensor, output: Tensor) {
        let onnx = try XCTUnwrap(Bundle.module.url(forResource: "torch_\(name)", withExtension: "onnx", subdirectory: "Reference/onnx")).path
        let sample = try Safetensors.read(onnx.replacingOccurrences(of: ".onnx", with: ".safetensors")).tensors
        return (onnx, try XCTUnwrap(sample["input"]), try XCTUnwrap(sample["output"]))
    }

    static func maxDiff(_ a: Tensor, _ b: Tensor) -> Double { (a.to(.float64) - b.to(.float64)).abs().max().item() }

    func testPyTorchExportsGivePyTorchsOutputs() throws {
        let expected = [
            "mnist_cnn": "conv(32,kernel=3,padding=0) relu conv(64,kernel=3,padding=0) relu maxpool(kernel=2,stride=2,padding=0) flatten linear(128) relu linear(10) logsoftmax(dim=1)",
            "lenet5": "conv(6,kernel=5,padding=2) tanh avgpool(kernel=2,stride=2,padding=0,count_include_pad=true) conv(16,kernel=5,padding=0) tanh avgpool(kernel=2,stride=2,padding=0,count_include_pad=true) flatten linear(120) tanh linear(84) tanh linear(10)",
            "mlp": "flatten linear(1000) relu linear(10)",
            // recurrent layers: zero initial states and Reshape targets computed from the input's shape
            "lstm": "lstm(8,layers=2,bidirectional=true) last linear(3)",
            "gru": "gru(6) mean linear(2)",
            "rnn_legacy": "rnn(7,bias=false,nonlinearity=relu) last linear(2)",
            "lstm_legacy": "lstm(8,layers=2,bidirectional=true) last linear(3)",
            "gru_legacy": "gru(6,layers=2) mean linear(2)",
            // x.view(x.size(0), -1): the Reshape's target computed from the input's shape
            "view_mlp_legacy": "flatten linear(12) relu linear(4)",
            // PyTorch's own nn.TransformerEncoder and nn.MultiheadAttention, recognised by what they compute
            "encoder": "encoder(4,ff=32,layers=2,dropout=0) mean linear(3)",
            "encoder_causal_legacy": "encoder(4,ff=32,layers=2,dropout=0,activation=gelu,norm_first=true,causal=true) mean linear(3)",
            "attention": "attention(3) mean linear(2)",
            "attention_legacy": "attention(2,bias=false) mean linear(2)",
            // nn.RNN unrolled into its steps by the dynamo exporter
            "rnn": "rnn(7,layers=2,bidirectional=true) last linear(2)",
            "rnn_relu": "rnn(6,bias=false,nonlinearity=relu) mean linear(2)",
            "rnn_lm": "embedding(20,8) rnn(12,layers=2) linear(20)",
            // AdaptiveAvgPool2d((1, 1)) as ReduceMean over H and W (BatchNorm folded into the convolution by the exporter)
            "gap_cnn": "conv(4,kernel=3,padding=1) relu maxpool(kernel=2,stride=2,padding=0) conv(8,kernel=3,padding=0) relu adaptiveavgpool(1) flatten linear(3) logsoftmax(dim=1)",
            // nn.Unflatten (its target computed with Mod and a Slice to INT64_MAX by the TorchScript exporter); x.permute(0, 2, 1) and mean(dim=2)
            "decoder_legacy": "linear(32) relu reshape(2,4,4) convtranspose(3,kernel=3,stride=2,padding=1,output_padding=1) sigmoid",
            "text_cnn": "embedding(20,8) permute(2,1) conv1d(6,kernel=3,padding=1) relu permute(2,1) mean linear(2)",
            // a GPT-like character model: positions as an embedding of arange, weights passed through Identity
            "transformer_lm_legacy": "embedding(20,8) posenc(max_len=6,learned=true) encoder(2,ff=16,layers=2,dropout=0,norm_first=true,causal=true) layernorm(eps=1e-05) linear(20)",
            "wide": "conv(4,kernel=3,padding=1) prelu(per_channel=true) maxpool(kernel=2,stride=2,padding=0) conv(6,kernel=3,padding=1,groups=2,bias=false) elu(alpha=0.5) avgpool(kernel=2,stride=2,padding=0,ceil=true,count_include_pad=false) flatten linear(24) layernorm(eps=1e-05) gelu linear(16) leakyrelu(slope=0.2) linear(8) silu linear(5) softmax(dim=1)",
        ]
        let out = ProcessInfo.processInfo.environment["NEURONE_ONNX_OUT"]
        for (name, spec) in expected.sorted(by: { $0.key < $1.key }) {
            let r = try reference(name)
            let imported = try ONNXImport.read(r.onnx)
            XCTAssertEqual(imported.spec, spec, name)
            XCTAssertEqual(imported.opset, 18)
            let model = try imported.module()
            model.eval()
            let y = withNoGrad { model(r.input) }
            XCTAssertLessThanOrEqual(Self.maxDiff(y, r.output), 1e-5, "\(name): Neurone's output on the imported model differs from PyTorch's")
            // PyTorch → ONNX → Neurone → ONNX: written with PyTorch's input and output for ONNX Runtime
            let again = try ONNXExport.export(model, input: r.input, dynamicBatch: true)
            XCTAssertLessThanOrEqual(Self.maxDiff(again.output, r.output), 1e-5, name)
            if let dir = out {
                try ONNXExport.write(again, to: "\(dir)/roundtrip_\(name).onnx")
                try Safetensors.write([("input", r.input), ("output", r.output)], to: "\(dir)/roundtrip_\(name).safetensors")
            }
        }
    }

    func testNeuroneExportsReadBack() throws {
        // every export case made of layers a spec has comes back as the same function
        let importable = ["conv_stack", "conv1d_gelu_tanh", "conv1d_gelu_opset17", "embedding_mean_opset21", "global_pool_opset21", "convtranspose_spec", "mlp", "lenet5",
                          "mnist_cnn", "course_cnn", "digits_cnn", "lstm", "gru_bidirectional", "rnn_relu", "char_lstm", "transformer", "char_transformer", "attention", "rows_attention_mean", "encoder_gelu_learned", "embedding_last", "deconv_unflatten"]
        // the sequence models with their stacked layers, directions, biases, nonlinearities, norms and masks
        let recurrent = [
            "lstm": "rows lstm(128) last linear(10)",
            "gru_bidirectional": "gru(8,layers=2,bidirectional=true) mean linear(3)",
            "rnn_relu": "rnn(7,layers=2,nonlinearity=relu) rnn(6,bidirectional=true,bias=false) last linear(2)",
            "char_lstm": "embedding(64,32) lstm(256) linear(64)",
            "attention": "rows linear(64) attention(4) mean linear(128) relu linear(10)",
            "encoder_gelu_learned": "linear(8) posenc(max_len=7,learned=true) encoder(2,ff=16,layers=2,dropout=0,activation=gelu,causal=true) layernorm(eps=1e-05) linear(3)",
            "rows_attention_mean": "rows linear(16) attention(4) mean linear(3)",
            // Unflatten and a partial Flatten: per-sample reshapes
            "deconv_unflatten": "linear(32) reshape(2,4,4) convtranspose(3,kernel=3,stride=2,padding=1,output_padding=1) sigmoid avgpool(kernel=2,stride=2,padding=0,count_include_pad=false) reshape(3,16) tanh",
            "transformer": "rows linear(64) posenc(max_len=28) encoder(4,ff=128,layers=2,dropout=0) mean linear(10)",
            "char_transformer": "embedding(64,128) posenc(max_len=10) encoder(4,ff=512,layers=2,dropout=0,norm_first=true,causal=true) layernorm(eps=1e-05) linear(64)",
        ]
        for c in ONNXExportTests.cases where importable.contains(c.name) {
            let r = try ONNXExportTests.export(c)
            let imported = try ONNXImport.convert(r.model, source: c.name)
            let model = try imported.module()
            model.eval()
            let y = withNoGrad { model(r.input) }
            XCTAssertLessThanOrEqual(Self.maxDiff(y, r.output), 1e-5, "\(c.name): \(imported.spec)")
            if let spec = recurrent[c.name] { XCTAssertEqual(imported.spec, spec, c.name) }
        }
    }

    func testImportedModelFineTunes() throws {
        // the imported mnist-cnn trains on with neurone train --init: a step lowers the loss on its batch
        let r = try reference("mnist_cnn")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-import-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let imported = try ONNXImport.read(r.onnx)
        let model = try imported.module()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try model.save(to: dir + "/model.safetensors")
        var settings = TrainingSettings()
        settings.model = imported.spec
        settings.dataset = "mnist-5k"
        settings.epochs = 1
        settings.initialWeights = dir
        settings.lr = 0.01
        settings.optimizer = "sgd"
        let run = try TrainingRun(settings: settings, directory: dir + "/run")
        // the run starts from the imported weights
        for ((name, a), (_, b)) in zip(run.model.stateDict(), model.stateDict()) {
            XCTAssertEqual(Self.maxDiff(a, b), 0, name)
        }
        let batch = run.train.subset(Array(0..<64))
        func loss() -> Double { withNoGrad { run.trainer.loss(run.model(batch.inputs), batch.labels).item() } }
        let before = loss()
        for _ in 0..<3 {
            run.optimizer.zeroGrad()
            run.trainer.loss(run.model(batch.inputs), batch.labels).backward()
            run.optimizer.step()
        }
        XCTAssertLessThan(loss(), before * 0.9)
    }

    // MARK: bad files

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    /// A small exported model to break.
    func small() throws -> Onnx_ModelProto {
        let m = Sequential(Conv2d(1, 2, kernelSize: 3, generator: Generator(seed: 1)), ReLU(), Flatten(), Linear(8, 3, generator: Generator(seed: 2)))
        return try ONNXExport.export(m, sampleShape: [1, 4, 4]).model
    }

    /// reshape(…) and permute(…) read back; a Reshape target holding INT64_MAX (fine as a Slice
    /// bound in shape arithmetic) is an error naming the node, not a trap converting it.
    func testReshapeAndPermuteReadBack() throws {
        let model = try ModelSpec.build("permute(2,1) linear(4) reshape(2,-1) permute(2,1) flatten linear(2)", input: [3, 5], generator: Generator(seed: 4))
        let exported = try ONNXExport.export(model, sampleShape: [3, 5]).model
        let imported = try ONNXImport.convert(exported, source: "p.onnx")
        XCTAssertEqual(imported.spec, "permute(2,1) linear(4) reshape(2,10) permute(2,1) flatten linear(2)")
        let x = Tensor((0..<30).map { Float($0) / 30 }, shape: [2, 3, 5])
        XCTAssertLessThanOrEqual(Self.maxDiff(try imported.module()(x), model(x)), 1e-6)
        var huge = exported
        let reshape = try XCTUnwrap(huge.graph.node.first { $0.opType == "Reshape" })
        let k = try XCTUnwrap(huge.graph.initializer.firstIndex { $0.name == reshape.input[1] })
        huge.graph.initializer[k] = ONNXTensors.proto(Tensor([0, Int64.max, 2], shape: [3], dtype: .int64), name: reshape.input[1])
        let m = message { _ = try ONNXImport.convert(huge, source: "p.onnx") }
        XCTAssertTrue(m.contains("(Reshape): its target shape") && m.contains("beyond ±2⁵³"), m)
    }

    func testBrokenFilesAreNamedErrors() throws {
        let good = try small()
        let bytes = try good.serializedData()
        // truncated, empty, not protobuf
        let m1 = message { _ = try ONNXImport.convert(ONNXImport.decode(bytes.prefix(bytes.count / 2), source: "half.onnx"), source: "half.onnx") }
        XCTAssertTrue(m1.contains("half.onnx is not an ONNX model"), m1)
        XCTAssertTrue(message { _ = try ONNXImport.decode(Data(), source: "e.onnx") }.contains("e.onnx is empty"))
        XCTAssertTrue(message { _ = try ONNXImport.decode(Data("hello, world".utf8), source: "t.onnx") }.contains("t.onnx is not an ONNX model"))
        // opsets and IR versions out of range
        var old = good
        old.opsetImport[0].version = 9
        let m2 = message { _ = try ONNXImport.convert(old, source: "old.onnx") }
        XCTAssertTrue(m2.contains("opset 9 is too old") && m2.contains("11…23"), m2)
        var new = good
        new.opsetImport[0].version = 40
        XCTAssertTrue(message { _ = try ONNXImport.convert(new, source: "new.onnx") }.contains("opset 40 is too new"))
        var ir = good
        ir.irVersion = 99
        XCTAssertTrue(message { _ = try ONNXImport.convert(ir, source: "ir.onnx") }.contains("IR version 99 is too new"))
        // a missing initializer
        var missing = good
        missing.graph.initializer.removeAll { $0.name == "3.weight" }
        let m3 = message { _ = try ONNXImport.convert(missing, source: "m.onnx") }
        XCTAssertTrue(m3.contains("node '/3/Gemm' (Gemm)") && m3.contains("'3.weight'") && m3.contains("missing initializer"), m3)
        // a cycle: the ReLU reads the Gemm's output
        var cycle = good
        let gemmOut = cycle.graph.node[3].output[0]
        cycle.graph.node[3].output[0] = "loop"
        cycle.graph.node[1].input[0] = "loop"
        cycle.graph.output[0].name = gemmOut
        let m4 = message { _ = try ONNXImport.convert(cycle, source: "c.onnx") }
        XCTAssertTrue(m4.contains("cycle"), m4)
        // a weight of the wrong dtype
        var dtype = good
        let index = try XCTUnwrap(dtype.graph.initializer.firstIndex { $0.name == "0.weight" })
        dtype.graph.initializer[index].dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        let m5 = message { _ = try ONNXImport.convert(dtype, source: "d.onnx") }
        XCTAssertTrue(m5.contains("initializer '0.weight' holds 72 bytes") && m5.contains("need 144"), m5)
        dtype.graph.initializer[index].rawData = Data(count: 144)
        let m6 = message { _ = try ONNXImport.convert(dtype, source: "d.onnx") }
        XCTAssertTrue(m6.contains("node '/0/Conv' (Conv): its weight is int64; expected float"), m6)
        // an operator import does not read
        var op = good
        op.graph.node[1].opType = "Sin"
        let m7 = message { _ = try ONNXImport.convert(op, source: "s.onnx") }
        XCTAssertTrue(m7.contains("node '/1/Relu' (Sin): import does not read this operator") && m7.contains("docs/ONNX.md"), m7)
        // a branch: the Gemm reads the graph input besides the chain
        var branch = good
        branch.graph.node[3].input[0] = "input"
        let m8 = message { _ = try ONNXImport.convert(branch, source: "b.onnx") }
        XCTAssertTrue(m8.contains("chain"), m8)
        // dims that promise more than the data holds, and sizes beyond the limit
        var huge = good
        huge.graph.initializer[index].dims = [1 << 20, 1 << 20]
        let m9 = message { _ = try ONNXImport.convert(huge, source: "h.onnx") }
        XCTAssertTrue(m9.contains("more than the 2147483648 elements"), m9)
        // found by CI's fuzzer: no elements (a dimension of 0), but strides past Int.max
        var emptyHuge = good
        emptyHuge.graph.initializer[index].dims = [0, 1 << 31, 1 << 31, 1 << 31]
        let mEmpty = message { _ = try ONNXImport.convert(emptyHuge, source: "e.onnx") }
        XCTAssertTrue(mEmpty.contains("has dims 0×2147483648×2147483648×2147483648, more than the 2147483648 elements import accepts"), mEmpty)
        var negative = good
        negative.graph.initializer[index].dims = [-2, 1, 3, 3]
        XCTAssertTrue(message { _ = try ONNXImport.convert(negative, source: "n.onnx") }.contains("a dimension of -2"))
        // weights stored outside the file
        var external = good
        external.graph.initializer[index].dataLocation = .external
        XCTAssertTrue(message { _ = try ONNXImport.convert(external, source: "x.onnx") }.contains("external data"))
        // asymmetric padding
        var pads = good
        pads.graph.node[0].attribute = pads.graph.node[0].attribute.map { a in
            var a = a
            if a.name == "pads" { a.ints = [0, 0, 1, 1] }
            return a
        }
        let m10 = message { _ = try ONNXImport.convert(pads, source: "p.onnx") }
        XCTAssertTrue(m10.contains("not symmetric"), m10)
        // a symbolic size other than the batch
        var symbolic = good
        symbolic.graph.input[0].type.tensorType.shape.dim[2].dimParam = "height"
        XCTAssertTrue(message { _ = try ONNXImport.convert(symbolic, source: "y.onnx") }.contains("symbolic ('height')"))
        // and the unbroken file reads
        XCTAssertEqual(try ONNXImport.convert(good, source: "good.onnx").spec, "conv(2,kernel=3,padding=0) relu flatten linear(3)")
    }
}

extension ONNXImportTests {
    /// --normalize: export writes (x − mean)/std as the first nodes; import gives it back.
    func testRecurrentGraphsImportDoesNotReadAreNamed() throws {
        let good = try ONNXExport.export(try ONNXExportTests.spec("gru(4,bidirectional=true) last linear(2)", [5, 3], seed: 3), sampleShape: [5, 3]).model
        XCTAssertEqual(try ONNXImport.convert(good, source: "g.onnx").spec, "gru(4,bidirectional=true) last linear(2)")
        // the metadata (export keeps a language model's vocabulary there) comes back with the model
        var tagged = try ONNXExport.export(try ONNXExportTests.spec("gru(4,bidirectional=true) last linear(2)", [5, 3], seed: 3), sampleShape: [5, 3])
        tagged.setMetadata(ONNXImport.vocabularyKey, #"{"characters":["a","b"]}"#)
        tagged.setMetadata(ONNXImport.vocabularyKey, #"{"characters":["x"]}"#)
        XCTAssertEqual(try ONNXImport.convert(tagged.model, source: "g.onnx").metadata, [ONNXImport.vocabularyKey: #"{"characters":["x"]}"#])
        let gru = try XCTUnwrap(good.graph.node.firstIndex { $0.opType == "GRU" })
        func broken(_ change: (inout Onnx_ModelProto) -> Void) -> String {
            var m = good
            change(&m)
            return message { _ = try ONNXImport.convert(m, source: "g.onnx") }
        }
        func setInt(_ m: inout Onnx_ModelProto, _ name: String, _ v: Int64) {
            m.graph.node[gru].attribute.removeAll { $0.name == name }
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .int
            a.i = v
            m.graph.node[gru].attribute.append(a)
        }
        func constant(_ m: inout Onnx_ModelProto, _ name: String, _ t: Tensor) {
            m.graph.initializer.append(ONNXTensors.proto(t, name: name))
        }
        let reset = broken { setInt(&$0, "linear_before_reset", 0) }
        XCTAssertTrue(reset.contains("node '") && reset.contains("(GRU): its linear_before_reset is 0"), reset)
        XCTAssertTrue(broken { setInt(&$0, "layout", 1) }.contains("its layout is 1"))
        // the op without the Transpose before it (every kind, either layout) is named for what it is
        XCTAssertEqual(good.graph.node[gru - 1].opType, "Transpose")
        for kind in ["GRU", "LSTM", "RNN"] {
            for layout: Int64 in [0, 1] {
                let bare = broken { m in
                    m.graph.node[gru].opType = kind
                    setInt(&m, "layout", layout)
                    m.graph.node[gru].input[0] = m.graph.node[gru - 1].input[0]
                    m.graph.node.remove(at: gru - 1)
                }
                XCTAssertTrue(bare.contains("(\(kind)): " + (layout == 0 ? "it reads the model's input as a time-first sequence" : "its layout is 1")), bare)
            }
        }
        let lengths = broken { m in
            constant(&m, "lens", Tensor([Int64](repeating: 5, count: 2), shape: [2], dtype: .int64))
            m.graph.node[gru].input += ["lens"]
        }
        XCTAssertTrue(lengths.contains("it has sequence_lens ('lens')"), lengths)
        let state = broken { m in
            constant(&m, "h0", Tensor.ones([2, 1, 4]))
            m.graph.node[gru].input += ["", "h0"]
        }
        XCTAssertTrue(state.contains("its initial_h is not all zeros"), state)
        let zeros = broken { m in
            constant(&m, "h0", Tensor.zeros([2, 1, 4]))
            m.graph.node[gru].input += ["", "h0"]
        }
        XCTAssertEqual(zeros, "no error", "a zero initial state is what the layer starts from anyway")
        let weights = broken { m in
            let w = m.graph.node[gru].input[1]
            let i = m.graph.initializer.firstIndex { $0.name == w }!
            m.graph.initializer[i].dims = [2, 12, 1]
            m.graph.initializer[i].rawData = m.graph.initializer[i].rawData.prefix(2 * 12 * 4)
        }
        XCTAssertTrue(weights.contains("its W has shape [2, 12, 1]; expected [2, 12, 3]"), weights)
        // the final state read by a later node: not the chain of one output sequence
        let final = broken { m in
            m.graph.node[gru].output = [m.graph.node[gru].output[0], "hn"]
            m.graph.node[m.graph.node.count - 1].input[0] = "hn"
        }
        XCTAssertTrue(final.contains("inside the recurrent layers") || final.contains("chain"), final)
        // no Transpose back to batch-first
        let open = broken { m in
            let back = m.graph.node.lastIndex { $0.opType == "Transpose" }!
            m.graph.node[back].attribute = [ONNXTestAttribute.ints("perm", [0, 1, 2])]
        }
        XCTAssertTrue(open.contains("expects a Transpose with perm [1, 0, 2] back to batch-first"), open)

        // PyTorch's graph makes the initial state with Expand(0, Concat(layers, Shape(input)[0], hidden)):
        // folded for the batch, it must be zeros; its Reshape targets must follow the batch
        var torch = try ONNXImport.decode(Data(contentsOf: URL(fileURLWithPath: try reference("lstm").onnx)), source: "torch_lstm.onnx")
        let expand = try XCTUnwrap(torch.graph.node.first { $0.opType == "Expand" })
        let fill = try XCTUnwrap(torch.graph.initializer.firstIndex { $0.name == expand.input[0] })
        torch.graph.initializer[fill] = ONNXTensors.proto(Tensor(Float(1)), name: expand.input[0])
        let ones = message { _ = try ONNXImport.convert(torch, source: "torch_lstm.onnx") }
        XCTAssertTrue(ones.contains("(LSTM): its initial_h is not all zeros"), ones)
    }

    /// PyTorch's attention is recognised by what it computes: a block computing something else
    /// (scores scaled otherwise than by 1/√d for any number of heads) is an error naming it.
    func testAttentionComputingSomethingElseIsNamed() throws {
        let path = try reference("attention").onnx
        let good = try ONNXImport.decode(Data(contentsOf: URL(fileURLWithPath: path)), source: "torch_attention.onnx")
        XCTAssertEqual(try ONNXImport.convert(good, source: "a.onnx").spec, "attention(3) mean linear(2)")
        func broken(_ change: (inout Onnx_ModelProto) -> Void) -> String {
            var m = good
            change(&m)
            return message { _ = try ONNXImport.convert(m, source: "a.onnx") }
        }
        let scaled = broken { m in
            let mul = m.graph.node.first { $0.opType == "Mul" }!
            let k = m.graph.initializer.firstIndex { mul.input.contains($0.name) }!
            m.graph.initializer[k] = ONNXTensors.proto(Tensor(Float(0.3)), name: m.graph.initializer[k].name)
        }
        XCTAssertTrue(scaled.contains("(Softmax): it is the softmax of an attention block") && scaled.contains("something other than multi-head self-attention"), scaled)
        // an op the evaluator does not compute, inside the block
        let unknown = broken { m in
            let k = m.graph.node.firstIndex { $0.opType == "Mul" }!
            m.graph.node[k].opType = "Hardmax"
            m.graph.node[k].input = [m.graph.node[k].input[0]]
        }
        XCTAssertTrue(unknown.contains("could not compute") && unknown.contains("import does not evaluate Hardmax nodes"), unknown)
        // sequence-first models (batch_first=False) are named as such
        for c in ONNXExportTests.cases where c.name.hasSuffix("sequence_first") {
            let first = message { _ = try ONNXImport.convert(try ONNXExportTests.export(c).model, source: c.name) }
            XCTAssertTrue(first.contains("batch_first=False); import reads batch-first models"), first)
        }
    }

    func testTransformerEncodersReadBack() throws {
        // GELU feed-forward (written as Erf nodes), layers of two kinds in a row, sinusoidal positions
        let spec = "linear(8) posenc encoder(2,ff=16,activation=gelu) encoder(4,ff=8,norm_first=true,layers=2) mean linear(3)"
        let model = try ONNXExportTests.spec(spec, [5, 6], seed: 31)
        let r = try ONNXExport.export(model, sampleShape: [5, 6], batch: 3, dynamicBatch: true)
        let imported = try ONNXImport.convert(r.model, source: "t.onnx")
        if let dir = ProcessInfo.processInfo.environment["NEURONE_ONNX_OUT"] { try ONNXExport.write(r, to: "\(dir)/import_encoders.onnx") }
        XCTAssertEqual(imported.spec, "linear(8) posenc(max_len=5) encoder(2,ff=16,dropout=0,activation=gelu) encoder(4,ff=8,layers=2,dropout=0,norm_first=true) mean linear(3)")
        let back = try imported.module()
        back.eval()
        XCTAssertLessThanOrEqual(Self.maxDiff(withNoGrad { back(r.input) }, r.output), 1e-5)
        // self-attention on its own, without biases
        let plain = try ONNXExport.export(try ONNXExportTests.spec("linear(8) attention(2,bias=false) mean linear(2)", [4, 3], seed: 32), sampleShape: [4, 3])
        let attention = try ONNXImport.convert(plain.model, source: "a.onnx")
        XCTAssertEqual(attention.spec, "linear(8) attention(2,bias=false) mean linear(2)")
        XCTAssertLessThanOrEqual(Self.maxDiff(withNoGrad { try! attention.module()(plain.input) }, plain.output), 1e-5)

        // what import does not read is named
        func broken(_ change: (inout Onnx_ModelProto) -> Void) -> String {
            var m = r.model
            change(&m)
            return message { _ = try ONNXImport.convert(m, source: "t.onnx") }
        }
        let softmax = try XCTUnwrap(r.model.graph.node.firstIndex { $0.opType == "Softmax" })
        let scale = try XCTUnwrap(r.model.graph.node[..<softmax].lastIndex { $0.opType == "Mul" })
        let scaled = broken { m in
            m.graph.initializer.append(ONNXTensors.proto(Tensor(Float(0.3)), name: "wrong_scale"))
            m.graph.node[scale].input[1] = "wrong_scale"
        }
        XCTAssertTrue(scaled.contains("(Mul): it scales the attention scores by 0.3"), scaled)
        let masked = broken { m in
            m.graph.initializer.append(ONNXTensors.proto(Tensor.ones([5, 5]), name: "ones"))
            var add = Onnx_NodeProto()
            add.opType = "Add"
            add.name = "mask"
            add.input = [m.graph.node[scale].output[0], "ones"]
            add.output = ["masked"]
            m.graph.node[softmax].input[0] = "masked"
            m.graph.node.insert(add, at: softmax)
        }
        XCTAssertTrue(masked.contains("node 'mask' (Add): it adds a mask to the attention scores that is not the causal one"), masked)
        let norm = try XCTUnwrap(r.model.graph.node.firstIndex { $0.opType == "LayerNormalization" })
        let eps = broken { m in
            m.graph.node[norm].attribute.removeAll { $0.name == "epsilon" }
            var a = Onnx_AttributeProto()
            a.name = "epsilon"
            a.type = .float
            a.f = 1e-3
            m.graph.node[norm].attribute.append(a)
        }
        XCTAssertTrue(eps.contains("(LayerNormalization): its epsilon is 0.0010"), eps)
    }

    func testNormalizationRoundTrip() throws {
        let model = Sequential(Linear(3, 2, generator: Generator(seed: 3)))
        let n = try Normalization(mean: 0.1307, std: 0.3081)
        let x = Tensor.randn([4, 3], generator: Generator(seed: 4))
        let r = try ONNXExport.export(model, input: x, normalization: n)
        XCTAssertEqual(r.model.graph.node.map { $0.opType }, ["Sub", "Div", "Gemm"])
        XCTAssertEqual(r.model.graph.node[0].input, ["input", "normalize.mean"])
        XCTAssertEqual(Self.maxDiff(r.output, withNoGrad { model(n.apply(x)) }), 0)
        let back = try ONNXImport.convert(r.model, source: "n.onnx")
        XCTAssertEqual(back.spec, "linear(2)")
        XCTAssertEqual(try XCTUnwrap(back.normalization).mean, 0.1307, accuracy: 1e-7)
        XCTAssertEqual(try XCTUnwrap(back.normalization).std, 0.3081, accuracy: 1e-7)
    }
}

/// An attribute for the tests' broken graphs.
enum ONNXTestAttribute {
    static func ints(_ name: String, _ v: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = v
        return a
    }
}

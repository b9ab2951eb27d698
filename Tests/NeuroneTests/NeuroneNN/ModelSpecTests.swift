import XCTest
@testable import Neurone
@testable import NeuroneDevice
@testable import NeuroneCPU
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneOptim
@testable import NeuroneIO
@testable import NeuroneData
@testable import NeuronePlots
@testable import NeuroneTraining
@testable import NeuroneExplain

final class ModelSpecTests: XCTestCase {
    /// Attention is one row, its output projection included: 4·L·E² + 2·L²·E multiplications.
    /// Sequence specs: images read as rows or token indices embedded, a recurrent layer, its last
    /// step; the summary counts multiplications per time step.
    func testSequenceSpecs() throws {
        let (lstm, _) = try NamedModels.make("lstm", input: nil)
        XCTAssertEqual(lstm.parameterCount, 4 * 128 * (28 + 128 + 2) + 1290)
        let summary = ModelSummary(model: lstm, input: [1, 28, 28])
        XCTAssertEqual(summary.layers.map { $0.type }, ["Rows", "LSTM", "Last", "Linear"])
        XCTAssertEqual(summary.layers[1].outputShape, [28, 128])
        XCTAssertEqual(summary.layers[1].timeSteps, 28)
        XCTAssertEqual(summary.layers[1].multiplications, 28 * 4 * 128 * (28 + 128))
        XCTAssertTrue(summary.table.contains("1 (LSTM): 79,872 per time step × 28 steps"), summary.table)
        XCTAssertTrue(summary.json.contains("\"timeSteps\":28"))

        // Token indices: the model takes int64, and the summary feeds it int64.
        let tokens = try ModelSpec.build("embedding(64,32) gru(16,layers=2,bidirectional=true) last linear(10)", input: [20])
        XCTAssertEqual(tokens.expectedInputDType, .int64)
        let ts = ModelSummary(model: tokens, input: [20])
        XCTAssertEqual(ts.layers.map { $0.outputShape }, [[20, 32], [20, 32], [32], [10]])
        XCTAssertEqual(ts.layers[1].multiplications, 20 * (2 * 48 * (32 + 16) + 2 * 48 * (32 + 16)))
        let out = tokens(Tensor((0..<40).map { Int64($0 * 7 % 64) }, shape: [2, 20], dtype: .int64))
        XCTAssertEqual(out.shape, [2, 10])

        // rnn with relu, and a bidirectional output of 2·hidden features.
        let rnn = try ModelSpec.build("rows rnn(8,nonlinearity=relu,bidirectional=true) last linear(3)", input: [1, 5, 4])
        XCTAssertEqual(ModelSummary(model: rnn, input: [1, 5, 4]).layers[1].outputShape, [5, 16])
        XCTAssertEqual((rnn.layers[1] as? RNN)?.mode, .rnnReLU)

        for (spec, input, message) in [
            ("flatten lstm(8)", [1, 4, 4], "layer 2 'lstm(8)' (column 9): lstm expects a sequence T×F (steps × features; 'rows' reads an image as one, 'embedding' token indices), but its input is 16"),
            ("rows rnn(8,nonlinearity=sigmoid)", [1, 4, 4], "layer 2 'rnn(8,nonlinearity=sigmoid)' (column 6): nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"),
            ("rows gru(8,dropout=2)", [1, 4, 4], "layer 2 'gru(8,dropout=2)' (column 6): dropout probability must be in [0, 1], got 2.0"),
            ("rows lstm(8) last last", [1, 4, 4], "layer 4 'last' (column 19): last expects a sequence T×F, but its input is 8"),
            ("embedding(10,4)", [2, 3], "layer 1 'embedding(10,4)' (column 1): embedding expects a sequence of token indices (input shape T), but its input is 2×3"),
            ("embedding(10,4,padding_idx=10)", [3], "layer 1 'embedding(10,4,padding_idx=10)' (column 1): padding_idx must be an index in -10…9, got '10'"),
        ] {
            XCTAssertThrowsError(try ModelSpec.build(spec, input: input)) { XCTAssertEqual("\($0)", message) }
        }
    }

    /// reshape(…): Keras's per-sample Reshape, a decoder's way from features to an image; -1 inferred.
    func testReshapeSpecs() throws {
        let decoder = try ModelSpec.build("linear(32) reshape(2,-1,4) convtranspose(3,3,stride=2,padding=1,output_padding=1) reshape(3,64) tanh", input: [6])
        let summary = ModelSummary(model: decoder, input: [6])
        XCTAssertEqual(summary.layers.map { $0.outputShape }, [[32], [2, 4, 4], [3, 8, 8], [3, 64], [3, 64]])
        XCTAssertEqual(summary.layers[1].type, "Reshape")
        let x = Tensor((0..<12).map { Float($0) / 12 }, shape: [2, 6])
        XCTAssertEqual(decoder(x).shape, [2, 3, 64])
        // permute(…): Keras's Permute, 1-based over the sample's dimensions
        let p = try ModelSpec.build("permute(2,1)", input: [2, 3])
        let pt = p(Tensor((0..<12).map(Float.init), shape: [2, 2, 3]))
        XCTAssertEqual(pt.shape, [2, 3, 2])
        XCTAssertEqual(pt.contiguous().toArray(as: Float.self), [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11])
        XCTAssertEqual(ModelSummary(model: try ModelSpec.build("permute(3,1,2)", input: [2, 3, 4]), input: [2, 3, 4]).layers[0].outputShape, [4, 2, 3])
        // explain conv says what each does to the shape
        let explained = try ConvArithmetic.explain("linear(32) reshape(2,4,4) permute(2,3,1) sigmoid", input: [6])
        XCTAssertEqual(explained.map { $0.lines.last ?? "" }.suffix(3), ["32 → 2×4×4: the same 32 values, regrouped",
                                                                         "2×4×4 → 4×4×2: the dimensions in the order 2, 3, 1", "no parameters; shape unchanged"])
        // values keep their order: reshape is a view of each sample
        let r = try ModelSpec.build("reshape(3,2)", input: [2, 3])
        let y = r(Tensor((0..<12).map(Float.init), shape: [2, 2, 3]))
        XCTAssertEqual(y.shape, [2, 3, 2])
        XCTAssertEqual(y.contiguous().toArray(as: Float.self), (0..<12).map(Float.init))
        // its gradient flows back unchanged
        let input = Tensor((0..<6).map(Float.init), shape: [1, 6]).requiringGrad()
        (try ModelSpec.build("reshape(2,3)", input: [6])(input) * Tensor((1...6).map(Float.init), shape: [1, 2, 3])).sum().backward()
        XCTAssertEqual(input.grad?.toArray(as: Float.self), (1...6).map(Float.init))
        for (spec, input, message) in [
            ("reshape(4,4)", [3, 5], "layer 1 'reshape(4,4)' (column 1): a sample of 3×5 (15 values) cannot be reshaped to 4×4 (16 values)"),
            ("reshape(-1,4)", [3, 5], "layer 1 'reshape(-1,4)' (column 1): a sample of 3×5 (15 values) cannot be reshaped to -1×4"),
            ("reshape(-1,-1)", [4], "layer 1 'reshape(-1,-1)' (column 1): reshape takes at most one size of -1"),
            ("reshape(0,4)", [4], "layer 1 'reshape(0,4)' (column 1): reshape's sizes must be positive integers up to \(ModelSpec.maxSize) or -1, got '0'"),
            ("reshape", [4], "layer 1 'reshape' (column 1): reshape takes the per-sample shape as 1 to 8 sizes, e.g. reshape(2,4,4) (one may be -1)"),
            ("permute(1,1)", [2, 3], "layer 1 'permute(1,1)' (column 1): permute takes an order of the sample's 2 dimensions, a permutation of 1…2 (e.g. permute(2,1) turns T×E into E×T), got '1,1' for 2×3"),
            ("permute(2,1)", [6], "layer 1 'permute(2,1)' (column 1): permute takes an order of the sample's 1 dimensions, a permutation of 1…1 (e.g. permute(2,1) turns T×E into E×T), got '2,1' for 6"),
            ("reshape(shape=4)", [4], "layer 1 'reshape(shape=4)' (column 1): reshape takes the per-sample shape as 1 to 8 sizes, e.g. reshape(2,4,4) (one may be -1)"),
        ] {
            XCTAssertThrowsError(try ModelSpec.build(spec, input: input)) { XCTAssertEqual("\($0)", message) }
        }
    }

    /// The Transformer in specs: linear on each step, position encoding, encoder layers, the
    /// mean over steps.
    func testTransformerSpecs() throws {
        let (model, shape) = try NamedModels.make("transformer", input: nil)
        XCTAssertEqual(shape, [1, 28, 28])
        // embed 28·64 + 64; per layer in_proj 3·64² + 192, out_proj 64² + 64, linear1 64·128 + 128,
        // linear2 128·64 + 64, two norms 4·64; classifier 64·10 + 10
        XCTAssertEqual(model.parameterCount, 1856 + 2 * (12480 + 4160 + 8320 + 8256 + 256) + 650)
        let summary = ModelSummary(model: model, input: shape)
        XCTAssertEqual(summary.layers.filter { $0.type == "MultiheadAttention" }.map { $0.multiplications }, [4 * 28 * 64 * 64 + 2 * 28 * 28 * 64, 4 * 28 * 64 * 64 + 2 * 28 * 28 * 64])
        XCTAssertEqual(summary.layers.map { $0.type }.prefix(3), ["Rows", "Linear", "SinusoidalPositionalEncoding"])
        XCTAssertEqual(summary.layers.last?.outputShape, [10])
        let encoder = try XCTUnwrap((model as? Sequential)?.layers[3] as? TransformerEncoder)
        XCTAssertEqual(encoder.layers.map { $0.normFirst }, [false, false])
        XCTAssertEqual(encoder.layers[0].selfAttn.numHeads, 4)
        for (spec, input, message) in [
            ("rows encoder(3)", [1, 4, 4], "layer 2 'encoder(3)' (column 6): the 4 features of each step do not split into 3 heads"),
            ("rows attention(3)", [1, 4, 4], "layer 2 'attention(3)' (column 6): the 4 features of each step do not split into 3 heads"),
            ("attention(2)", [4], "layer 1 'attention(2)' (column 1): attention expects a sequence T×E, but its input is 4"),
            ("rows posenc(learned=true,dropout=0.1)", [1, 4, 4], "layer 2 'posenc(learned=true,dropout=0.1)' (column 6): a learned position encoding has no dropout; put dropout(0.1) after it"),
            ("rows posenc(max_len=3)", [1, 4, 4], "layer 2 'posenc(max_len=3)' (column 6): max_len 3 is shorter than the sequence's 4 steps"),
            ("rows encoder(2,activation=tanh)", [1, 4, 4], "layer 2 'encoder(2,activation=tanh)' (column 6): activation must be 'relu' or 'gelu', got 'tanh'"),
            ("mean", [4], "layer 1 'mean' (column 1): mean expects a sequence T×F, but its input is 4"),
            ("linear(3)", [1, 4, 4], "layer 1 'linear(3)' (column 1): linear expects a flat input of features (or a sequence T×F), but its input is 1×4×4; add 'flatten' before it"),
        ] {
            XCTAssertThrowsError(try ModelSpec.build(spec, input: input)) { XCTAssertEqual("\($0)", message) }
        }
    }

    /// `attention(heads)`: the named model `attention` as a spec, the same function on the same weights.
    func testAttentionSpecIsTheAttentionClassifier() throws {
        let named = AttentionClassifier(generator: Generator(seed: 3))
        let spec = try ModelSpec.build("rows linear(64) attention(4) mean linear(128) relu linear(10)", input: [1, 28, 28])
        XCTAssertEqual(spec.parameterCount, named.parameterCount)
        let names = ["embed": "1", "attn": "2", "fc1": "4", "fc2": "6"]
        var state: [String: Tensor] = [:]
        for (name, t) in named.stateDict() {
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            state["\(names[parts[0]]!).\(parts[1])"] = t
        }
        try spec.loadStateDict(state)
        let x = Tensor.randn([3, 1, 28, 28], generator: Generator(seed: 4))
        let diff = (withNoGrad { spec(x) } - withNoGrad { named(x) }).abs().max().item()
        XCTAssertLessThanOrEqual(diff, 1e-6)
        XCTAssertEqual(try ModelSpec.build("attention(2,bias=false)", input: [5, 6]).parameterCount, 4 * 36)
        // a learned position table: T positions by default, trained
        let learned = try ModelSpec.build("posenc(learned=true)", input: [5, 6])
        XCTAssertEqual(learned.namedParameters().map { $0.0 }, ["0.embedding.weight"])
        XCTAssertEqual(learned.parameterCount, 30)
    }

    func testAttentionSummaryCountsTheWholeLayer() throws {
        let (model, input) = try NamedModels.make("attention", input: nil)
        let s = model.summary(input: input)
        XCTAssertEqual(s.layers.map { $0.name }, ["embed", "attn", "fc1", "fc2"])
        XCTAssertEqual(s.layers.map { $0.params }, [28 * 64 + 64, 3 * 64 * 64 + 3 * 64 + 64 * 64 + 64, 64 * 128 + 128, 128 * 10 + 10])
        XCTAssertEqual(s.layers[1].multiplications, 4 * 28 * 64 * 64 + 2 * 28 * 28 * 64)
        XCTAssertEqual(s.layers.reduce(0) { $0 + $1.params }, s.totalParams)
    }

    func testCourseExamNetworkSummary() throws {
        let (model, input) = try NamedModels.make("course-cnn", input: nil)
        let s = model.summary(input: input)
        XCTAssertEqual(s.layers.map { $0.type }, ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear", "Softmax"])
        XCTAssertEqual(s.layers.map { $0.outputShape }, [[4, 28, 28], [4, 28, 28], [4, 14, 14], [8, 4, 4], [8, 4, 4], [8, 2, 2], [32], [128], [128], [10], [10]])
        // conv1: 4·(3·3·1) + 4 = 40; conv2: 8·(4·4·4) + 8 = 520; dense: 32·128 + 128; 128·10 + 10
        XCTAssertEqual(s.layers.map { $0.params }, [40, 0, 0, 520, 0, 0, 0, 4224, 0, 1290, 0])
        // multiplications: 28·28·4·9, 4·4·8·(4·4·4), 32·128, 128·10
        XCTAssertEqual(s.layers.map { $0.multiplications }, [28_224, 0, 0, 8_192, 0, 0, 0, 4_096, 0, 1_280, 0])
        XCTAssertEqual(s.totalParams, 6_074)
        XCTAssertEqual(s.totalMultiplications, 41_792)
        XCTAssertTrue(s.json.hasPrefix("{\"layers\":[{\"name\":\"0\",\"type\":\"Conv2d\",\"outputShape\":[4,28,28],\"params\":40,\"multiplications\":28224}"))
        // a training step: 3 × the forward, less conv1's input gradient (the data needs none)
        XCTAssertEqual(s.trainingMultiplications, 3 * 41_792 - 28_224)
        XCTAssertTrue(s.json.hasSuffix("\"totalParams\":6074,\"trainableParams\":6074,\"totalMultiplications\":41792,\"trainingMultiplications\":97152}"))
        XCTAssertTrue(s.table.contains("Multiplications per sample (training step): 97,152"))
    }

    /// A training step's multiplications per sample: the input gradient left out is the first
    /// layer's with parameters or products (a Linear or convolution: all of its forward; an LSTM:
    /// its input projection W_ih over the steps; self-attention: Q, K and V's projections), past
    /// layers without either (Flatten, Rows) or with parameters but no products (Embedding).
    func testTrainingMultiplications() throws {
        let counts: [(String, [Int]?, Int)] = [
            ("mnist-cnn", nil, 3 * 11_992_448 - 194_688),           // conv1: 32·26·26·9
            ("mlp", nil, 3 * 794_000 - 784_000),                     // the 784→1000 layer
            ("lstm", nil, 3 * (2_236_416 + 1_280) - 28 * 512 * 28),   // 28 steps of W_ih (512×28)
            ("attention(2) flatten linear(10)", [8, 16], 3 * (4 * 8 * 16 * 16 + 2 * 8 * 8 * 16 + 8 * 16 * 10) - 3 * 8 * 16 * 16),
            ("embedding(50,8) flatten linear(4)", [6], 3 * 48 * 4),
        ]
        for (spec, input, want) in counts {
            let (model, shape) = try NamedModels.make(spec, input: input)
            XCTAssertEqual(model.summary(input: shape).trainingMultiplications, want, spec)
        }
    }

    func testNamedModels() throws {
        let (cnn, input) = try NamedModels.make("mnist-cnn", input: nil)
        XCTAssertEqual(input, [1, 28, 28])
        XCTAssertEqual(cnn.parameterCount, 1_199_882)
        XCTAssertEqual(cnn.stateDict().map { $0.0 }, ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        let s = cnn.summary(input: input)
        XCTAssertEqual(s.layers.map { $0.name }, ["conv1", "conv2", "dropout1", "fc1", "dropout2", "fc2"])
        XCTAssertTrue(cnn.isTraining, "summarising must not change the training mode")
        XCTAssertEqual(try NamedModels.make("mlp", input: nil).0.parameterCount, 795_010)
        XCTAssertEqual(try NamedModels.make("mlp", input: [784]).0.parameterCount, 795_010)
        XCTAssertEqual(try NamedModels.make("lenet5", input: nil).0.parameterCount, 61_706)
        XCTAssertThrowsError(try NamedModels.make("mnist-cnn", input: [3, 32, 32])) { e in
            XCTAssertEqual("\(e)", "model 'mnist-cnn' takes inputs of shape 1×28×28, got 3×32×32")
        }
    }

    func testSpecBuildsTheSameNetworkAsSwiftCode() throws {
        let spec = try ModelSpec.build("conv(3,3,padding=same) relu maxpool(2,ceil=true) flatten linear(5) leakyrelu(0.2) dropout(0.1) linear(2) logsoftmax",
                                       input: [2, 7, 7], generator: Generator(seed: 1))
        let g = Generator(seed: 1)
        let manual = Sequential(Conv2d(2, 3, kernelSize: 3, padding: .same, generator: g), ReLU(), MaxPool2d(2, ceilMode: true), Flatten(),
                                Linear(48, 5, generator: g), LeakyReLU(negativeSlope: 0.2), Dropout(0.1), Linear(5, 2, generator: g), LogSoftmax(dim: 1))
        spec.eval()
        manual.eval()
        let x = Tensor.randn([2, 2, 7, 7], generator: Generator(seed: 2))
        XCTAssertEqual(withNoGrad { spec(x) }.floats, withNoGrad { manual(x) }.floats)
        XCTAssertEqual(spec.stateDict().map { $0.0 }, manual.stateDict().map { $0.0 })
    }

    func testEveryLayerNameBuilds() throws {
        let specs: [(String, [Int], [Int])] = [
            ("conv2d(4,(3,2),stride=(2,1),padding=(1,0),dilation=1,groups=2,bias=false)", [2, 9, 8], [4, 5, 7]),
            ("conv1d(6,3,stride=2,padding=1)", [3, 10], [6, 5]),
            ("conv1d(4,3,padding=same)", [2, 9], [4, 9]),
            ("maxpool2d(3,stride=2,padding=1,dilation=1,ceil=true)", [2, 7, 7], [2, 4, 4]),
            ("avgpool(2,count_include_pad=false) avgpool2d(1)", [1, 5, 5], [1, 2, 2]),
            ("adaptiveavgpool(3,2)", [2, 7, 5], [2, 3, 2]),
            ("batchnorm dropout2d(0.2) prelu(per_channel=true) batchnorm flatten batchnorm layernorm", [3, 4, 4], [48]),
            ("sigmoid tanh silu gelu gelu(approximate=tanh) elu(0.5) softplus(2,10) identity prelu softmax(dim=1)", [6], [6]),
            ("linear(4,bias=false) batchnorm", [6], [4]),
        ]
        for (spec, input, output) in specs {
            let model = try ModelSpec.build(spec, input: input)
            let s = model.summary(input: input)
            XCTAssertEqual(s.layers.last?.outputShape, output, spec)
        }
        XCTAssertEqual(try ModelSpec.build("prelu(per_channel=true)", input: [5, 2, 2]).parameterCount, 5)
    }

    func testBadSpecsNameTheTokenPositionAndShapes() {
        func error(_ spec: String, _ input: [Int]) -> String {
            do { _ = try ModelSpec.build(spec, input: input); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error("conv(4,3) relu linear(10)", [1, 28, 28]),
                       "layer 3 'linear(10)' (column 16): linear expects a flat input of features (or a sequence T×F), but its input is 4×26×26; add 'flatten' before it")
        XCTAssertEqual(error("conv(8,5) conv(8,30)", [1, 28, 28]),
                       "layer 2 'conv(8,30)' (column 11): kernel 30×30 is larger than the padded input 24×24 (input 8×24×24, padding 0,0)")
        XCTAssertTrue(error("relu wibble", [3]).hasPrefix("layer 2 'wibble' (column 6): unknown layer 'wibble'; known layers: linear, conv"))
        XCTAssertEqual(error("conv(4,3,strid=2)", [1, 8, 8]),
                       "layer 1 'conv(4,3,strid=2)' (column 1): unknown argument 'strid' for conv; it accepts out, kernel, stride, padding, dilation, groups, bias")
        XCTAssertEqual(error("convtranspose(4,3,stride=2,output_padding=2)", [1, 5, 5]),
                       "layer 1 'convtranspose(4,3,stride=2,output_padding=2)' (column 1): output_padding 2 must be smaller than the stride (2) or the dilation (1)")
        XCTAssertEqual(error("convtranspose(4,3,padding=3)", [1, 1, 1]),
                       "layer 1 'convtranspose(4,3,padding=3)' (column 1): the output would be -3 pixels along dim 1 (input 1×1×1, padding 3); expected 1…2147483647")
        XCTAssertEqual(try ModelSpec.build("convtranspose(4,3,stride=2,padding=1,output_padding=1)", input: [2, 5, 5]).layers[0].description,
                       ConvTranspose2d(2, 4, kernelSize: [3], stride: [2, 2], padding: [1, 1], outputPadding: [1, 1], dilation: [1, 1]).description)
        XCTAssertEqual(error("linear(ten)", [3]), "layer 1 'linear(ten)' (column 1): 'out' must be a positive integer up to 2147483647, got 'ten'")
        XCTAssertEqual(error("linear", [3]), "layer 1 'linear' (column 1): missing required argument 'out'")
        XCTAssertEqual(error("linear(3", [3]), "unbalanced '(' in the model spec: 1 parenthesis not closed")
        XCTAssertEqual(error("relu)", [3]), "unbalanced ')' at column 5 of the model spec")
        XCTAssertEqual(error("maxpool(2)", [10]), "layer 1 'maxpool(2)' (column 1): maxpool expects a C×H×W input, but its input is 10")
        XCTAssertEqual(error("maxpool(5)", [1, 4, 4]), "layer 1 'maxpool(5)' (column 1): window 5×5 does not fit in the input 1×4×4 (padding 0,0)")
        XCTAssertEqual(error("conv(4,3,groups=2)", [3, 8, 8]),
                       "layer 1 'conv(4,3,groups=2)' (column 1): input channels (3) and out channels (4) must be divisible by groups (2)")
        XCTAssertEqual(error("conv(4,3,stride=2,padding=same)", [3, 8, 8]), "layer 1 'conv(4,3,stride=2,padding=same)' (column 1): padding=same needs stride 1, got stride [2, 2]")
        XCTAssertEqual(error("dropout(1.5)", [3]), "layer 1 'dropout(1.5)' (column 1): dropout probability must be in [0, 1], got 1.5")
        XCTAssertEqual(error("", [3]), "the model spec is empty")
        XCTAssertEqual(error("linear(2,out=3)", [3]), "layer 1 'linear(2,out=3)' (column 1): argument 'out' given twice")
        XCTAssertThrowsError(try ModelSpec.parseShape("1x0x28"))
        XCTAssertEqual(try ModelSpec.parseShape("1x28x28"), [1, 28, 28])
        XCTAssertEqual(try ModelSpec.parseShape("784"), [784])
    }
}

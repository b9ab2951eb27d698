import NeuroneDevice
import NeuroneTensor

/// Models known by name on the command line (`--model NAME`).
public enum NamedModels {
    /// A named model: its name, description, input shape and, for plain stacks, its spec.
    public struct Entry: Sendable {
        /// The name `--model` takes.
        public let name: String
        /// What the network is.
        public let summary: String
        /// The per-sample input shape the model is made for.
        public let input: [Int]
        /// A spec for models that are plain stacks; nil for custom modules. A language model's
        /// spec has `V` for its vocabulary size (`spec(classes:)` fills it in).
        public let spec: String?

        /// The spec with `V` replaced by `classes` (default `defaultVocabulary`); nil for custom modules.
        public func spec(classes: Int?) -> String? { spec.map { NamedModels.fillVocabulary($0, classes ?? NamedModels.defaultVocabulary) } }
    }

    /// Every named model.
    public static let all: [Entry] = [
        Entry(name: "digits-cnn", summary: "a small CNN for the 8×8 digits: conv 16@3×3, ReLU, conv 32@3×3, ReLU, max-pool 2, dense 64 ReLU, dense 10",
              input: [1, 8, 8], spec: "conv(16,3,padding=1) relu conv(32,3,padding=1) relu maxpool(2) flatten linear(64) relu linear(10)"),
        Entry(name: "mlp", summary: "784-1000-10 multilayer perceptron with ReLU (input flattened)", input: [1, 28, 28],
              spec: "flatten linear(1000) relu linear(10)"),
        Entry(name: "lenet5", summary: "LeNet-5: conv 6@5×5 (pad 2), tanh, avg-pool 2, conv 16@5×5, tanh, avg-pool 2, dense 120-84-10 with tanh",
              input: [1, 28, 28],
              spec: "conv(6,5,padding=2) tanh avgpool(2) conv(16,5) tanh avgpool(2) flatten linear(120) tanh linear(84) tanh linear(10)"),
        Entry(name: "mnist-cnn", summary: "the reference PyTorch MNIST example network (conv1, conv2, fc1, fc2; log-softmax output)",
              input: [1, 28, 28], spec: nil),
        Entry(name: "attention", summary: "a small self-attention classifier: image rows as 28 tokens, embed 64, 4-head self-attention, mean over tokens, dense 128 ReLU, dense 10",
              input: [1, 28, 28], spec: nil),
        Entry(name: "lstm", summary: "an LSTM classifier: image rows as 28 steps of 28 features, LSTM 128, the last step, dense 10",
              input: [1, 28, 28], spec: "rows lstm(128) last linear(10)"),
        Entry(name: "transformer", summary: "a 2-layer Transformer encoder classifier: image rows as 28 tokens, embed 64, sinusoidal positions, 2 encoder layers (4 heads, feed-forward 128, post-norm, dropout 0.1), mean over tokens, dense 10",
              input: [1, 28, 28], spec: "rows linear(64) posenc encoder(4,ff=128,layers=2) mean linear(10)"),
        Entry(name: "char-lstm", summary: "a character-level language model: embedding 32, LSTM 256, dense to the vocabulary at every step (V: the text's vocabulary size)",
              input: [32], spec: "embedding(V,32) lstm(256) linear(V)"),
        Entry(name: "char-transformer", summary: "a character-level language model with causal self-attention: embedding 128, sinusoidal positions, 2 pre-norm encoder layers (4 heads, feed-forward 512, causal mask, no dropout), a final LayerNorm, dense to the vocabulary",
              input: [32], spec: "embedding(V,128) posenc encoder(4,ff=512,layers=2,dropout=0,norm_first=true,causal=true) layernorm linear(V)"),
        Entry(name: "course-cnn", summary: "the course exam CNN: conv 4@3×3 pad 1, ReLU, max-pool 2, conv 8@4×4 stride 4 pad 1, ReLU, max-pool 2, dense 128 ReLU, dense 10 softmax",
              input: [1, 28, 28],
              spec: "conv(4,3,stride=1,padding=1) relu maxpool(2) conv(8,4,stride=4,padding=1) relu maxpool(2) flatten linear(128) relu linear(10) softmax"),
    ]

    /// The named model called `name` (case-insensitive), if any.
    public static func entry(_ name: String) -> Entry? { all.first { $0.name == name.lowercased() } }

    /// `spec` with each argument `V` — `(V,` or `(V)` — replaced by `size`.
    static func fillVocabulary(_ spec: String, _ size: Int) -> String {
        let c = Array(spec)
        var out = "", i = 0
        while i < c.count {
            if c[i] == "V", i > 0, c[i - 1] == "(", i + 1 < c.count, c[i + 1] == "," || c[i + 1] == ")" {
                out += String(size)
            } else {
                out.append(c[i])
            }
            i += 1
        }
        return out
    }

    /// The vocabulary size a language model's spec is built for when no data set says (`summary`).
    public static let defaultVocabulary = 64

    /// A named model or, failing that, a spec, for per-sample inputs of shape `input`
    /// (the named model's own input when nil). A named language model's spec has `V` for the
    /// vocabulary size: `classes` (the data set's), else `defaultVocabulary`.
    public static func make(_ nameOrSpec: String, input: [Int]?, classes: Int? = nil, dtype: DType = .float32, generator: Generator? = nil) throws -> (Module, [Int]) {
        if let e = entry(nameOrSpec.trimmed) {
            let shape = input ?? e.input
            if let spec = e.spec(classes: classes) {
                return (try ModelSpec.build(spec, input: shape, dtype: dtype, generator: generator), shape)
            }
            guard shape == e.input else {
                throw ModelSpecError("model '\(e.name)' takes inputs of shape \(ModelSpec.shapeText(e.input)), got \(ModelSpec.shapeText(shape))")
            }
            return (e.name == "attention" ? AttentionClassifier(generator: generator) : MnistCNN(generator: generator), shape)
        }
        guard let shape = input else {
            throw ModelSpecError("'\(nameOrSpec)' is not a named model (\(all.map { $0.name }.joined(separator: ", "))); a model spec needs an input shape (--input)")
        }
        return (try ModelSpec.build(nameOrSpec, input: shape, dtype: dtype, generator: generator), shape)
    }
}

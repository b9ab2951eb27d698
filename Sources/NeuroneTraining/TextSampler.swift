import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneData
import NeuroneIO
import Foundation

/// Generates text with a character-level language model: a model that maps token sequences
/// [N, T] to next-character scores [N, T, V] (as `neurone train` trains on a text data set).
///
/// Each sample starts from `prefix` (by default a line break, so that a model trained on a word
/// list starts a new word) and grows one character at a time: the model reads the last `context`
/// characters (the sequence length it was trained on), the scores of its last position divided by
/// the temperature go through a softmax, and a character is drawn from it. A sample ends at the
/// next line break or after `maxLength` characters.
public struct TextSampler {
    /// The language model.
    public let model: Module
    /// Its vocabulary (token i is `vocabulary.characters[i]`).
    public let vocabulary: Vocabulary
    /// The most characters the model reads at once: its training sequence length.
    public let context: Int

    /// A sampler of `model`, which reads at most `context` characters at once.
    public init(model: Module, vocabulary: Vocabulary, context: Int) {
        check(context > 0, "TextSampler: context must be positive, got \(context)")
        self.model = model
        self.vocabulary = vocabulary
        self.context = context
    }

    /// `count` samples drawn with `generator`, each the text generated after `prefix` (without its
    /// closing line break). Temperature 0 takes the likeliest character each time; higher values
    /// flatten the distribution. Throws when the prefix holds characters outside the vocabulary
    /// (or the vocabulary has no line break and no prefix is given), or when the model cannot be
    /// a language model of this vocabulary (a model.json may name any model).
    public func sample(count: Int, temperature: Double, prefix: String? = nil, maxLength: Int = 100,
                       generator: Generator) throws -> [String] {
        check(count > 0 && maxLength > 0, "TextSampler.sample: count and maxLength must be positive")
        check(temperature >= 0 && temperature.isFinite, "TextSampler.sample: temperature must be ≥ 0, got \(temperature)")
        let newline = vocabulary.token("\n")
        let start: [Int64]
        if let p = prefix, !p.isEmpty {
            start = try vocabulary.encode(p, source: "the prefix")
        } else if let n = newline {
            start = [n]
        } else {
            throw DataSetError(message: "the vocabulary has no line break to start a sample from; give a prefix (--prefix TEXT)")
        }
        if model.expectedInputDType != .int64 {
            throw TrainingError(message: "the model takes \(model.expectedInputDType ?? .float32) features; a language model reads token indices (it starts with an embedding)")
        }
        if let embedding = (model as? Sequential)?.layers.first as? Embedding, embedding.numEmbeddings < vocabulary.count {
            throw TrainingError(message: "the model's embedding has \(embedding.numEmbeddings) rows, but the vocabulary has \(vocabulary.count) characters")
        }
        var sequences = [[Int64]](repeating: start, count: count)
        var generated = [[Int64]](repeating: [], count: count)
        var done = [Bool](repeating: false, count: count)
        let v = vocabulary.count
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        // once: `parameters()` walks the module tree by reflection
        let device = model.parameters().first?.device ?? .default
        for _ in 0..<maxLength where done.contains(false) {
            let window = Swift.min(sequences[0].count, context)
            let x = Tensor(sequences.flatMap { $0.suffix(window) }, shape: [count, window])
            let out = withNoGrad { model(x.to(device: device)) }
            guard out.rank == 3 && out.shape[0] == count && out.shape[1] == window && out.shape[2] >= v else {
                throw TrainingError(message: "the model gives outputs of shape \(out.shape) for \(count) sequences of \(window) characters; a language model of this vocabulary gives [\(count), \(window), ≥\(v)]: scores of the next character at every position")
            }
            let scores = out.select(dim: 1, index: window - 1).toArray(as: Double.self)
            let width = scores.count / count
            for i in 0..<count {
                let row = scores[(i * width)..<(i * width + v)]
                let token = draw(Array(row), temperature: temperature, generator: generator)
                sequences[i].append(token)
                guard !done[i] else { continue }
                if token == newline { done[i] = true } else { generated[i].append(token) }
            }
        }
        let head = prefix.map { $0 == "\n" ? "" : $0 } ?? ""
        return try generated.map { head + (try vocabulary.decode($0)) }
    }

    /// A token drawn from softmax(scores / temperature) (the argmax at temperature 0).
    func draw(_ scores: [Double], temperature: Double, generator: Generator) -> Int64 {
        let best = scores.indices.max { scores[$0] < scores[$1] }!
        guard temperature > 0 else { return Int64(best) }
        let top = scores[best]
        let weights = scores.map { Foundation.exp(($0 - top) / temperature) }
        var u = generator.nextDouble() * weights.reduce(0, +)
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return Int64(i) }
        }
        return Int64(best)
    }
}

// Character-level language models on Debian's word list (COURSE.md §12, continued): the same
// task — predict each next character — learnt by an LSTM, which reads the characters one after
// the other, and by causal self-attention, which looks at all the previous characters at once.
// Their losses side by side, words each one invents, and the attention map of the Transformer.
//
//   swift run -c release language-models [--quick]
//
// Needs /usr/share/dict/words (apt-get install wamerican).
import Foundation
import Neurone

let quick = CommandLine.arguments.contains("--quick")
let outDir = "examples-out/language-models"
try? FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)

let length = 32
let data: DataSetSplits
do { data = try DataSets.load("words", seed: 0, sequenceLength: length) } catch {
    print("language-models: \(error)")
    exit(1)
}
let vocabulary = data.vocabulary!
// One epoch over the 27,697 training sequences (--quick: 3,000 of them, 1,000 test sequences).
let train = quick ? data.train.subset(Array(0..<3000)) : data.train
let test = quick ? data.test.subset(Array(0..<1000)) : data.test
let monitor = data.test.subset(Array(0..<300))
print("task: predict the next character of Debian's word list (\(vocabulary.count) characters, words one per line)")
print("\(train.count) training sequences of \(length) characters, \(test.count) test sequences; 1 epoch, Adam, batch 64\n")

struct Result {
    let name: String, spec: String, parameters: Int, test: Evaluation, seconds: Double
    let curve: [(x: Double, y: Double)]
    let samples: [String]
    let model: Module
}

func trainModel(_ title: String, _ named: String, lr: Double) throws -> Result {
    let (model, _) = try NamedModels.make(named, input: [length], classes: vocabulary.count, generator: Generator(seed: 1))
    let trainer = Trainer(model: model, optimizer: Adam(model.parameters(), lr: lr))
    let loader = DataLoader(train, batchSize: 64, shuffle: true, generator: Generator(seed: 2))
    var curve: [(x: Double, y: Double)] = [(0, trainer.evaluate(monitor).loss)]
    let start = Date()
    _ = try trainer.trainEpoch(loader) { batch, batches, _ in
        if batch % 25 == 0 || batch == batches {
            curve.append((Double(batch) / Double(batches), trainer.evaluate(monitor).loss))
        }
    }
    let seconds = Date().timeIntervalSince(start)
    let result = trainer.evaluate(test)
    let samples = try TextSampler(model: model, vocabulary: vocabulary, context: length)
        .sample(count: 12, temperature: 0.8, generator: Generator(seed: 3))
    let spec = NamedModels.entry(named)!.spec(classes: vocabulary.count)!
    print(String(format: "%@ (%@): %d parameters, test loss %.3f nats = %.2f bits per character, next character right %.1f %%, %.1f s",
                 title, spec, model.parameterCount, result.loss, result.loss / log(2), result.accuracy * 100, seconds))
    return Result(name: title, spec: spec, parameters: model.parameterCount, test: result, seconds: seconds, curve: curve, samples: samples, model: model)
}

let lstm = try trainModel("LSTM", "char-lstm", lr: 0.003)
let attention = try trainModel("self-attention", "char-transformer", lr: 0.001)
let uniform = log(Double(vocabulary.count))
print(String(format: "\n(a model that knows nothing: ln %d = %.3f nats per character)\n", vocabulary.count, uniform))

print("new words (temperature 0.8), LSTM | self-attention:")
for (a, b) in zip(lstm.samples, attention.samples) {
    print("  " + a.padding(toLength: 22, withPad: " ", startingAt: 0) + "  " + b)
}
let dictionary = Set((try? String(contentsOfFile: "/usr/share/dict/words", encoding: .utf8))?.split(separator: "\n").map(String.init) ?? [])
let invented = (lstm.samples + attention.samples).filter { !dictionary.contains($0) }.count
print("\(invented) of the \(lstm.samples.count * 2) are not in the word list: invented, not recalled")

// The attention of the Transformer's first layer on a few words: what each position looks at.
let text = "\nneurone\nlearning\nattention\n"
let tokens = try vocabulary.encode(text, source: "the example text")
let net = attention.model as! Sequential
let encoder = net.layers[2] as! TransformerEncoder
net.eval()
let weights = withNoGrad { () -> [Float] in
    let x = net.layers[1](net.layers[0](Tensor(tokens, shape: [1, tokens.count])))
    let layer = encoder.layers[0]
    let h = layer.norm1(x)
    return layer.selfAttn(query: h, key: h, value: h, attnMask: Tensor.causalMask(tokens.count), needWeights: true).weights.toArray(as: Float.self)
}
let n = tokens.count
let labels = text.unicodeScalars.enumerated().map { "\($0.offset): " + ($0.element == "\n" ? "⏎" : String($0.element)) }
let map = (0..<n).map { r in (0..<n).map { c in Double(weights[r * n + c]) } }
try writeAtomically(heatmapSVG(map, rowLabels: labels, columnLabels: labels,
                               title: "causal self-attention, layer 1 (mean of 4 heads)",
                               rowTitle: "query (position: character)", columnTitle: "key (position: character)", range: 0...1), to: "\(outDir)/attention-map.svg")
// how much of each position's attention stays inside its own word (after the last line break)
var inside = 0.0
for r in 0..<n {
    let wordStart = (0...r).last { tokens[$0] == vocabulary.token("\n")! } ?? 0
    inside += (wordStart...r).map { map[r][$0] }.reduce(0, +)
}
let future = (0..<n).flatMap { r in ((r + 1)..<n).map { map[r][$0] } }.max() ?? 0
print(String(format: "\nattention map of %@ → %@/attention-map.svg", "\"⏎neurone⏎learning⏎attention⏎\"", outDir))
print(String(format: "  attention on later characters: at most %.1e (the causal mask); share on the current word (from its ⏎): %.1f %%", future, inside / Double(n) * 100))

try writeAtomically(LineChart.svg([
    LineChart(title: "loss on 300 test sequences", xLabel: "epoch", yLabel: "nats per character",
              series: [.init(name: "LSTM", color: "#1f77b4", points: lstm.curve, markers: false),
                       .init(name: "self-attention", color: "#d62728", points: attention.curve, markers: false)]),
]), to: "\(outDir)/losses.svg")
print("curves → \(outDir)/losses.svg")

// What the example shows must hold (CI runs it with --quick).
let bound = quick ? 0.75 * uniform : 0.5 * uniform
guard lstm.test.loss < bound, attention.test.loss < bound, future < 1e-6 else {
    print("language-models: FAILED (losses \(lstm.test.loss), \(attention.test.loss) against \(bound); attention on later characters \(future))")
    exit(1)
}

// COURSE.md §12: a network made of self-attention followed by a hidden layer, on a small sequence
// task, with its forward-pass equations checked by hand and its attention map drawn.
// Task: sequences of 10 tokens from {0, …, 7}; is the first token repeated later in the sequence?
//   swift run -c release self-attention [--quick]
import Foundation
import Neurone

let quick = CommandLine.arguments.contains("--quick")
setenv("NEURONE_QUIET", "1", 1)
let outDir = "examples-out/self-attention"
try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
let length = 10, vocabulary = 8, d = 16, hiddenUnits = 32

/// Half the sequences repeat their first token at 1 or 2 random later positions (label 1); in
/// the other half no later token equals it (label 0).
func sequences(_ n: Int, _ g: Generator) -> TensorDataset {
    var tokens: [Int64] = [], labels: [Int64] = []
    for k in 0..<n {
        let q = Int64(g.nextInt(below: UInt64(vocabulary)))
        var s = [q] + (1..<length).map { _ -> Int64 in
            var t: Int64
            repeat { t = Int64(g.nextInt(below: UInt64(vocabulary))) } while t == q
            return t
        }
        if k % 2 == 0 {
            for _ in 0..<(1 + Int(g.nextInt(below: 2))) { s[1 + Int(g.nextInt(below: UInt64(length - 1)))] = q }
        }
        tokens += s; labels.append(k % 2 == 0 ? 1 : 0)
    }
    return TensorDataset(inputs: Tensor(tokens, shape: [n, length]), labels: Tensor(labels), classNames: ["not repeated", "repeated"])
}

/// X = embedding of the tokens; Z = self-attention(X) with each position kept from attending to
/// itself; the hidden layer reads the first position: h = ReLU(W₁[x₀; z₀] + b₁); logits = W₂h + b₂.
final class AttentionNet: Module {
    let embed: Embedding, attn: MultiheadAttention, hidden: Linear, out: Linear
    /// −∞ on the diagonal: a token cannot find itself.
    let mask = Tensor.eye(10).to(.bool)
    init(_ g: Generator) {
        embed = Embedding(vocabulary, d, generator: g)
        attn = MultiheadAttention(embedDim: d, numHeads: 1, batchFirst: true, generator: g)
        hidden = Linear(2 * d, hiddenUnits, generator: g); out = Linear(hiddenUnits, 2, generator: g)
        super.init()
    }
    override var namedChildren: [(String, Module)] { [("embed", embed), ("attn", attn), ("hidden", hidden), ("out", out)] }
    /// The logits and the attention weights A [N, L, L].
    func run(_ tokens: Tensor) -> (logits: Tensor, weights: Tensor) {
        let x = embed(tokens)
        let (z, a) = attn(query: x, key: x, value: x, attnMask: mask)
        let first = Tensor.cat([x.select(dim: 1, index: 0), z.select(dim: 1, index: 0)], dim: 1)
        return (out(hidden(first).relu()), a)
    }
    override func forward(_ tokens: Tensor) -> Tensor { run(tokens).logits }
}

let train = sequences(quick ? 2000 : 4000, Generator(seed: 1)), test = sequences(1000, Generator(seed: 2))
let g = Generator(seed: 0)
let net = AttentionNet(g)
print("task: \(length) tokens from {0, …, \(vocabulary - 1)}; label 1 when the first token appears again later (half the sequences)")
print("\(train.count) training and \(test.count) test sequences; \(net.parameterCount) parameters")
print("""

forward pass (d = \(d), one head):
   X = E[tokens]                      [\(length) × \(d)]  token embeddings (rows of E, \(vocabulary) × \(d))
   Q = X·W_Qᵀ + b_Q,  K = X·W_Kᵀ + b_K,  V = X·W_Vᵀ + b_V
   A = softmax(Q·Kᵀ/√\(d) + M)         [\(length) × \(length)]  M = −∞ on the diagonal (a token cannot attend to itself)
   Z = A·V·W_Oᵀ + b_O
   h = ReLU(W₁·[x₀; z₀] + b₁)          [\(hiddenUnits)]      the hidden layer reads the first token and what it attended to
   y = W₂·h + b₂                       [2]       logits; loss = cross-entropy
""")

let epochs = quick ? 10 : 30
let trainer = Trainer(model: net, optimizer: Adam(net.parameters(), lr: 3e-3))
let lg = Generator(seed: 3)
var curve: [(x: Double, y: Double)] = [], accCurve: [(x: Double, y: Double)] = []
for epoch in 1...epochs {
    let (loss, _) = try trainer.trainEpoch(DataLoader(train, batchSize: 64, shuffle: true, generator: lg))
    let acc = trainer.evaluate(test).accuracy
    curve.append((Double(epoch), loss)); accCurve.append((Double(epoch), acc))
    if epoch == 1 || epoch % (quick ? 5 : 10) == 0 {
        print("epoch \(epoch): training loss \(String(format: "%.4f", loss)), test accuracy \(String(format: "%.1f", acc * 100)) %")
    }
}
let accuracy = trainer.evaluate(test).accuracy

// The equations by hand, from the layer's own weights, against the layer's output.
let probe = test.inputs[0..<8]
let (byHand, byLayer) = withNoGrad { () -> (Tensor, Tensor) in
    let x = net.embed(probe)
    let w = net.attn.inProjWeight.chunk(3, dim: 0), b = net.attn.inProjBias!.chunk(3, dim: 0)
    let q = x.matmul(w[0].transpose(0, 1)) + b[0], k = x.matmul(w[1].transpose(0, 1)) + b[1], v = x.matmul(w[2].transpose(0, 1)) + b[2]
    let scores = (q.matmul(k.transpose(1, 2)) * (1 / Double(d).squareRoot())).maskedFill(net.mask.expand([8, length, length]), -.infinity)
    let z = scores.softmax(dim: -1).matmul(v).matmul(net.attn.outProj.weight.transpose(0, 1)) + net.attn.outProj.bias!
    let h = (Tensor.cat([x.select(dim: 1, index: 0), z.select(dim: 1, index: 0)], dim: 1).matmul(net.hidden.weight.transpose(0, 1)) + net.hidden.bias!).relu()
    return (h.matmul(net.out.weight.transpose(0, 1)) + net.out.bias!, net(probe))
}
let handDiff = withNoGrad { (byHand - byLayer).abs().max().item() }
print("\nthe equations computed by hand from the weights vs the network's logits (8 test sequences): max |difference| \(String(format: "%.1e", handDiff))")

// Where the first token looks: its attention on later copies of itself vs on other tokens.
let (_, weights) = withNoGrad { net.run(test.inputs) }
let w = weights.toArray(as: Float.self), toks = test.inputs.toArray(as: Int64.self), labels = test.labels.toArray(as: Int64.self)
var onMatches = 0.0, matchCount = 0, matchSequences = 0
for i in 0..<test.count where labels[i] == 1 {
    let row = (0..<length).map { Double(w[(i * length + 0) * length + $0]) }
    let matches = (1..<length).filter { toks[i * length + $0] == toks[i * length] }
    onMatches += matches.map { row[$0] }.reduce(0, +); matchCount += matches.count; matchSequences += 1
}
let share = onMatches / Double(matchSequences), uniform = Double(matchCount) / Double(matchSequences) / Double(length - 1)
print("test accuracy \(String(format: "%.1f", accuracy * 100)) %")
print("in the repeated sequences, the first token puts \(String(format: "%.1f", share * 100)) % of its attention on its later copies (uniform attention would give \(String(format: "%.1f", uniform * 100)) %)")

// The attention map of one repeated sequence.
let example = (0..<test.count).first { labels[$0] == 1 }!
let tokLabels = (0..<length).map { "\($0): \(toks[example * length + $0])" }
let map = (0..<length).map { r in (0..<length).map { c in Double(w[(example * length + r) * length + c]) } }
try writeAtomically(heatmapSVG(map, rowLabels: tokLabels, columnLabels: tokLabels,
                               title: "attention A of test sequence \(example) (row: query position: token)",
                               rowTitle: "query (position: token)", columnTitle: "key (position: token)", range: 0...1), to: "\(outDir)/attention-map.svg")
try writeAtomically(LineChart.svg([
    LineChart(title: "training loss", xLabel: "epoch", yLabel: "cross-entropy", series: [.init(name: "train", color: "#1f77b4", points: curve, markers: false)]),
    LineChart(title: "test accuracy", xLabel: "epoch", yLabel: "accuracy", series: [.init(name: "test", color: "#d62728", points: accCurve, markers: false)]),
]), to: "\(outDir)/training.svg")
print("sequence \(example): \(tokLabels.map { String($0.split(separator: " ").last!) }.joined(separator: " ")) → \(outDir)/attention-map.svg; curves → \(outDir)/training.svg")

// What the example shows must hold (CI runs it with --quick).
guard handDiff < 1e-4, accuracy > (quick ? 0.75 : 0.9), share > 2 * uniform else {
    print("FAILED: expected the hand-computed equations to match, the task to be learned, and the first token to attend to its copies")
    exit(1)
}

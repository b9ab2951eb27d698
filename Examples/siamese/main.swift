// COURSE.md §9: a siamese network — two branches of six layers with shared weights (layers 1–4
// conv + ReLU, layer 5 dense + PReLU, layer 6 linear; every layer with a bias; stride 1, 'same'
// padding; dropout into layers 5 and 6), the contrastive loss on D = ½‖s6 − s6'‖² and a KL
// sparsity penalty on layer 6 (target 0.1), trained on pairs of digits. Shows that two branches
// whose gradients are summed (what sharing weights means) stay equal, and that untied ones drift.
//   swift run -c release siamese [--quick]
import Foundation
import Neurone

let quick = CommandLine.arguments.contains("--quick")
setenv("NEURONE_QUIET", "1", 1)
let outDir = "examples-out/siamese"
try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)

// The course's branches take 32×32×3 images: the embedded MNIST digits, padded to 32×32 and
// copied into three channels, stand in for them.
let digits = try DataSets.load("mnist-5k")
func rgb32(_ x: Tensor) -> Tensor { x.pad([2, 2, 2, 2]).expand([x.shape[0], 3, 32, 32]).contiguous() }
let trainX = rgb32(digits.train.inputs), testX = rgb32(digits.test.inputs)
let trainY = digits.train.labels.toArray(as: Int64.self), testY = digits.test.labels.toArray(as: Int64.self)

/// One branch: six layers, each with a bias.
final class Branch: Module {
    let c1, c2, c3, c4: Conv2d
    let d5, d6: Linear
    let p5: PReLU
    let drop5, drop6: Dropout
    init(_ g: Generator) {
        c1 = Conv2d(3, 8, kernelSize: 3, padding: .same, generator: g)
        c2 = Conv2d(8, 16, kernelSize: 3, padding: .same, generator: g)
        c3 = Conv2d(16, 16, kernelSize: 3, padding: .same, generator: g)
        c4 = Conv2d(16, 16, kernelSize: 3, padding: .same, generator: g)
        d5 = Linear(16 * 4 * 4, 64, generator: g); p5 = PReLU()
        d6 = Linear(64, 16, generator: g)
        drop5 = Dropout(0.2, generator: g); drop6 = Dropout(0.2, generator: g)
        super.init()
    }
    override var namedChildren: [(String, Module)] {
        [("c1", c1), ("c2", c2), ("c3", c3), ("c4", c4), ("d5", d5), ("p5", p5), ("d6", d6), ("drop5", drop5), ("drop6", drop6)]
    }
    /// s6, the 16-number embedding. Max-pooling (not a layer of its own) after layers 1, 2 and 4: 32 → 4.
    override func forward(_ x: Tensor) -> Tensor {
        var h = c1(x).relu().maxPool2d(kernel: [2])
        h = c2(h).relu().maxPool2d(kernel: [2])
        h = c4(c3(h).relu()).relu().maxPool2d(kernel: [2])
        let s5 = p5(d5(drop5(h.flatten(startDim: 1))))
        return d6(drop6(s5))
    }
}

/// Pairs (i, j, l): l = 0 when the two images show the same digit, 1 otherwise; half of each.
func pairs(_ labels: [Int64], _ count: Int, _ g: Generator) -> ([Int64], [Int64], [Float]) {
    var byLabel: [Int64: [Int]] = [:]
    for (i, l) in labels.enumerated() { byLabel[l, default: []].append(i) }
    var a: [Int64] = [], b: [Int64] = [], l: [Float] = []
    for k in 0..<count {
        let i = Int(g.nextInt(below: UInt64(labels.count)))
        var j: Int
        if k % 2 == 0 {
            let same = byLabel[labels[i]]!
            j = same[Int(g.nextInt(below: UInt64(same.count)))]
        } else {
            repeat { j = Int(g.nextInt(below: UInt64(labels.count))) } while labels[j] == labels[i]
        }
        a.append(Int64(i)); b.append(Int64(j)); l.append(k % 2 == 0 ? 0 : 1)
    }
    return (a, b, l)
}

let sparsityTarget = 0.1, beta = 0.001
/// Contrastive loss + β·KL sparsity of both branches' layer 6 (its units' activity read as σ(s6)).
func objective(_ s: Tensor, _ t: Tensor, _ l: Tensor) -> (total: Tensor, contrastive: Tensor) {
    let c = Loss.contrastive(s, t, label: l, margin: 1)
    let kl = Regularizer.klSparsity(s.sigmoid(), rho: sparsityTarget, beta: beta) + Regularizer.klSparsity(t.sigmoid(), rho: sparsityTarget, beta: beta)
    return (c + kl, c)
}
func maxDifference(_ a: Module, _ b: Module) -> Double {
    withNoGrad { zip(a.parameters(), b.parameters()).map { ($0 - $1).abs().max().item() }.max()! }
}

let g = Generator(seed: 0)
let branchA = Branch(g), branchB = Branch(Generator(seed: 12345))
try branchB.loadStateDict(Dictionary(uniqueKeysWithValues: branchA.stateDict()))   // the same initial weights
print("digit pairs (mnist-5k padded to 32×32×3): same digit → l = 0, different → l = 1")
print("each branch: \(branchA.parameterCount) parameters in 6 layers (conv 3→8, 8→16, 16→16, 16→16 3×3 'same' + ReLU; dense 256→64 + PReLU; dense 64→16), dropout 0.2 into layers 5 and 6")
print("loss: contrastive on D = ½‖s6 − s6'‖² (margin 1) + \(beta)·KL(\(sparsityTarget) ‖ ρ̂) per branch, ρ̂ the mean σ(s6) of each unit")

// 1. Sharing a weight sums the gradients the two branches send it: check on one batch against a
//    single module used twice (evaluation mode, so that dropout does not differ).
let probe = pairs(testY, 32, Generator(seed: 5))
func batch(_ x: Tensor, _ p: ([Int64], [Int64], [Float])) -> (Tensor, Tensor, Tensor) {
    (x.indexSelect(dim: 0, index: Tensor(p.0)), x.indexSelect(dim: 0, index: Tensor(p.1)), Tensor(p.2, shape: [p.2.count]))
}
let (pa, pb, pl) = batch(testX, probe)
branchA.eval(); branchB.eval()
objective(branchA(pa), branchA(pb), pl).total.backward()          // one module, used by both inputs
let sharedGrads = branchA.parameters().map { $0.grad!.clone() }
branchA.zeroGrad()
objective(branchA(pa), branchB(pb), pl).total.backward()          // two copies, one input each
let sumDiff = withNoGrad { zip(sharedGrads, zip(branchA.parameters(), branchB.parameters())).map { ($0 - ($1.0.grad! + $1.1.grad!)).abs().max().item() }.max()! }
print("\n1. gradient of a module used by both inputs = sum of the two copies' gradients: max |difference| \(String(format: "%.1e", sumDiff))")
branchA.zeroGrad(); branchB.zeroGrad(); branchA.train(); branchB.train()

/// Distances D of test pairs: same-digit and different-digit, and the share of pairs that
/// D < ½ (the margin's half) classifies right.
let testPairs = pairs(testY, quick ? 400 : 2000, Generator(seed: 6))
func distances(_ m: Module) -> (same: [Double], different: [Double], accuracy: Double) {
    m.eval(); defer { m.train() }
    let (a, b, l) = batch(testX, testPairs)
    let d: [Double] = withNoGrad { (m(a) - m(b)).square().sum(dim: 1) * 0.5 }.to(.float64).toArray(as: Double.self)
    let labels: [Float] = l.toArray(as: Float.self)
    var same: [Double] = [], diff: [Double] = [], right = 0
    for (v, label) in zip(d, labels) {
        if label == 0 { same.append(v) } else { diff.append(v) }
        if (v < 0.5) == (label == 0) { right += 1 }
    }
    return (same, diff, Double(right) / Double(d.count))
}
func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(Swift.max(1, v.count)) }
let before = distances(branchA)

// 2. Training with tied branches: each step both copies receive the summed gradient and the same
//    Adam update, so their weights stay bit-for-bit equal; untied copies (each its own gradient) drift.
let epochs = quick ? 3 : 12, pairsPerEpoch = quick ? 2048 : 4096, batchSize = 64
let untiedA = Branch(Generator(seed: 1)), untiedB = Branch(Generator(seed: 2))
try untiedA.loadStateDict(Dictionary(uniqueKeysWithValues: branchA.stateDict()))
try untiedB.loadStateDict(Dictionary(uniqueKeysWithValues: branchA.stateDict()))
let optA = Adam(branchA.parameters(), lr: 3e-3), optB = Adam(branchB.parameters(), lr: 3e-3)
let optUA = Adam(untiedA.parameters(), lr: 3e-3), optUB = Adam(untiedB.parameters(), lr: 3e-3)
let pairGen = Generator(seed: 7)
var lossCurve: [(x: Double, y: Double)] = []
print("\n2. training, \(epochs) epoch(s) of \(pairsPerEpoch) pairs, batch \(batchSize), Adam lr 0.003")
var untiedSteps = 0
for epoch in 1...epochs {
    let p = pairs(trainY, pairsPerEpoch, pairGen)
    var sum = 0.0, n = 0
    for start in stride(from: 0, to: pairsPerEpoch, by: batchSize) {
        let r = start..<Swift.min(start + batchSize, pairsPerEpoch)
        let (a, b, l) = batch(trainX, (Array(p.0[r]), Array(p.1[r]), Array(p.2[r])))
        let (total, c) = objective(branchA(a), branchB(b), l)
        total.backward()
        withNoGrad {
            for (wa, wb) in zip(branchA.parameters(), branchB.parameters()) {
                let shared = wa.grad! + wb.grad!
                wa.grad = shared; wb.grad = shared.clone()
            }
        }
        optA.step(); optB.step(); branchA.zeroGrad(); branchB.zeroGrad()
        sum += c.item() * Double(r.count); n += r.count
        if epoch == 1 && untiedSteps < 20 {      // the untied pair: 20 steps on the same batches
            objective(untiedA(a), untiedB(b), l).total.backward()
            optUA.step(); optUB.step(); untiedA.zeroGrad(); untiedB.zeroGrad()
            untiedSteps += 1
        }
    }
    lossCurve.append((Double(epoch), sum / Double(n)))
    print("   epoch \(epoch): mean contrastive loss \(String(format: "%.4f", sum / Double(n))); tied branches' max |w_A − w_B| = \(maxDifference(branchA, branchB))")
}
print("   untied copies after \(untiedSteps) steps from the same start: max |w_A − w_B| = \(String(format: "%.3f", maxDifference(untiedA, untiedB)))")

let after = distances(branchA)
print("\n3. test pairs (\(testPairs.0.count)): D = ½‖s6 − s6'‖²")
print("                   mean D same digit   mean D different   pairs right with D < ½")
print("   before training " + String(format: "%17.3g %18.3g %20.1f %%", mean(before.same), mean(before.different), before.accuracy * 100))
print("   after training  " + String(format: "%17.3g %18.3g %20.1f %%", mean(after.same), mean(after.different), after.accuracy * 100))
branchA.eval()
let rhoHat = withNoGrad { branchA(testX[0..<500]).sigmoid().mean(dim: 0).mean().item() }
branchA.train()
let collapsed = Double(after.different.filter { $0 < 0.1 }.count) / Double(Swift.max(1, after.different.count))
print("   different-digit pairs still at D < 0.1: \(String(format: "%.1f", collapsed * 100)) %")
print("   mean σ(s6) over units and 500 test images: \(String(format: "%.3f", rhoHat)) (sparsity target \(sparsityTarget))")

// Figure: the distribution of D for same-digit and different-digit test pairs after training.
let bins = 30, top = 1.5
func histogram(_ v: [Double]) -> [(x: Double, y: Double)] {
    var counts = [Double](repeating: 0, count: bins)
    for d in v { counts[Swift.min(bins - 1, Int(Swift.min(d, top - 1e-9) / top * Double(bins)))] += 1 }
    return counts.enumerated().map { (Double($0.offset) * top / Double(bins) + top / Double(2 * bins), $0.element / Double(Swift.max(1, v.count))) }
}
let (sameHist, differentHist) = (histogram(after.same), histogram(after.different))
let hist = LineChart(title: "test pairs after training: D = ½‖s6 − s6'‖²", xLabel: "D (last bin: ≥ \(top - top / Double(bins)))", yLabel: "share of pairs", series: [
    .init(name: "same digit", color: "#2ca02c", points: sameHist),
    .init(name: "different", color: "#d62728", points: differentHist, dashed: true),
], yRange: 0...((sameHist + differentHist).map { $0.y }.max()!))
let lossChart = LineChart(title: "contrastive loss", xLabel: "epoch", yLabel: "mean loss", series: [.init(name: "train", color: "#1f77b4", points: lossCurve)])
try writeAtomically(LineChart.svg([hist, lossChart]), to: "\(outDir)/distances.svg")
print("\nwrote \(outDir)/distances.svg")

// What the example shows must hold (CI runs it with --quick).
guard sumDiff < 1e-4, maxDifference(branchA, branchB) == 0, maxDifference(untiedA, untiedB) > 1e-3,
      mean(after.same) < mean(after.different), after.accuracy > before.accuracy, after.accuracy > (quick ? 0.65 : 0.85) else {
    print("FAILED: expected tied branches to stay equal, untied ones to drift, and training to separate same from different pairs")
    exit(1)
}

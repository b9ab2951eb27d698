// COURSE.md §5: full-batch vs stochastic (one sample at a time) vs mini-batch gradient descent,
// and learning rates too small (slow) and too large (divergence), as loss curves (SVG).
//   swift run -c release gradient-descent [--quick]
import Foundation
import Neurone

let quick = CommandLine.arguments.contains("--quick")
setenv("NEURONE_QUIET", "1", 1)
let data = try DataSets.load("moons", seed: 0)
let epochs = quick ? 10 : 40
let outDir = "examples-out/gradient-descent"
try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)

/// Trains the same 2-16-2 MLP (same initial weights) with plain SGD; returns the training loss
/// after each epoch (epoch 0: before training), and whether it stayed finite.
func run(batchSize: Int, lr: Double) -> [Double] {
    let g = Generator(seed: 7)
    let model = Sequential(Linear(2, 16, generator: g), Tanh(), Linear(16, 2, generator: g))
    let trainer = Trainer(model: model, optimizer: SGD(model.parameters(), lr: lr))
    var losses = [trainer.evaluate(data.train).loss]
    for _ in 0..<epochs {
        _ = try? trainer.trainEpoch(DataLoader(data.train, batchSize: batchSize, shuffle: true, generator: g))
        let l = trainer.evaluate(data.train).loss
        losses.append(l.isFinite ? l : .nan)
        if !l.isFinite { break }
    }
    return losses
}

func series(_ name: String, _ colour: String, _ losses: [Double], dashed: Bool = false) -> LineChart.Series {
    .init(name: name, color: colour, points: losses.enumerated().map { (Double($0.offset), $0.element) }, dashed: dashed)
}

print("two moons, \(data.train.count) training points, a 2-16-2 tanh MLP with the same initial weights, plain SGD, \(epochs) epochs")
let full = run(batchSize: data.train.count, lr: 0.5), online = run(batchSize: 1, lr: 0.05), mini = run(batchSize: 32, lr: 0.2)
print("1. batch size (one update per epoch / per sample / per 32 samples): training loss after each epoch")
for (name, l) in [("full batch, η 0.5", full), ("online (batch 1), η 0.05", online), ("mini-batch 32, η 0.2", mini)] {
    print("   \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) start \(String(format: "%.4f", l[0]))  end \(String(format: "%.4f", l.last!))")
}
let lossChart = LineChart(title: "batch size", xLabel: "epoch", yLabel: "training loss", series: [
    series("full batch", "#1f77b4", full), series("batch 1", "#d62728", online), series("batch 32", "#2ca02c", mini),
])
let small = run(batchSize: 32, lr: 0.002), good = run(batchSize: 32, lr: 0.2), large = run(batchSize: 32, lr: 40)
print("2. learning rate, mini-batch 32")
for (name, l) in [("η = 0.002 (too small)", small), ("η = 0.2", good), ("η = 40 (too large)", large)] {
    let end = l.last!
    print("   \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) start \(String(format: "%.4f", l[0]))  end \(end.isFinite ? String(format: "%.4f", end) : "diverged")")
}
var lrChart = LineChart(title: "learning rate (mini-batch 32)", xLabel: "epoch", yLabel: "training loss", series: [
    series("η 0.002", "#9467bd", small), series("η 0.2", "#2ca02c", good), series("η 40", "#d62728", large, dashed: true),
])
lrChart.logY = true
try writeAtomically(LineChart.svg([lossChart, lrChart]), to: outDir + "/loss-curves.svg")
print("wrote \(outDir)/loss-curves.svg")
// What the example shows must hold (CI runs it with --quick).
let largeWorse = !(large.last!.isFinite) || large.last! > good.last!
guard small.last! > good.last!, largeWorse, mini.last! < full.last!, online.last! < full[0] else {
    print("FAILED: expected a small rate to be slower, a large one to fail, mini-batches to beat one update per epoch")
    exit(1)
}

// COURSE.md §10: dense networks with 0, 1 and 2 hidden layers against a CNN of the same depth on
// handwritten digits — learning curves (loss and accuracy, train and validation, per epoch) and
// parameter counts side by side.
//   swift run -c release digits-models [--quick] [--dataset mnist-5k|usps|mnist] [--data-dir DIR]
// The default, mnist-5k, is embedded (no download); usps and mnist read the real files
// (`neurone data download usps` fetches them).
import Foundation
import Neurone

let args = CommandLine.arguments
let quick = args.contains("--quick")
func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name) else { return nil }
    guard i + 1 < args.count else { print("error: \(name) needs a value"); exit(2) }
    return args[i + 1]
}
setenv("NEURONE_QUIET", "1", 1)
let name = option("--dataset") ?? "mnist-5k"
let loaded: DataSetSplits
do { loaded = try DataSets.load(name, dataDir: option("--data-dir")) } catch {
    print("error: \(error)")
    exit(1)
}
guard loaded.train.sampleShape.count == 3, loaded.train.sampleShape[0] == 1 else {
    print("error: \(name) holds samples of shape \(loaded.train.sampleShape); this example needs grey images [1, H, W]")
    exit(1)
}
let (h, w) = (loaded.train.sampleShape[1], loaded.train.sampleShape[2]), pixels = h * w
/// A seeded random subset of `n` samples (with --quick); the stored order may be grouped by class.
func sample(_ d: TensorDataset, _ n: Int) -> TensorDataset {
    guard quick, n < d.count else { return d }
    var order = Array(0..<d.count)
    let sg = Generator(seed: 99)
    for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(sg.nextInt(below: UInt64(i + 1)))) }
    return d.subset(Array(order.prefix(n)))
}
let train = sample(loaded.train, 1000), test = sample(loaded.test, 500)
let epochs = quick ? 3 : 12
let outDir = "examples-out/digits-models"
try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)

let g = Generator(seed: 0)
let models: [(name: String, short: String, colour: String, model: Module)] = [
    ("dense, no hidden layer (softmax regression)", "dense-0", "#7f7f7f",
     Sequential(Flatten(), Linear(pixels, 10, generator: g))),
    ("dense, 1 hidden layer of 128 ReLU", "dense-1", "#1f77b4",
     Sequential(Flatten(), Linear(pixels, 128, generator: g), ReLU(), Linear(128, 10, generator: g))),
    ("dense, 2 hidden layers (128, 64 ReLU)", "dense-2", "#2ca02c",
     Sequential(Flatten(), Linear(pixels, 128, generator: g), ReLU(), Linear(128, 64, generator: g), ReLU(), Linear(64, 10, generator: g))),
    ("CNN: 2 conv 3×3 (16, 32) + max-pool, dense 10", "cnn", "#d62728",
     Sequential(Conv2d(1, 16, kernelSize: 3, padding: 1, generator: g), ReLU(), MaxPool2d(2),
                Conv2d(16, 32, kernelSize: 3, padding: 1, generator: g), ReLU(), MaxPool2d(2),
                Flatten(), Linear(32 * (h / 4) * (w / 4), 10, generator: g))),
]

print("\(loaded.name): \(train.count) training and \(test.count) test images of \(h)×\(w) pixels, 10 classes; Adam (lr 0.001), batch 64, \(epochs) epochs, seed 0")
print("\nparameters per layer (weights + biases):")
for m in models {
    let layers = m.model.namedModules().compactMap { _, mod -> String? in
        let own = mod.namedParameters().filter { !$0.0.contains(".") }.reduce(0) { $0 + $1.1.count }
        return own > 0 && mod.namedChildren.isEmpty ? "\(type(of: mod)) \(own)" : nil
    }
    print("  \(m.short.padding(toLength: 8, withPad: " ", startingAt: 0)) \(String(format: "%7d", m.model.parameterCount)) = " + layers.joined(separator: " + "))
}

var histories: [String: [EpochRecord]] = [:]
for (k, m) in models.enumerated() {
    let trainer = Trainer(model: m.model, optimizer: Adam(m.model.parameters(), lr: 1e-3))
    let lg = Generator(seed: UInt64(10 + k))
    var history: [EpochRecord] = []
    for epoch in 1...epochs {
        let start = Date()
        _ = try trainer.trainEpoch(DataLoader(train, batchSize: 64, shuffle: true, generator: lg))
        m.model.eval()
        let (tr, va) = (trainer.evaluate(train), trainer.evaluate(test))
        m.model.train()
        history.append(EpochRecord(epoch: epoch, trainLoss: tr.loss, trainAccuracy: tr.accuracy, valLoss: va.loss, valAccuracy: va.accuracy,
                                   learningRate: 1e-3, seconds: Date().timeIntervalSince(start)))
    }
    histories[m.short] = history
    try writeAtomically(learningCurvesSVG(history, title: m.short), to: "\(outDir)/\(m.short)-curves.svg")
}

print("\nafter \(epochs) epochs (loss: mean cross-entropy; accuracy in %):")
print("model     parameters   train loss  train acc   test loss  test acc   s/epoch")
for m in models {
    let r = histories[m.short]!.last!, secs = histories[m.short]!.map { $0.seconds }.reduce(0, +) / Double(epochs)
    print(m.short.padding(toLength: 8, withPad: " ", startingAt: 0)
          + String(format: "%12d %12.4f %10.2f %11.4f %9.2f %9.2f", m.model.parameterCount, r.trainLoss, r.trainAccuracy * 100, r.valLoss!, r.valAccuracy! * 100, secs))
}
func curve(_ m: (name: String, short: String, colour: String, model: Module), _ value: (EpochRecord) -> Double, dashed: Bool = false) -> LineChart.Series {
    .init(name: m.short, color: m.colour, points: histories[m.short]!.map { (Double($0.epoch), value($0)) }, dashed: dashed)
}
let accChart = LineChart(title: "test accuracy", xLabel: "epoch", yLabel: "accuracy", series: models.map { curve($0, { $0.valAccuracy! }) })
var lossChart = LineChart(title: "training loss", xLabel: "epoch", yLabel: "cross-entropy", series: models.map { curve($0, { $0.trainLoss }) })
lossChart.logY = true
try writeAtomically(LineChart.svg([accChart, lossChart]), to: "\(outDir)/comparison.svg")
print("\nwrote \(outDir)/comparison.svg (test accuracy and training loss of the four models) and \(outDir)/MODEL-curves.svg (train and validation curves of each)")

// What the example shows must hold (CI runs it with --quick).
let final = Dictionary(uniqueKeysWithValues: models.map { ($0.short, histories[$0.short]!.last!.valAccuracy!) })
let cnnParams = models[3].model.parameterCount, dense1Params = models[1].model.parameterCount
let bestDense = Swift.max(final["dense-1"]!, final["dense-2"]!)
guard final.values.allSatisfy({ $0 > 0.7 }), cnnParams < dense1Params, bestDense > final["dense-0"]! || quick,
      final["cnn"]! >= bestDense - 0.005 || quick else {
    print("FAILED: expected hidden layers to beat softmax regression and the CNN, with fewer parameters, to match the best dense model")
    exit(1)
}

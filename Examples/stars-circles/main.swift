// COURSE.md §1: "stars" inside a square vs "circles" around it — not linearly separable; a
// one-hidden-layer MLP separates them, trained and also set by hand; decision boundaries as SVG.
//   swift run -c release stars-circles [--quick]
import Foundation
import Neurone

let quick = CommandLine.arguments.contains("--quick")
setenv("NEURONE_QUIET", "1", 1)
let data = try DataSets.load("stars", seed: 0)
let g = Generator(seed: 3)
let outDir = "examples-out/stars-circles"
try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)

func accuracy(_ m: Module, _ d: TensorDataset) -> Double {
    withNoGrad { (m(d.inputs).argmax(dim: 1) .== d.labels).to(.float64).mean().item() }
}
func draw(_ m: Module, _ file: String, _ title: String) throws {
    let x = data.test.inputs.toArray(as: Float.self), y = data.test.labels.toArray(as: Int64.self)
    let pts = (0..<y.count).map { (x: Double(x[2 * $0]), y: Double(x[2 * $0 + 1]), label: Int(y[$0])) }
    let svg = decisionBoundarySVG(points: pts, classes: 2, xRange: -1...1, yRange: -1...1, resolution: quick ? 40 : 100, title: title) { a, b in
        Int(withNoGrad { m(Tensor([a, b], shape: [1, 2], dtype: .float32)).argmax(dim: 1).item() })
    }
    try writeAtomically(svg, to: outDir + "/" + file)
    print("   wrote \(outDir)/\(file)")
}

print("1. A linear classifier (no hidden layer)")
let linear = Sequential(Linear(2, 2, generator: g))
let trainer = Trainer(model: linear, optimizer: Adam(linear.parameters(), lr: 0.05))
for _ in 0..<(quick ? 20 : 100) { _ = try trainer.trainEpoch(DataLoader(data.train, batchSize: 64, shuffle: true, generator: g)) }
let circles = withNoGrad { (data.test.labels .== Tensor(Int64(0))).to(.float64).mean().item() }
print("   test accuracy \(String(format: "%.1f", accuracy(linear, data.test) * 100)) % — barely above always answering \"circle\" (\(String(format: "%.1f", circles * 100)) % of the points): no line separates a square from its surroundings")
try draw(linear, "linear.svg", "linear classifier: one straight boundary")

print("2. One hidden layer of 8 sigmoid units, trained")
let mlp = Sequential(Linear(2, 8, generator: g), Sigmoid(), Linear(8, 2, generator: g))
let t2 = Trainer(model: mlp, optimizer: Adam(mlp.parameters(), lr: 0.03))
for _ in 0..<(quick ? 60 : 300) { _ = try t2.trainEpoch(DataLoader(data.train, batchSize: 64, shuffle: true, generator: g)) }
print("   test accuracy \(String(format: "%.1f", accuracy(mlp, data.test) * 100)) %")
try draw(mlp, "trained-mlp.svg", "one hidden layer of 8 sigmoid units, trained")

print("3. One hidden layer of 4 sigmoid units, set by hand: one unit per side of the square")
// h1 = σ(20(x + 0.5)), h2 = σ(20(0.5 − x)), h3 = σ(20(y + 0.5)), h4 = σ(20(0.5 − y)): ≈ 1 inside each half-plane.
// The star score is 20(h1 + h2 + h3 + h4 − 3.5): positive only when all four are on, i.e. inside the square.
let hidden = Linear(2, 4), out = Linear(4, 2)
hidden.assign(weight: [[20, 0], [-20, 0], [0, 20], [0, -20]], bias: [10, 10, 10, 10])
out.assign(weight: [[0, 0, 0, 0], [20, 20, 20, 20]], bias: [0, -70])
let handSet = Sequential(hidden, Sigmoid(), out)
print("   test accuracy \(String(format: "%.1f", accuracy(handSet, data.test) * 100)) % with no training at all")
try draw(handSet, "hand-set.svg", "4 hidden units set by hand (one per side)")

// What the example shows must hold (CI runs it with --quick).
guard accuracy(handSet, data.test) > 0.97, accuracy(mlp, data.test) > accuracy(linear, data.test) + 0.1 else {
    print("FAILED: the hand-set network should separate the square and the trained MLP beat the linear classifier")
    exit(1)
}

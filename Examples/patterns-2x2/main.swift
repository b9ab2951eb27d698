// COURSE.md §1: the slides' 2×2-pixel images (solid, vertical, diagonal, horizontal, with pixels
// −1/+1) classified by a hand-wired network whose weights are all +1, −1 or 0.
//   swift run -c release patterns-2x2 [--quick]
import Foundation
import Neurone

setenv("NEURONE_QUIET", "1", 1)
// Pixels (a, b / c, d) flattened to (a, b, c, d). Each pattern is detected by |a ± b ± c ± d| = 4:
// solid |a+b+c+d|, vertical |a−b+c−d|, diagonal |a−b−c+d|, horizontal |a+b−c−d|; |s| = ReLU(s) + ReLU(−s).
let hidden = Linear(4, 8)
hidden.assign(weight: [[1, 1, 1, 1], [-1, -1, -1, -1],
                       [1, -1, 1, -1], [-1, 1, -1, 1],
                       [1, -1, -1, 1], [-1, 1, 1, -1],
                       [1, 1, -1, -1], [-1, -1, 1, 1]], bias: [0, 0, 0, 0, 0, 0, 0, 0])
let output = Linear(8, 4)
output.assign(weight: [[1, 1, 0, 0, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0, 0, 0],
                       [0, 0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1, 1]], bias: [0, 0, 0, 0])
let net = Sequential(Flatten(), hidden, ReLU(), output)

let data = try DataSets.load("patterns")
let names = SyntheticSets.patternNames
let scores = withNoGrad { net(data.test.inputs) }
let predicted = scores.argmax(dim: 1).toArray(as: Int64.self), truth = data.test.labels.toArray(as: Int64.self)
print("the hand-wired network: 4 pixels → 8 ReLU units (weights ±1) → 4 class scores (weights 0/1); ■ = +1, □ = −1\n")
for i in 0..<8 {
    let px = data.test.inputs[i].flatten().toArray(as: Float.self).map { $0 > 0 ? "■" : "□" }
    let s = scores[i].toArray(as: Float.self).map { String(format: "%3.0f", $0) }.joined(separator: " ")
    print("  \(px[0])\(px[1])   scores [\(s)]  →  \(names[Int(predicted[i])])\(predicted[i] == truth[i] ? "" : "  (wrong: \(names[Int(truth[i])]))")")
    print("  \(px[2])\(px[3])\n")
}
let exact = zip(predicted, truth).filter { $0 == $1 }.count
let noisy = withNoGrad { net(data.train.inputs).argmax(dim: 1) .== data.train.labels }.to(.float64).mean().item()
print("\ncorrect on the 8 exact images: \(exact)/8; on the 400 noisy training copies (σ = 0.1): \(String(format: "%.1f", noisy * 100)) %")
// What the example shows must hold (CI runs it): every exact image is classified correctly.
guard exact == 8 else { print("FAILED: the hand-wired network misclassified \(8 - exact) exact images"); exit(1) }
let outDir = "examples-out/patterns-2x2"
try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
try PNG.write(imageGrid(data.test.inputs, columns: 8, scale: 24, padding: 4, low: -1, high: 1), to: outDir + "/patterns.png")
print("wrote \(outDir)/patterns.png")

// COURSE.md §7: an MLP trained on centred "X" shapes fails on shifted ones; a CNN (shared weights
// + a global max over positions) does not; random-shift augmentation helps the MLP at the price of
// data. And a small MLP trained on 10×10 crops, slid over the image, is a convolution.
//   swift run -c release translation-invariance [--quick]
import Foundation
import Neurone

let quick = CommandLine.arguments.contains("--quick")
setenv("NEURONE_QUIET", "1", 1)
let centred = try DataSets.load("x-centred", seed: 0), shifted = try DataSets.load("x-shifted", seed: 0)
let outDir = "examples-out/translation-invariance"
try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
let epochs = quick ? 4 : 15
func pct(_ v: Double) -> String { String(format: "%5.1f %%", v * 100) }

/// The largest value of each channel over all positions: [N, C, H, W] → [N, C].
final class GlobalMaxPool: Module {
    override func forward(_ x: Tensor) -> Tensor { x.flatten(startDim: 2).max(dim: 2).values }
}

func accuracy(_ m: Module, _ d: TensorDataset) -> Double {
    m.eval(); defer { m.train() }
    return Trainer(model: m, optimizer: SGD(m.parameters(), lr: 0)).evaluate(d, batchSize: 250).accuracy
}
func fit(_ m: Module, _ d: TensorDataset, epochs: Int, lr: Double, transforms: [Transform] = [], seed: UInt64) throws {
    let g = Generator(seed: seed)
    let t = Trainer(model: m, optimizer: Adam(m.parameters(), lr: lr))
    for _ in 0..<epochs { _ = try t.trainEpoch(DataLoader(d, batchSize: 50, shuffle: true, transforms: transforms, generator: g)) }
}

print("X vs O shapes (9–15 px) in 64×64 noisy images: \(centred.train.count) training and \(centred.test.count) test images, centred (±1 px) or shifted anywhere")
let positions5 = (64 - 5 + 1) * (64 - 5 + 1)
print("A 5×5 object has \((64 - 5 + 1))² = \(positions5) positions in a 64×64 image; with 36 rotations (every 10°) and 5 scales a network that must see each one needs \(positions5 * 36 * 5) examples of every shape.\n")
try PNG.write(imageGrid(Tensor.cat([centred.test.inputs[0..<8], shifted.test.inputs[0..<8]]), columns: 8, scale: 2), to: outDir + "/images.png")
print("first row: centred test images, second row: shifted ones → \(outDir)/images.png\n")

let g = Generator(seed: 1)
let mlp = Sequential(Flatten(), Linear(4096, 64, generator: g), ReLU(), Linear(64, 2, generator: g))
try fit(mlp, centred.train, epochs: epochs, lr: 1e-3, seed: 2)
let cnn = Sequential(Conv2d(1, 8, kernelSize: 5, padding: 2, generator: g), ReLU(), MaxPool2d(2),
                     Conv2d(8, 16, kernelSize: 3, padding: 1, generator: g), ReLU(), MaxPool2d(2),
                     Conv2d(16, 16, kernelSize: 3, padding: 1, generator: g), ReLU(), GlobalMaxPool(), Linear(16, 2, generator: g))
try fit(cnn, centred.train, epochs: epochs, lr: 3e-3, seed: 3)
let augmented = Sequential(Flatten(), Linear(4096, 64, generator: g), ReLU(), Linear(64, 2, generator: g))
try fit(augmented, centred.train, epochs: epochs * 2, lr: 1e-3, transforms: [RandomShift(maxShift: 24)], seed: 4)

let rows: [(String, Module, Int)] = [
    ("MLP 4096-64-2", mlp, mlp.parameterCount),
    ("CNN, global max pool", cnn, cnn.parameterCount),
    ("MLP + random shifts ≤ 24 px", augmented, augmented.parameterCount),
]
print("trained on centred images only (\(epochs) epochs; the augmented MLP \(epochs * 2) epochs of randomly shifted copies)")
print("model                          parameters   centred test   shifted test")
var table: [String: (Double, Double)] = [:]
for (name, m, p) in rows {
    let a = accuracy(m, centred.test), b = accuracy(m, shifted.test)
    table[name] = (a, b)
    print(name.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%11d", p) + "        " + pct(a) + "        " + pct(b))
}

// A small MLP on 10×10 crops, slid over the image with stride 2. Written as a convolution, its
// first layer Linear(100, 8) is Conv2d(1, 8, 10×10, stride 2) with the same weights reshaped, its
// second Linear(8, 2) a 1×1 convolution; the image's score for a class is the largest over all
// positions. Trained that way on the centred images (each crop gets its gradient through the max),
// then evaluated window by window through the MLP itself to show the two are the same function.
print("\nA small MLP (100-8-2) on 10×10 crops, slid over the image with stride 2, each class's score the largest over the 28 × 28 positions:")
let patchNet = Sequential(Linear(100, 8, generator: g), ReLU(), Linear(8, 2, generator: g))
let l1 = patchNet[0] as! Linear, l2 = patchNet[2] as! Linear
/// The slid MLP as convolutions that use the MLP's own parameters: [N, 1, 64, 64] → [N, 2, 28, 28].
final class SlidMLP: Module {
    let mlp: Sequential
    init(_ mlp: Sequential) { self.mlp = mlp; super.init() }
    override var namedChildren: [(String, Module)] { [("mlp", mlp)] }
    override func forward(_ x: Tensor) -> Tensor {
        let (a, b) = (mlp[0] as! Linear, mlp[2] as! Linear)
        let h = x.conv2d(weight: a.weight.reshape([8, 1, 10, 10]), bias: a.bias, stride: [2]).relu()
        return h.conv2d(weight: b.weight.reshape([2, 8, 1, 1]), bias: b.bias)
    }
}
let slidConv = SlidMLP(patchNet)
let slidClassifier = Sequential(slidConv, GlobalMaxPool())
try fit(slidClassifier, centred.train, epochs: epochs, lr: 3e-3, seed: 5)
/// The patch MLP applied to every 10×10 window with stride 2, one window at a time: [N, 2, 28, 28].
func slide(_ x: Tensor) -> Tensor {
    let n = x.shape[0], side = (64 - 10) / 2 + 1
    var outs: [Tensor] = []
    for i in 0..<side { for j in 0..<side {
        outs.append(patchNet(x.narrow(dim: 2, start: 2 * i, length: 10).narrow(dim: 3, start: 2 * j, length: 10).reshape([n, 100])))
    } }
    return Tensor.stack(outs, dim: 2).reshape([n, 2, side, side])
}
let probe = shifted.test.inputs[0..<16]
let diff = withNoGrad { (slide(probe) - slidConv(probe)).abs().max().item() }
print("   the MLP run window by window (784 windows) vs Conv2d(1→8, 10×10, stride 2) + ReLU + Conv2d(8→2, 1×1) with its weights: max |difference| \(String(format: "%.1e", diff)) over 16 images")
let (sc, ss) = (accuracy(slidClassifier, centred.test), accuracy(slidClassifier, shifted.test))
print("   trained on centred images: centred test \(pct(sc)), shifted test \(pct(ss)) — \(patchNet.parameterCount) parameters")

// What the example shows must hold (CI runs it with --quick).
let (mlpC, mlpS) = table["MLP 4096-64-2"]!, cnnS = table["CNN, global max pool"]!.1, augS = table["MLP + random shifts ≤ 24 px"]!.1
guard mlpC > 0.9, mlpS < mlpC - 0.15, cnnS > mlpS + 0.15, augS > mlpS, ss > mlpS + 0.15, diff < 1e-4 else {
    print("FAILED: expected the MLP to lose accuracy on shifted images, the CNN and shift augmentation to keep more, and the slid MLP to equal the convolution")
    exit(1)
}

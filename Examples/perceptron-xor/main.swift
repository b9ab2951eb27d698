// COURSE.md §1: a perceptron with several outputs; a stack of linear layers is one linear map;
// XOR needs a hidden layer.   swift run -c release perceptron-xor [--quick]
import Foundation
import Neurone

let quick = CommandLine.arguments.contains("--quick")
setenv("NEURONE_QUIET", "1", 1)
let g = Generator(seed: 1)

/// Trains `model` on (x, y) with full-batch gradient descent and cross-entropy; returns the accuracy.
func train(_ model: Module, _ x: Tensor, _ y: Tensor, steps: Int, lr: Double) -> Double {
    let opt = Adam(model.parameters(), lr: lr)
    for _ in 0..<steps {
        opt.zeroGrad()
        Loss.crossEntropy(model(x), y).backward()
        opt.step()
    }
    let pred = withNoGrad { model(x).argmax(dim: 1) }
    return withNoGrad { (pred .== y).to(.float64).mean().item() }
}

print("1. A perceptron with several outputs: one linear layer, 2 inputs → 2 outputs (AND, OR), step activation")
let inputs = Tensor([0.0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2])
let perceptron = Linear(2, 2)
// Hand-set: output 1 fires when x1 + x2 − 1.5 > 0 (AND), output 2 when x1 + x2 − 0.5 > 0 (OR).
perceptron.assign(weight: [[1, 1], [1, 1]], bias: [-1.5, -0.5])
let fired = withNoGrad { (perceptron(inputs) .> 0).to(.int64) }.toArray(as: Int64.self)
for i in 0..<4 {
    let x = inputs[i].toArray(as: Float.self).map { Int($0) }
    print("   x = \(x)  →  AND \(fired[2 * i]), OR \(fired[2 * i + 1])")
}

print("\n2. Two linear layers without an activation are one linear layer: W = W2·W1, b = W2·b1 + b2")
let l1 = Linear(2, 5, generator: g), l2 = Linear(5, 3, generator: g)
let stacked = Sequential(l1, l2)
let merged = Linear(2, 3)
withNoGrad {
    merged.weight.copy(from: l2.weight.matmul(l1.weight))
    merged.bias!.copy(from: l2.weight.matmul(l1.bias!) + l2.bias!)
}
let probe = Tensor.randn([6, 2], generator: g)
let gap = withNoGrad { (stacked(probe) - merged(probe)).abs().max().item() }
print("   largest difference between the stack and the single layer on 6 random inputs: \(String(format: "%.2e", gap))")

print("\n3. XOR: labels 0, 1, 1, 0 for (0,0), (0,1), (1,0), (1,1)")
let xorLabels = Tensor([0, 1, 1, 0] as [Int64])
let steps = quick ? 300 : 2000
let linear = Sequential(Linear(2, 2, generator: g))
let linearAcc = train(linear, inputs, xorLabels, steps: steps, lr: 0.05)
print("   without a hidden layer (linear): accuracy \(Int(linearAcc * 100)) % — no line separates the two classes")
let mlp = Sequential(Linear(2, 4, generator: g), Tanh(), Linear(4, 2, generator: g))
let mlpAcc = train(mlp, inputs, xorLabels, steps: steps, lr: 0.05)
print("   with a hidden layer of 4 tanh units: accuracy \(Int(mlpAcc * 100)) %")

// What the example shows must hold (CI runs it with --quick).
guard fired == [0, 0, 0, 1, 0, 1, 1, 1], gap < 1e-5, mlpAcc == 1, linearAcc < 1 else {
    print("FAILED: perceptron outputs \(fired), stack difference \(gap), XOR accuracies \(linearAcc) / \(mlpAcc)")
    exit(1)
}

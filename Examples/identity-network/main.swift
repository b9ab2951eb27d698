// COURSE.md §4 (end): a single-layer network with identity activation, ŷ = W·x + b, loss ‖ŷ − y‖².
// Hand-written gradients ∇_b = 2(ŷ − y) and ∇_W = 2(ŷ − y)·xᵀ are checked against Neurone's
// autograd, then per-sample gradient descent runs over a small data set.
//   swift run -c release identity-network [--quick]
import Foundation
import Neurone

let quick = CommandLine.arguments.contains("--quick")
setenv("NEURONE_QUIET", "1", 1)
let g = Generator(seed: 5)
// A data set made by a known linear map plus a little noise: y = A·x + c + ε, x ∈ R³, y ∈ R².
let a = Tensor([0.5, -1.0, 2.0, 1.5, 0.25, -0.75], shape: [2, 3], dtype: .float64)
let c = Tensor([0.3, -0.2], dtype: .float64)
let n = 40
let xs = Tensor.randn([n, 3], dtype: .float64, generator: g)
let ys = xs.matmul(a.T) + c + Tensor.randn([n, 2], dtype: .float64, generator: g) * 0.01

let w = Tensor.zeros([2, 3], dtype: .float64).requiringGrad(), b = Tensor.zeros([2], dtype: .float64).requiringGrad()
print("1. One sample, hand-written gradients against autograd (float64)")
let x0 = xs[0], y0 = ys[0]
let yhat = w.matmul(x0) + b
let loss = (yhat - y0).square().sum()
loss.backward()
let r = withNoGrad { (yhat - y0) * 2 }                         // ∂L/∂ŷ = 2(ŷ − y)
let handB = r, handW = withNoGrad { r.unsqueeze(1).matmul(x0.unsqueeze(0)) }   // ∇_W = 2(ŷ − y)·xᵀ
let gapB = withNoGrad { (handB - b.grad!).abs().max().item() }, gapW = withNoGrad { (handW - w.grad!).abs().max().item() }
print("   ∇_b by hand  \(handB.toArray(as: Double.self).map { String(format: "%.9f", $0) })")
print("   ∇_b autograd \(b.grad!.toArray(as: Double.self).map { String(format: "%.9f", $0) })   largest difference \(gapB)")
print("   ∇_W by hand  \(handW.flatten().toArray(as: Double.self).map { String(format: "%.6f", $0) })")
print("   largest difference from autograd's ∇_W: \(gapW)")

print("\n2. Per-sample gradient descent with the hand-written gradients, η = 0.05")
let eta = 0.05
var wv = Tensor.zeros([2, 3], dtype: .float64), bv = Tensor.zeros([2], dtype: .float64)
func meanLoss() -> Double { withNoGrad { (xs.matmul(wv.T) + bv - ys).square().sum(dim: 1).mean().item() } }
print(String(format: "   epoch %2d  mean loss %.6f", 0, meanLoss()))
for epoch in 1...(quick ? 10 : 30) {
    for i in 0..<n {
        let xi = xs[i], res = withNoGrad { (wv.matmul(xi) + bv - ys[i]) * 2 }
        wv = withNoGrad { wv - res.unsqueeze(1).matmul(xi.unsqueeze(0)) * eta }
        bv = withNoGrad { bv - res * eta }
    }
    if epoch % (quick ? 5 : 10) == 0 { print(String(format: "   epoch %2d  mean loss %.6f", epoch, meanLoss())) }
}
let errW = withNoGrad { (wv - a).abs().max().item() }, errB = withNoGrad { (bv - c).abs().max().item() }
print("   learned W \(wv.flatten().toArray(as: Double.self).map { String(format: "%.3f", $0) }) (true \(a.flatten().toArray(as: Double.self)))")
print("   learned b \(bv.toArray(as: Double.self).map { String(format: "%.3f", $0) }) (true \(c.toArray(as: Double.self)))")
guard gapB < 1e-12, gapW < 1e-12, errW < 0.05, errB < 0.05 else {
    print("FAILED: hand gradients differ from autograd (\(gapB), \(gapW)) or descent did not recover the map (\(errW), \(errB))")
    exit(1)
}

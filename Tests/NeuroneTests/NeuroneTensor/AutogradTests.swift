import Foundation
import XCTest
@testable import Neurone
@testable import NeuroneDevice
@testable import NeuroneCPU
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneOptim
@testable import NeuroneIO
@testable import NeuroneData
@testable import NeuronePlots
@testable import NeuroneTraining
@testable import NeuroneExplain

final class AutogradTests: XCTestCase {
    func testGradientsAccumulateAcrossBackwardCalls() {
        let x = Tensor([1.0, 2.0, 3.0], dtype: .float64).requiringGrad()
        (x * x).sum().backward()
        XCTAssertEqual(x.grad!.doubles, [2, 4, 6])
        (x * 3.0).sum().backward()
        XCTAssertEqual(x.grad!.doubles, [5, 7, 9])
    }

    /// The fused activation gradients agree with PyTorch at the edges: relu passes the gradient
    /// only where the input is > 0 or NaN (threshold_backward), tanh and sigmoid use the output.
    func testActivationGradientsAtTheEdges() {
        for dt in [DType.float32, .float64] {
            let x = Tensor([Double.nan, -1, 0, 2, 30], shape: [5]).to(dt).requiringGrad()
            x.relu().backward(Tensor.ones([5], dtype: dt))
            XCTAssertEqual(x.grad!.to(.float64).toArray(as: Double.self), [1, 0, 0, 1, 1], "relu \(dt)")
            let t = Tensor([0.5, -2, 30], shape: [3]).to(dt).requiringGrad()
            t.tanh().backward(Tensor([2.0, 1, 1]).to(dt))
            let gt = t.grad!.to(.float64).toArray(as: Double.self)
            XCTAssertEqual(gt[0], 2 * (1 - Foundation.tanh(0.5) * Foundation.tanh(0.5)), accuracy: 1e-6)
            XCTAssertEqual(gt[1], 1 - Foundation.tanh(2.0) * Foundation.tanh(2.0), accuracy: 1e-6)
            XCTAssertEqual(gt[2], 0)
            let s = Tensor([0.0, 3], shape: [2]).to(dt).requiringGrad()
            s.sigmoid().backward(Tensor([1.0, 1]).to(dt))
            let gs = s.grad!.to(.float64).toArray(as: Double.self)
            XCTAssertEqual(gs[0], 0.25, accuracy: 1e-7)
            let sg = 1 / (1 + Foundation.exp(-3.0))
            XCTAssertEqual(gs[1], sg * (1 - sg), accuracy: 1e-6)
        }
    }

    func testExplicitUpstreamGradient() {
        let x = Tensor([1.0, 2.0], dtype: .float64).requiringGrad()
        let y = x * x
        y.backward(Tensor([10.0, 100.0], dtype: .float64))
        XCTAssertEqual(x.grad!.doubles, [20, 400])
    }

    func testNoGradScopeRecordsNothing() {
        let x = Tensor([1.0, 2.0]).requiringGrad()
        let y = withNoGrad { x * 2.0 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.gradFnName)
        let z = x * 2.0
        XCTAssertTrue(z.requiresGrad)
        XCTAssertEqual(z.gradFnName, "MulBackward")
    }

    func testDetachCutsTheGraphButSharesData() {
        let x = Tensor([1.0, 2.0]).requiringGrad()
        let d = (x * 2.0).detach()
        XCTAssertFalse(d.requiresGrad)
        XCTAssertTrue(d.isLeaf)
        let y = (x * d).sum()
        y.backward()
        XCTAssertEqual(x.grad!.floats, [2, 4])
    }

    func testRetainGraphAllowsASecondBackward() {
        let x = Tensor([3.0], dtype: .float64).requiringGrad()
        let y = (x * x).sum()
        y.backward(retainGraph: true)
        y.backward()
        XCTAssertEqual(x.grad!.doubles, [12])
    }

    func testGraphIsFreedAfterBackward() {
        let x = Tensor([3.0], dtype: .float64).requiringGrad()
        let y = (x.exp() * x).sum()
        y.backward()
        XCTAssertTrue(y.gradFn!.freed)
        XCTAssertNil(y.gradFn!.backward)
        XCTAssertTrue(y.gradFn!.inputs.isEmpty)
    }

    func testSharedSubexpressionGetsBothContributions() {
        let x = Tensor([2.0], dtype: .float64).requiringGrad()
        let a = x * x          // used twice below
        let y = (a * a + a).sum()  // x⁴ + x² → 4x³ + 2x = 36
        y.backward()
        XCTAssertEqual(x.grad!.doubles[0], 36, accuracy: 1e-12)
    }

    func testRetainGradOnIntermediate() {
        let x = Tensor([1.0, 2.0], dtype: .float64).requiringGrad()
        let h = x * 3.0
        h.retainGrad()
        (h * h).sum().backward()
        XCTAssertEqual(h.grad!.doubles, [6, 12])
        XCTAssertEqual(x.grad!.doubles, [18, 36])
    }

    func testGradientThroughBroadcastSumsToInputShape() {
        let b = Tensor([1.0, 2.0, 3.0]).requiringGrad()
        let x = Tensor.ones([4, 3])
        (x + b).sum().backward()
        XCTAssertEqual(b.grad!.shape, [3])
        XCTAssertEqual(b.grad!.floats, [4, 4, 4])
    }

    func testDeepChainDoesNotOverflowTheStack() {
        let x = Tensor([1.0], dtype: .float64).requiringGrad()
        var y = x
        for _ in 0..<20_000 { y = y * 1.0 }
        y.sum().backward()
        XCTAssertEqual(x.grad!.doubles, [1])
    }

    func testCastPassesTheGradientBackInTheInputDType() {
        let x = Tensor([1.0, 2.0], dtype: .float64).requiringGrad()
        (x.to(.float32) * 3.0).sum().backward()
        XCTAssertEqual(x.grad!.dtype, .float64)
        XCTAssertEqual(x.grad!.doubles, [3, 3])
    }

    func testFloatLeafCanRequireGrad() {
        let t = Tensor([1.0, 2.0])
        t.requiresGrad = true
        XCTAssertTrue(t.requiresGrad)
        XCTAssertTrue(t.isLeaf)
    }

    /// The course's worked example (2-2-2 sigmoid network, E = Σ ½(y − a)²): gradients by
    /// autograd equal the chain rule written out by hand.
    func testWorkedBackpropExampleMatchesHandDerivation() {
        let x = Tensor([0.05, 0.10], dtype: .float64)
        let y = Tensor([0.01, 0.99], dtype: .float64)
        let w1 = Tensor([0.15, 0.20, 0.25, 0.30], shape: [2, 2], dtype: .float64).requiringGrad()  // rows: h1, h2
        let w2 = Tensor([0.40, 0.45, 0.50, 0.55], shape: [2, 2], dtype: .float64).requiringGrad()
        let b1 = Tensor(0.35, dtype: .float64).requiringGrad(), b2 = Tensor(0.60, dtype: .float64).requiringGrad()
        let h = (w1.matmul(x) + b1).sigmoid()
        let o = (w2.matmul(h) + b2).sigmoid()
        let e = ((y - o).square() * 0.5).sum()
        e.backward()
        // Hand derivation with Swift doubles.
        func s(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }
        let hv = [s(0.15 * 0.05 + 0.20 * 0.10 + 0.35), s(0.25 * 0.05 + 0.30 * 0.10 + 0.35)]
        let ov = [s(0.40 * hv[0] + 0.45 * hv[1] + 0.60), s(0.50 * hv[0] + 0.55 * hv[1] + 0.60)]
        let delta = [(ov[0] - 0.01) * ov[0] * (1 - ov[0]), (ov[1] - 0.99) * ov[1] * (1 - ov[1])]
        let gw5 = delta[0] * hv[0]
        XCTAssertEqual(w2.grad!.doubles[0], gw5, accuracy: 1e-15)
        XCTAssertEqual(gw5, 0.082167041, accuracy: 1e-9)  // the textbook value ∂E/∂w5
        let dh1 = delta[0] * 0.40 + delta[1] * 0.50
        let gw1 = dh1 * hv[0] * (1 - hv[0]) * 0.05
        XCTAssertEqual(w1.grad!.doubles[0], gw1, accuracy: 1e-15)
        XCTAssertEqual(b2.grad!.item(), delta[0] + delta[1], accuracy: 1e-15)
        XCTAssertEqual(e.item(), 0.298371109, accuracy: 1e-9)
    }
}

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

final class ModuleTests: XCTestCase {
    /// The reference PyTorch MNIST example's layout, written as a custom module.
    final class MnistNet: Module {
        let conv1 = Conv2d(1, 32, kernelSize: 3)
        let conv2 = Conv2d(32, 64, kernelSize: 3)
        let dropout1 = Dropout(0.25)
        let dropout2 = Dropout(0.5)
        let fc1 = Linear(9216, 128)
        let fc2 = Linear(128, 10)

        override func forward(_ x: Tensor) -> Tensor {
            var h = conv1(x).relu()
            h = conv2(h).relu().maxPool2d(kernel: [2])
            h = dropout1(h).flatten(startDim: 1)
            h = dropout2(fc1(h).relu())
            return fc2(h).logSoftmax(dim: 1)
        }
    }

    func testNamesMatchPyTorchStateDict() {
        let net = MnistNet()
        XCTAssertEqual(net.stateDict().map { $0.0 },
                       ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        XCTAssertEqual(net.conv1.weight.shape, [32, 1, 3, 3])
        XCTAssertEqual(net.fc1.weight.shape, [128, 9216])
        XCTAssertEqual(net.parameterCount, 1_199_882)   // the count PyTorch prints for this network
        let seq = Sequential(Linear(2, 3), ReLU(), Linear(3, 1, bias: false), BatchNorm1d(1))
        XCTAssertEqual(seq.stateDict().map { $0.0 },
                       ["0.weight", "0.bias", "2.weight", "3.weight", "3.bias", "3.running_mean", "3.running_var", "3.num_batches_tracked"])
        XCTAssertEqual(seq.namedParameters().map { $0.0 }, ["0.weight", "0.bias", "2.weight", "3.weight", "3.bias"])
        final class Blocks: Module {
            let blocks: [Module] = [Linear(2, 2), Linear(2, 2)]
            let head: Linear? = Linear(2, 1)
            let missing: Linear? = nil
        }
        XCTAssertEqual(Blocks().stateDict().map { $0.0 }, ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "head.weight", "head.bias"])
    }

    func testForwardShapesOfTheMnistNetwork() {
        let net = MnistNet()
        net.eval()
        let y = withNoGrad { net(Tensor.randn([2, 1, 28, 28], generator: Generator(seed: 1))) }
        XCTAssertEqual(y.shape, [2, 10])
        // log-softmax rows exponentiate to probability vectors
        for row in y.exp().sum(dim: 1).floats { XCTAssertEqual(row, 1, accuracy: 1e-5) }
    }

    func testStateDictRoundTripAndErrors() throws {
        let a = Sequential(Linear(3, 2), Tanh(), Linear(2, 2))
        let b = Sequential(Linear(3, 2), Tanh(), Linear(2, 2))
        try b.loadStateDict(Dictionary(uniqueKeysWithValues: a.stateDict()))
        let x = Tensor.randn([4, 3])
        XCTAssertEqual(withNoGrad { a(x) }.floats, withNoGrad { b(x) }.floats)
        // loading copies in place: parameter identity is kept (optimisers hold references)
        let w = b.parameters()[0]
        try b.loadStateDict(Dictionary(uniqueKeysWithValues: a.stateDict()))
        XCTAssertTrue(w === b.parameters()[0])

        var bad = Dictionary(uniqueKeysWithValues: a.stateDict())
        bad["0.weight"] = Tensor.zeros([5, 3])
        bad.removeValue(forKey: "2.bias")
        bad["extra.weight"] = Tensor.zeros([1])
        XCTAssertThrowsError(try b.loadStateDict(bad)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("missing keys: 2.bias"), text)
            XCTAssertTrue(text.contains("unexpected keys: extra.weight"), text)
            XCTAssertTrue(text.contains("0.weight: expected shape [2, 3], found [5, 3]"), text)
        }
        // nothing was changed by the failed load
        XCTAssertEqual(withNoGrad { b(x) }.floats, withNoGrad { a(x) }.floats)
        // non-strict loading ignores missing and unexpected keys but not shape mismatches
        bad["0.weight"] = Tensor.zeros([2, 3])
        XCTAssertNoThrow(try b.loadStateDict(bad, strict: false))
        XCTAssertEqual(b.parameters()[0].floats, [0, 0, 0, 0, 0, 0])
    }

    func testHandWiredWeightsTrainEvalFreeze() {
        // The course's XOR network, wired by hand: h = step-like ReLU units, y = h1 − 2·h2.
        let net = Sequential(Linear(2, 2), ReLU(), Linear(2, 1))
        net.set("0.weight", to: [1.0, 1.0, 1.0, 1.0])
        net.set("0.bias", to: [0.0, -1.0])
        net.set("2.weight", to: [1.0, -2.0])
        net.set("2.bias", to: [0.0])
        let x = Tensor([0, 0, 0, 1, 1, 0, 1, 1] as [Float], shape: [4, 2])
        XCTAssertEqual(withNoGrad { net(x) }.floats, [0, 1, 1, 0])
        XCTAssertEqual(net.trainableParameterCount, 9)
        net.freeze()
        XCTAssertEqual(net.trainableParameterCount, 0)
        XCTAssertFalse(net(x).requiresGrad)
        net.unfreeze()
        XCTAssertTrue(net(x).requiresGrad)
        let d = Sequential(Dropout(0.5))
        XCTAssertTrue(d[0].isTraining)
        d.eval()
        XCTAssertFalse(d[0].isTraining)
        XCTAssertEqual(d(Tensor.ones([100])).floats, [Float](repeating: 1, count: 100))
    }

    /// The slides' 2×2-pixel images classified by a hand-wired network with ±1 weights, one call per layer.
    func testHandWiredLayerInOneCall() {
        let layer = Linear(4, 2)
        layer.assign(weight: [[1, 1, -1, -1], [1, -1, 1, -1]], bias: [0])
        XCTAssertEqual(layer.weight.floats, [1, 1, -1, -1, 1, -1, 1, -1])
        XCTAssertEqual(layer.bias!.floats, [0, 0])
        let horizontal = Tensor([1.0, 1.0, 0.0, 0.0], shape: [1, 4]), vertical = Tensor([1.0, 0.0, 1.0, 0.0], shape: [1, 4])
        XCTAssertEqual(withNoGrad { layer(horizontal) }.floats, [2, 0])
        XCTAssertEqual(withNoGrad { layer(vertical) }.floats, [0, 2])
    }

    func testZeroGradAndParameterGradients() {
        let lin = Linear(3, 1)
        Loss.mse(lin(Tensor.ones([2, 3])), Tensor.zeros([2, 1])).backward()
        XCTAssertNotNil(lin.weight.grad)
        lin.zeroGrad()
        XCTAssertNil(lin.weight.grad)
    }

    func testDescriptionLikePyTorch() {
        let net = Sequential(Linear(2, 3), ReLU())
        XCTAssertEqual(net.description, "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)")
    }

    func testDefaultInitialisationsFollowPyTorch() {
        let g = Generator(seed: 3)
        let lin = Linear(400, 50, generator: g)
        let bound = 1 / 400.0.squareRoot()
        XCTAssertLessThanOrEqual(lin.weight.abs().max().item(), bound)
        XCTAssertGreaterThan(lin.weight.abs().max().item(), bound * 0.98)
        XCTAssertLessThanOrEqual(lin.bias!.abs().max().item(), bound)
        XCTAssertEqual(lin.weight.std().item(), bound / 3.0.squareRoot(), accuracy: bound * 0.03)
        let conv = Conv2d(4, 8, kernelSize: 3, generator: g)
        XCTAssertLessThanOrEqual(conv.weight.abs().max().item(), 1 / 36.0.squareRoot())
        XCTAssertEqual(PReLU().weight.floats, [0.25])
        let bn = BatchNorm2d(3)
        XCTAssertEqual(bn.weight!.floats, [1, 1, 1])
        XCTAssertEqual(bn.runningVar.floats, [1, 1, 1])
        let emb = Embedding(1000, 8, paddingIdx: 0, generator: g)
        XCTAssertEqual(emb.weight.select(dim: 0, index: 0).floats, [Float](repeating: 0, count: 8))
        XCTAssertEqual(emb.weight.std().item(), 1, accuracy: 0.05)
        // the same seed gives the same network
        XCTAssertEqual(Linear(3, 2, generator: Generator(seed: 9)).weight.floats, Linear(3, 2, generator: Generator(seed: 9)).weight.floats)
    }

    func testInitialisers() {
        let g = Generator(seed: 4)
        let w = Tensor.zeros([200, 300])
        Init.xavierUniform(w, generator: g)
        let a = (6.0 / 500).squareRoot()
        XCTAssertLessThanOrEqual(w.abs().max().item(), a)
        XCTAssertEqual(w.std().item(), a / 3.0.squareRoot(), accuracy: a * 0.02)
        Init.xavierNormal(w, gain: 2, generator: g)
        XCTAssertEqual(w.std().item(), 2 * (2.0 / 500).squareRoot(), accuracy: 0.003)
        Init.kaimingNormal(w, mode: .fanIn, nonlinearity: .relu, generator: g)
        XCTAssertEqual(w.std().item(), (2.0 / 300).squareRoot(), accuracy: 0.002)
        Init.kaimingUniform(w, mode: .fanOut, nonlinearity: .relu, generator: g)
        XCTAssertLessThanOrEqual(w.abs().max().item(), 2.0.squareRoot() * (3.0 / 200).squareRoot() + 1e-6)
        let c = Tensor.zeros([4, 3, 5, 5])
        XCTAssertEqual(Init.fans(c.shape).fanIn, 75)
        XCTAssertEqual(Init.fans(c.shape).fanOut, 100)
        XCTAssertEqual(Nonlinearity.tanh.gain, 5.0 / 3.0)
        XCTAssertEqual(Nonlinearity.leakyRelu(negativeSlope: 0.01).gain, (2.0 / 1.0001).squareRoot(), accuracy: 1e-12)
        for shape in [[5, 3], [3, 5], [4, 2, 3]] {
            let q = Tensor.zeros(shape, dtype: .float64)
            Init.orthogonal(q, gain: 1, generator: g)
            let m = q.reshape([shape[0], -1])
            let gram = m.rows >= m.shape[1] ? m.T.matmul(m) : m.matmul(m.T)
            let eye = Tensor.eye(gram.shape[0], dtype: .float64)
            XCTAssertLessThan((gram - eye).abs().max().item(), 1e-12, "orthogonal \(shape)")
        }
        Init.constant(w, 0.5)
        XCTAssertEqual(w.mean().item(), 0.5)
    }

    func testDropoutKeepsExpectationAndIsSeeded() {
        let x = Tensor.ones([100_000])
        let y = x.dropout(p: 0.3, generator: Generator(seed: 5))
        XCTAssertEqual(y.mean().item(), 1, accuracy: 0.01)
        let zeros = (y .== 0.0).to(.float32).mean().item()
        XCTAssertEqual(zeros, 0.3, accuracy: 0.01)
        XCTAssertEqual(Set(y.floats), [0, Float(1 / 0.7)])
        XCTAssertEqual(x.dropout(p: 0.3, generator: Generator(seed: 5)).floats, y.floats)
        let d2 = Dropout2d(0.5, generator: Generator(seed: 6))(Tensor.ones([2, 8, 3, 3]))
        for n in 0..<2 { for c in 0..<8 {
            let v = Set(d2[n, c].floats)
            XCTAssertEqual(v.count, 1, "a whole channel is kept or dropped")
        } }
    }
}

private extension Tensor {
    var rows: Int { shape[0] }
}

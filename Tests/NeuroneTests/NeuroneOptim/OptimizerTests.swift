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

/// Optimisers, schedules and clipping against torch.optim (scripts/make_optim_reference.py).
final class OptimizerTests: XCTestCase {
    typealias JSONValue = ReferenceTests.JSONValue

    struct T64: Decodable {
        let shape: [Int]
        let data: [Double]
        var tensor: Tensor { Tensor(data, shape: shape, dtype: .float64) }
    }

    struct Case: Decodable {
        let name: String
        let optimizer: String
        let args: [String: JSONValue]
        let trajectory: [[T64]]
    }

    struct Clip: Decodable {
        let normType: JSONValue
        let total: Double
        let grads: [T64]
    }

    struct File: Decodable {
        let params: [T64]
        let grads: [[T64]]
        let cases: [Case]
        let schedules: [String: [Double]]
        let plateauMetrics: [Double]
        let clip: [Clip]
    }

    static func load() throws -> File {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "optim", withExtension: "json", subdirectory: "Reference"))
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }

    func make(_ c: Case, _ ps: [Tensor]) -> Optimizer {
        let a = c.args
        func d(_ k: String, _ dflt: Double) -> Double { a[k]?.double ?? dflt }
        func b(_ k: String) -> Bool { a[k]?.bool ?? false }
        switch c.optimizer {
        case "SGD": return SGD(ps, lr: d("lr", 0.001), momentum: d("momentum", 0), dampening: d("dampening", 0), weightDecay: d("weight_decay", 0),
                               nesterov: b("nesterov"), maximize: b("maximize"))
        case "Adam", "AdamW":
            let betas = a["betas"].map { v -> (Double, Double) in
                if case .array(let x) = v { return (x[0].double, x[1].double) } else { return (0.9, 0.999) }
            } ?? (0.9, 0.999)
            return c.optimizer == "Adam"
                ? Adam(ps, lr: d("lr", 0.001), betas: betas, weightDecay: d("weight_decay", 0), amsgrad: b("amsgrad"))
                : AdamW(ps, lr: d("lr", 0.001), betas: betas, weightDecay: d("weight_decay", 0.01), amsgrad: b("amsgrad"))
        case "RMSprop": return RMSprop(ps, lr: d("lr", 0.01), alpha: d("alpha", 0.99), weightDecay: d("weight_decay", 0), momentum: d("momentum", 0), centered: b("centered"))
        case "Adagrad": return Adagrad(ps, lr: d("lr", 0.01), lrDecay: d("lr_decay", 0), weightDecay: d("weight_decay", 0),
                                       initialAccumulatorValue: d("initial_accumulator_value", 0))
        case "Adadelta": return Adadelta(ps, lr: d("lr", 1), rho: d("rho", 0.9), weightDecay: d("weight_decay", 0))
        case "SGDGroups":
            return SGD(groups: [([ps[0]], SGD.Options(lr: 0.1)), ([ps[1]], SGD.Options(lr: 0.5, momentum: 0.5))])
        default: fatalError("unknown optimizer \(c.optimizer)")
        }
    }

    func testOptimizersMatchTorchOptim() throws {
        let f = try Self.load()
        XCTAssertEqual(f.cases.count, 16)
        for c in f.cases {
            let ps = f.params.map { $0.tensor.requiringGrad() }
            let opt = make(c, ps)
            for (t, expected) in c.trajectory.enumerated() {
                for (p, g) in zip(ps, f.grads[t]) { p.grad = g.tensor }
                opt.step()
                for (i, (p, e)) in zip(ps, expected).enumerated() {
                    let err = (p - e.tensor).abs().max().item()
                    XCTAssertLessThan(err, 1e-12, "\(c.name): step \(t + 1), parameter \(i) differs by \(err)")
                }
            }
            opt.zeroGrad()
            XCTAssertTrue(ps.allSatisfy { $0.grad == nil })
        }
    }

    /// The fused in-place updates (contiguous parameters) and the tensor-op fallback (a
    /// non-contiguous parameter) give the same trajectory, in float32 and float64.
    func testFusedAndFallbackUpdatesAgree() {
        for dtype in [DType.float32, .float64] {
            let g = Generator(seed: 4)
            let start = Tensor.randn([4, 3], dtype: dtype, generator: g)
            let grads = (0..<4).map { _ in Tensor.randn([4, 3], dtype: dtype, generator: g) }
            let makers: [(String, ([Tensor]) -> Optimizer)] = [
                ("sgd momentum dampening wd", { SGD($0, lr: 0.1, momentum: 0.9, dampening: 0.2, weightDecay: 0.01) }),
                ("sgd nesterov maximize", { SGD($0, lr: 0.1, momentum: 0.5, nesterov: true, maximize: true) }),
                ("plain sgd wd", { SGD($0, lr: 0.1, weightDecay: 0.03) }),
                ("plain sgd maximize", { SGD($0, lr: 0.2, maximize: true) }),
                ("adadelta", { Adadelta($0, lr: 0.7, rho: 0.8, weightDecay: 0.02) }),
            ]
            for (name, make) in makers {
                let contiguous = start.clone().detach().requiringGrad()
                let strided = start.T.contiguous().T.detach().requiringGrad()   // same values, column-major
                XCTAssertFalse(strided.isContiguous)
                let o1 = make([contiguous]), o2 = make([strided])
                for gr in grads {
                    contiguous.grad = gr
                    strided.grad = gr
                    o1.step()
                    o2.step()
                }
                let err = (contiguous - strided).abs().max().item()
                XCTAssertLessThan(err, dtype == .float32 ? 1e-6 : 1e-14, "\(name) \(dtype)")
            }
        }
    }

    /// The AlexNet paper's update written out by hand equals SGD(momentum: 0.9, weightDecay: 0.0005).
    func testAlexNetUpdateRule() {
        let g = Generator(seed: 3)
        let w0 = Tensor.randn([4], dtype: .float64, generator: g)
        let grads = (0..<6).map { _ in Tensor.randn([4], dtype: .float64, generator: g) }
        let eps = 0.01
        var v = Tensor.zeros([4], dtype: .float64), w = w0
        for grad in grads {
            v = v * 0.9 - w * (0.0005 * eps) - grad * eps
            w = w + v
        }
        let p = w0.clone().detach().requiringGrad()
        let sgd = SGD([p], lr: eps, momentum: 0.9, weightDecay: 0.0005)
        for grad in grads { p.grad = grad; sgd.step() }
        XCTAssertLessThan((p - w).abs().max().item(), 1e-15)
    }

    func testSchedulesMatchTorch() throws {
        let f = try Self.load()
        func run(_ make: (Optimizer) -> LRScheduler, _ n: Int) -> [Double] {
            let sgd = SGD([Tensor.zeros([1]).requiringGrad()], lr: 0.1)
            let s = make(sgd)
            return (0..<n).map { _ in s.step(); return sgd.learningRates[0] }
        }
        func close(_ a: [Double], _ b: [Double], _ name: String) {
            XCTAssertEqual(a.count, b.count, name)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-12, name) }
        }
        close(run({ StepLR($0, stepSize: 2, gamma: 0.5) }, 7), f.schedules["StepLR"]!, "StepLR")
        close(run({ ExponentialLR($0, gamma: 0.9) }, 6), f.schedules["ExponentialLR"]!, "ExponentialLR")
        close(run({ CosineAnnealingLR($0, tMax: 5, etaMin: 0.01) }, 12), f.schedules["CosineAnnealingLR"]!, "CosineAnnealingLR")
        let sgd = SGD([Tensor.zeros([1]).requiringGrad()], lr: 0.1)
        let plateau = ReduceLROnPlateau(sgd, factor: 0.5, patience: 2, cooldown: 1)
        let lrs = f.plateauMetrics.map { m -> Double in plateau.step(m); return sgd.learningRates[0] }
        close(lrs, f.schedules["ReduceLROnPlateau"]!, "ReduceLROnPlateau")
    }

    func testGradientClippingMatchesTorch() throws {
        let f = try Self.load()
        for c in f.clip {
            let ps = f.params.map { $0.tensor.requiringGrad() }
            for (p, g) in zip(ps, f.grads[0]) { p.grad = g.tensor * 3.0 }
            let normType: Double = { if case .string = c.normType { return .infinity } else { return c.normType.double } }()
            let total = GradientClipping.clipNorm(ps, maxNorm: 1.5, normType: normType)
            XCTAssertEqual(total, c.total, accuracy: 1e-9, "norm \(normType)")
            for (p, e) in zip(ps, c.grads) { XCTAssertLessThan((p.grad! - e.tensor).abs().max().item(), 1e-12, "norm \(normType)") }
        }
        let p = Tensor([-3.0, 0.5, 2.0], dtype: .float64).requiringGrad()
        p.grad = Tensor([-3.0, 0.5, 2.0], dtype: .float64)
        GradientClipping.clipValue([p], 1)
        XCTAssertEqual(p.grad!.doubles, [-1, 0.5, 1])
    }

    /// A small regression learns: SGD drives the course's 2-2-2 example's error down.
    func testTrainingReducesTheLoss() {
        let net = Sequential(Linear(2, 2, dtype: .float64), Sigmoid(), Linear(2, 2, dtype: .float64), Sigmoid())
        net.set("0.weight", to: [0.15, 0.20, 0.25, 0.30]); net.set("0.bias", to: [0.35, 0.35])
        net.set("2.weight", to: [0.40, 0.45, 0.50, 0.55]); net.set("2.bias", to: [0.60, 0.60])
        let x = Tensor([0.05, 0.10], shape: [1, 2], dtype: .float64), y = Tensor([0.01, 0.99], shape: [1, 2], dtype: .float64)
        let opt = SGD(net.parameters(), lr: 0.5)
        var first = 0.0, last = 0.0
        for step in 0..<1000 {
            opt.zeroGrad()
            let e = Loss.halfSumSquaredError(net(x), y)
            e.backward()
            opt.step()
            if step == 0 { first = e.item() }
            last = e.item()
        }
        XCTAssertEqual(first, 0.298371109, accuracy: 1e-9)
        XCTAssertLessThan(last, 0.001)
    }
}

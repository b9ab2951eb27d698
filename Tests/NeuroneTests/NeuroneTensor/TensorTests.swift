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

final class TensorTests: XCTestCase {
    func testCreationAndDTypes() {
        XCTAssertEqual(Tensor([1.0, 2.0]).dtype, .float32)
        XCTAssertEqual(Tensor([1, 2]).dtype, .int64)
        XCTAssertEqual(Tensor([Float(1)]).dtype, .float32)
        XCTAssertEqual(Tensor([1.0], dtype: .float64).dtype, .float64)
        XCTAssertEqual(Tensor([Int32(3)]).dtype, .int32)
        XCTAssertEqual(Tensor([true, false]).dtype, .bool)
        let t = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: .float64)
        XCTAssertEqual(t.shape, [2, 3])
        XCTAssertEqual(t.strides, [3, 1])
        XCTAssertEqual(t.doubles, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Tensor(rows: [[1.0, 2.0], [3.0, 4.0]]).floats, [1, 2, 3, 4])
        XCTAssertEqual(Tensor(7).shape, [])
        XCTAssertEqual(Tensor(7).item(), 7)
        XCTAssertEqual(Tensor(Int64.max).item(as: Int64.self), Int64.max)
        XCTAssertEqual(Tensor.zeros([2, 2]).floats, [0, 0, 0, 0])
        XCTAssertEqual(Tensor.ones([3], dtype: .int32).toArray(as: Int32.self), [1, 1, 1])
        XCTAssertEqual(Tensor.full([2], 2.5).floats, [2.5, 2.5])
        XCTAssertEqual(Tensor.zeros(like: t).shape, [2, 3])
        XCTAssertEqual(Tensor.zeros(like: t).dtype, .float64)
        XCTAssertEqual(Tensor.eye(2, 3).floats, [1, 0, 0, 0, 1, 0])
        XCTAssertEqual(Tensor.arange(5).toArray(as: Int.self), [0, 1, 2, 3, 4])
        XCTAssertEqual(Tensor.arange(1, 2, step: 0.25).floats, [1, 1.25, 1.5, 1.75])
        XCTAssertEqual(Tensor.arange(1, 2, step: 0.25).dtype, .float32)
        XCTAssertEqual(Tensor.linspace(0, 1, count: 5).floats, [0, 0.25, 0.5, 0.75, 1])
    }

    /// A buffer the cache hands back dirty comes out of `zeros` all zeros, and every element of a
    /// large fill is set.
    func testLargeZerosAndFillsCoverEveryElement() {
        for count in [65_536, 65_537, 300_001] {
            for dt in [DType.float32, .float64, .int32] {
                do { _ = Tensor.full([count], 7, dtype: dt) }  // returned to the cache dirty
                let z = Tensor.zeros([count], dtype: dt)
                XCTAssertEqual(z.toArray(as: Double.self).firstIndex { $0 != 0 }, nil, "zeros \(dt) \(count)")
                let f = Tensor.full([count], -3, dtype: dt)
                XCTAssertEqual(f.toArray(as: Double.self).firstIndex { $0 != -3 }, nil, "full \(dt) \(count)")
            }
        }
    }

    func testCastsSaturateAndTruncateLikeC() {
        let x = Tensor([1.9, -1.9, 3e10, .nan], dtype: .float64)
        XCTAssertEqual(x.to(.int32).toArray(as: Int32.self), [1, -1, Int32.max, 0])
        XCTAssertEqual(Tensor([0.0, 2.0, -1.0]).to(.bool).toArray(as: Bool.self), [false, true, true])
        XCTAssertEqual(Tensor([true, false]).to(.float32).floats, [1, 0])
        XCTAssertEqual(Tensor([Int64(1) << 40]).to(.float64).doubles, [Double(Int64(1) << 40)])
    }

    func testViewsShareStorage() {
        let t = Tensor.arange(0, 24, dtype: .float32).reshape([2, 3, 4])
        let v = t.permute(2, 0, 1)
        XCTAssertTrue(v.storage === t.storage)
        XCTAssertEqual(v.shape, [4, 2, 3])
        XCTAssertEqual(v.strides, [1, 12, 4])
        XCTAssertFalse(v.isContiguous)
        let s = t[.all, .range(0..<3, step: 2), .every(2)]
        XCTAssertTrue(s.storage === t.storage)
        XCTAssertEqual(s.shape, [2, 2, 2])
        XCTAssertEqual(s.floats, [0, 2, 8, 10, 12, 14, 20, 22])
        let e = Tensor([1.0, 2.0]).reshape([2, 1]).expand([2, 3])
        XCTAssertEqual(e.strides, [1, 0])
        XCTAssertEqual(e.floats, [1, 1, 1, 2, 2, 2])
        XCTAssertTrue(t.reshape([6, 4]).storage === t.storage)
        XCTAssertTrue(t.unsqueeze(0).squeeze(0).storage === t.storage)
        XCTAssertTrue(t.select(dim: 1, index: 2).storage === t.storage)
        XCTAssertEqual(t.select(dim: 1, index: -1).floats, [8, 9, 10, 11, 20, 21, 22, 23])
        // reshape of a non-contiguous view copies; contiguous() makes a new buffer
        XCTAssertFalse(v.reshape([-1]).storage === t.storage)
        XCTAssertEqual(v.contiguous().strides, [6, 3, 1])
        XCTAssertEqual(t.mT.shape, [2, 4, 3])
        XCTAssertEqual(Tensor.ones([2, 3]).T.shape, [3, 2])
    }

    func testBroadcastShapes() {
        XCTAssertEqual(broadcastShapes([3, 1], [1, 4]), [3, 4])
        XCTAssertEqual(broadcastShapes([2, 1, 5], [3, 1]), [2, 3, 5])
        XCTAssertEqual(broadcastShapes([], [2, 2]), [2, 2])
        XCTAssertEqual(broadcastShapes([0], [1]), [0])
    }

    func testTypePromotionFollowsPyTorch() {
        let i = Tensor([1, 2]), f = Tensor([1.0, 2.0]), d = Tensor([1.0, 2.0], dtype: .float64), b = Tensor([true, false])
        XCTAssertEqual((i + f).dtype, .float32)
        XCTAssertEqual((f + d).dtype, .float64)
        XCTAssertEqual((i + 1).dtype, .int64)
        XCTAssertEqual((i + 1.5).dtype, .float32)
        XCTAssertEqual((i / 2).dtype, .float32)
        XCTAssertEqual((i / 2).floats, [0.5, 1])
        XCTAssertEqual((b + b).dtype, .bool)
        XCTAssertEqual((b + 1).dtype, .int64)
        XCTAssertEqual((f .> 1.5).dtype, .bool)
        XCTAssertEqual(i.sum().dtype, .int64)
        XCTAssertEqual(b.sum().item(), 1)
        XCTAssertEqual(i.mean().dtype, .float32)
        XCTAssertEqual(Tensor([Int32(5)]).sum().dtype, .int64)
    }

    func testIntegerArithmeticWrapsInsteadOfTrapping() {
        let big = Tensor([Int64.max])
        XCTAssertEqual((big + 1).toArray(as: Int64.self), [Int64.min])
        XCTAssertEqual(Tensor([2]).pow(10).toArray(as: Int.self), [1024])
    }

    func testIEEESpecialValuesPropagate() {
        let x = Tensor([Float.nan, .infinity, -.infinity, 0])
        XCTAssertTrue((x + 1.0).floats[0].isNaN)
        XCTAssertEqual((x * 2.0).floats[1], .infinity)
        XCTAssertEqual(Tensor([1.0, -1.0, 0.0]).log().floats[0], 0)
        XCTAssertTrue(Tensor([-1.0]).log().floats[0].isNaN)
        XCTAssertEqual(Tensor([0.0]).log().floats[0], -.infinity)
        XCTAssertEqual((Tensor([1.0]) / 0.0).floats[0], .infinity)
        XCTAssertTrue(Tensor([1.0, .nan, 3.0]).max().floats[0].isNaN)
        XCTAssertEqual(Tensor([1.0, .nan, 3.0]).argmax().item(), 1)
        XCTAssertTrue(Tensor([Float.nan]).relu().floats[0].isNaN)
        XCTAssertTrue(Tensor([Float.nan]).sigmoid().floats[0].isNaN)
        XCTAssertTrue(Tensor([Float.nan]).exp().floats[0].isNaN)
        XCTAssertEqual(Tensor([Float(1000), -1000]).exp().floats, [.infinity, 0])
        XCTAssertEqual(Tensor([Float(100), -100]).tanh().floats, [1, -1])
        XCTAssertTrue(Tensor([1.0, .nan]).minimum(Tensor([0.0, 0.0])).floats[1].isNaN)
        XCTAssertEqual(Tensor([-Float.infinity, -.infinity]).logsumexp().floats, [-.infinity])
        XCTAssertEqual(x.isNaN().toArray(as: Bool.self), [true, false, false, false])
    }

    /// The CPU's float32 kernels of exp, tanh and sigmoid against Foundation in double precision
    /// over a dense sweep of [-20, 20] and tiny values: tanh (a rational approximation) within 4e-7
    /// and exactly ±1 past 9 and for ±inf, exp and sigmoid within 2 ulp-ish relative error. The
    /// kernels are called on the CPU backend itself, whichever backend the suite runs on.
    func testFloat32TranscendentalsAreAccurate() {
        var xs = stride(from: -20.0, through: 20.0, by: 0.0007).map { Float($0) }
        xs += [1e-30, -1e-20, 1e-6, 3.9e-4, 4.1e-4, 8.99, 9, 9.01, 50, -9, .infinity, -.infinity, 0, -0.0]
        func cpu(_ op: UnaryOp) -> [Float] {
            var out = [Float](repeating: 0, count: xs.count)
            xs.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { CPUBackend.shared.unary(op, dtype: .float32, src.baseAddress!, $0.baseAddress!, count: xs.count) }
            }
            return out
        }
        let th = cpu(.tanh), ex = cpu(.exp), sg = cpu(.sigmoid)
        var worstTanh = 0.0, worstExp = 0.0, worstSigmoid = 0.0
        for (i, x) in xs.enumerated() {
            let d = Double(x)
            worstTanh = max(worstTanh, abs(Double(th[i]) - Foundation.tanh(d)))
            if x.isFinite { worstExp = max(worstExp, abs(Double(ex[i]) - Foundation.exp(d)) / Foundation.exp(d)) }
            let s = 1 / (1 + Foundation.exp(-d))
            worstSigmoid = max(worstSigmoid, abs(Double(sg[i]) - s) / s)
            if abs(x) >= 9 { XCTAssertEqual(th[i], x > 0 ? 1 : -1, "tanh(\(x))") }
            if abs(x) < 4e-4 { XCTAssertEqual(th[i], x, "tanh(\(x)) = x below 4e-4") }
        }
        XCTAssertLessThan(worstTanh, 4e-7)   // 2.6e-7 with FMA (AVX2/AVX-512), 3.2e-7 on the baseline kernel
        XCTAssertLessThan(worstExp, 2.5e-7)
        XCTAssertLessThan(worstSigmoid, 2.5e-7)
        XCTAssertTrue(Tensor([Float.nan]).tanh().floats[0].isNaN)
    }

    /// The float32 sigmoid kernel where its result is tiny (denormal, then 0) and at every tail
    /// length: each value the same at any position and count, nothing written past the count,
    /// NaN kept, and within 2.5e-7 relative (or one denormal step) of the double-precision value.
    func testSigmoidKernelTailsAndTinyResults() {
        let xs: [Float] = [-20, -87, -87.4, -88, -90, -95, -100, -103, -103.97, -104, -150, -.infinity, .infinity, .nan, 0, -0.0, 3, 87.5, 1e-30]
        func sigmoid(_ v: [Float], count: Int) -> [Float] {
            var out = [Float](repeating: 7, count: v.count)
            v.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { CPUBackend.shared.unary(.sigmoid, dtype: .float32, src.baseAddress!, $0.baseAddress!, count: count) }
            }
            return out
        }
        let whole = sigmoid(xs, count: xs.count)
        for (i, x) in xs.enumerated() where !x.isNaN {
            let want = 1 / (1 + Foundation.exp(-Double(x)))
            XCTAssertLessThanOrEqual(abs(Double(whole[i]) - want), max(2.5e-7 * want, 0x1p-149), "sigmoid(\(x))")
        }
        XCTAssertTrue(whole[13].isNaN)
        XCTAssertEqual(whole[9], 0)
        XCTAssertGreaterThan(whole[5], 0)  // sigmoid(-95) ≈ 5.5e-42: denormal, not flushed
        // 1 to 35 values from every offset: the same values, the rest of the buffer untouched
        let many = (0..<40).map { xs[$0 % xs.count] }
        let reference = sigmoid(many, count: many.count)
        for count in 1...35 {
            for offset in [0, 3] {
                let part = Array(many[offset...])
                let got = sigmoid(part, count: count)
                for i in 0..<part.count {
                    if i < count {
                        let want = reference[offset + i]
                        XCTAssertTrue(got[i] == want || (got[i].isNaN && want.isNaN), "count \(count) offset \(offset) at \(i)")
                    } else {
                        XCTAssertEqual(got[i], 7, "count \(count): value \(i) written")
                    }
                }
            }
        }
    }

    func testLargeReductionsAreAccurateAndThreadCountIndependent() {
        let n = 3_000_001
        let x = Tensor.arange(0, Double(n), dtype: .float32) * (1.0 / Double(n))
        let exact = Double(n - 1) / 2.0
        let saved = Threading.threadCount
        defer { Threading.threadCount = saved }
        Threading.threadCount = 1
        let one = x.sum().item()
        Threading.threadCount = 2
        let two = x.sum().item()
        XCTAssertEqual(one, exact, accuracy: exact * 1e-6)
        XCTAssertEqual(two, exact, accuracy: exact * 1e-6)
        XCTAssertEqual(x.mean().item(), exact / Double(n), accuracy: 1e-6)
    }

    func testRandomIsSeededAndThreadIndependent() {
        let a = Tensor.randn([1000], generator: Generator(seed: 3))
        let b = Tensor.randn([1000], generator: Generator(seed: 3))
        XCTAssertEqual(a.floats, b.floats)
        let m = a.mean().item(), s = a.std().item()
        XCTAssertEqual(m, 0, accuracy: 0.1)
        XCTAssertEqual(s, 1, accuracy: 0.1)
        let u = Tensor.uniform([1000], low: -1, high: 3, generator: Generator(seed: 1))
        XCTAssertGreaterThanOrEqual(u.min().item(), -1)
        XCTAssertLessThan(u.max().item(), 3)
        let k = Tensor.randint(5, 8, [1000], generator: Generator(seed: 2))
        XCTAssertEqual(Set(k.toArray(as: Int.self)), [5, 6, 7])
        manualSeed(11)
        let c = Tensor.rand([4])
        manualSeed(11)
        XCTAssertEqual(Tensor.rand([4]).floats, c.floats)
        let n = Tensor.normal([2000], mean: 5, std: 2, dtype: .float64, generator: Generator(seed: 9))
        XCTAssertEqual(n.mean().item(), 5, accuracy: 0.2)
    }

    func testDescriptionLooksLikePyTorch() {
        XCTAssertEqual(Tensor(rows: [[1.0, 2.0], [3.0, 4.0]]).description, "tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2])")
        XCTAssertEqual(Tensor([0.5, 1.25], dtype: .float64).description, "tensor([0.5000, 1.2500], shape=[2], dtype=float64)")
        XCTAssertEqual(Tensor([1, 20]).description, "tensor([ 1, 20], shape=[2])")
        XCTAssertEqual(Tensor([true, false]).description, "tensor([ True, False], shape=[2], dtype=bool)")
        XCTAssertEqual(Tensor(3.5).description, "tensor(3.5000)")
        XCTAssertEqual(Tensor([1e-6, 1.0]).description, "tensor([1.0000e-06, 1.0000e+00], shape=[2])")
        let big = Tensor.arange(0, 2000, dtype: .float32).reshape([2, 1000])
        XCTAssertEqual(big.description, "tensor([[   0.,    1.,    2., ...,  997.,  998.,  999.],\n        [1000., 1001., 1002., ..., 1997., 1998., 1999.]], shape=[2, 1000])")
        let g = Tensor([1.0]).requiringGrad()
        XCTAssertEqual((g * 2.0).description, "tensor([2.], shape=[1], gradFn=<MulBackward>)")
        XCTAssertEqual(Tensor.zeros([2, 2, 2]).description, "tensor([[[0., 0.],\n         [0., 0.]],\n\n        [[0., 0.],\n         [0., 0.]]], shape=[2, 2, 2])")
    }

    func testJoiningValues() {
        let a = Tensor([1.0, 2.0]), b = Tensor([3.0])
        XCTAssertEqual(Tensor.cat([a, b]).floats, [1, 2, 3])
        XCTAssertEqual(Tensor.stack([a, a], dim: 1).shape, [2, 2])
        let parts = Tensor.arange(0, 10, dtype: .float32).split(size: 4)
        XCTAssertEqual(parts.map { $0.shape }, [[4], [4], [2]])
        XCTAssertEqual(Tensor.arange(0, 6, dtype: .float32).chunk(4).map { $0.count }, [2, 2, 2])
        XCTAssertEqual(Tensor.cat([Tensor([1]), Tensor([2.5])]).dtype, .float32)
    }

    func testOneHotAndPadding() {
        XCTAssertEqual(Tensor([2, 0]).oneHot().toArray(as: Int.self), [0, 0, 1, 1, 0, 0])
        XCTAssertEqual(Tensor([1.0, 2.0]).pad([1, 2]).floats, [0, 1, 2, 0, 0])
    }
}

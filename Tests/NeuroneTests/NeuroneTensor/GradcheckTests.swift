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

/// Every differentiable op against central finite differences in float64, over several shapes,
/// including broadcast operands and non-contiguous inputs.
final class GradcheckTests: XCTestCase {
    let gen = Generator(seed: 7)

    func r(_ shape: [Int], lo: Double = -2, hi: Double = 2) -> Tensor {
        Tensor.uniform(shape, low: lo, high: hi, dtype: .float64, generator: gen)
    }

    func check(_ name: String, _ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line,
               _ f: @escaping ([Tensor]) -> Tensor) {
        let result = gradcheck(f, inputs: inputs)
        XCTAssertTrue(result.passed, "\(name): \(result)", file: file, line: line)
    }

    /// A few shapes per op: scalar-like, vector, matrix, 3-D.
    let shapes: [[Int]] = [[1], [5], [3, 4], [2, 3, 2]]

    func testBinaryArithmeticWithBroadcasting() {
        let pairs: [([Int], [Int])] = [([3, 4], [3, 4]), ([2, 3, 4], [4]), ([3, 1], [1, 5]), ([4], []), ([2, 1, 3], [2, 1])]
        for (sa, sb) in pairs {
            let tag = "\(sa)⊗\(sb)"
            check("add \(tag)", [r(sa), r(sb)]) { $0[0] + $0[1] }
            check("sub \(tag)", [r(sa), r(sb)]) { $0[0] - $0[1] }
            check("mul \(tag)", [r(sa), r(sb)]) { $0[0] * $0[1] }
            check("div \(tag)", [r(sa), r(sb, lo: 0.5, hi: 2)]) { $0[0] / $0[1] }
            check("pow \(tag)", [r(sa, lo: 0.5, hi: 2), r(sb)]) { $0[0].pow($0[1]) }
            check("minimum \(tag)", [r(sa), r(sb)]) { $0[0].minimum($0[1]) }
            check("maximum \(tag)", [r(sa), r(sb)]) { $0[0].maximum($0[1]) }
        }
        for s in shapes {
            check("scalar ops \(s)", [r(s, lo: 0.5, hi: 2)]) { ((2.0 * $0[0] + 1.0) / 3.0 - 0.5) * ($0[0] / 2.0) + (1.0 / $0[0]) }
            check("pow scalar \(s)", [r(s, lo: 0.5, hi: 2)]) { $0[0].pow(3) + $0[0].pow(0.5) + $0[0].pow(-1.5) }
            check("neg \(s)", [r(s)]) { -$0[0] }
        }
    }

    func testMinMaxTiesSplitGradientLikePyTorch() {
        let a = Tensor([1.0, 2.0, 3.0], dtype: .float64).requiringGrad()
        let b = Tensor([1.0, 5.0, 0.0], dtype: .float64).requiringGrad()
        a.maximum(b).sum().backward()
        XCTAssertEqual(a.grad!.doubles, [0.5, 0, 1])
        XCTAssertEqual(b.grad!.doubles, [0.5, 1, 0])
    }

    func testUnaryFunctions() {
        for s in shapes {
            check("abs \(s)", [r(s)]) { $0[0].abs() }
            check("sqrt \(s)", [r(s, lo: 0.2, hi: 3)]) { $0[0].sqrt() }
            check("exp \(s)", [r(s)]) { $0[0].exp() }
            check("log \(s)", [r(s, lo: 0.2, hi: 3)]) { $0[0].log() }
            check("log1p \(s)", [r(s, lo: -0.5, hi: 3)]) { $0[0].log1p() }
            check("sin \(s)", [r(s)]) { $0[0].sin() }
            check("cos \(s)", [r(s)]) { $0[0].cos() }
            check("tanh \(s)", [r(s)]) { $0[0].tanh() }
            check("sigmoid \(s)", [r(s, lo: -5, hi: 5)]) { $0[0].sigmoid() }
            check("relu \(s)", [r(s)]) { $0[0].relu() }
            check("sign \(s)", [r(s)]) { $0[0].sign() * $0[0] }
            check("reciprocal \(s)", [r(s, lo: 0.5, hi: 2)]) { $0[0].reciprocal() }
            check("clamp \(s)", [r(s)]) { $0[0].clamp(min: -1, max: 1) }
            check("clamp min \(s)", [r(s)]) { $0[0].clamp(min: 0.3) }
            check("square \(s)", [r(s)]) { $0[0].square() }
        }
    }

    func testReductions() {
        let x = [2, 3, 4]
        for dims in [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]] {
            for keep in [false, true] {
                let tag = "\(dims) keep=\(keep)"
                check("sum \(tag)", [r(x)]) { $0[0].sum(dims: dims, keepDim: keep) }
                check("mean \(tag)", [r(x)]) { $0[0].mean(dims: dims, keepDim: keep) }
                check("var \(tag)", [r(x)]) { $0[0].variance(dims: dims, keepDim: keep) }
                check("std \(tag)", [r(x)]) { $0[0].std(dims: dims, keepDim: keep) }
                check("logsumexp \(tag)", [r(x)]) { $0[0].logsumexp(dims: dims, keepDim: keep) }
                check("norm2 \(tag)", [r(x)]) { $0[0].norm(p: 2, dims: dims, keepDim: keep) }
                check("norm1 \(tag)", [r(x)]) { $0[0].norm(p: 1, dims: dims, keepDim: keep) }
                check("norm3 \(tag)", [r(x)]) { $0[0].norm(p: 3, dims: dims, keepDim: keep) }
            }
        }
        for d in 0..<3 {
            check("max dim \(d)", [r(x)]) { $0[0].max(dim: d).values }
            check("min dim \(d) keep", [r(x)]) { $0[0].min(dim: d, keepDim: true).values }
        }
        check("max all", [r(x)]) { $0[0].max() }
        check("min all", [r(x)]) { $0[0].min() }
        check("sum all", [r(x)]) { $0[0].sum() }
        check("norm inf", [r(x)]) { $0[0].norm(p: .infinity) }
        for s in shapes {
            check("mean all \(s)", [r(s)]) { $0[0].mean() }
            check("logsumexp all \(s)", [r(s)]) { $0[0].logsumexp() }
        }
    }

    func testNormGradientAtZeroIsZero() {
        let x = Tensor.zeros([3], dtype: .float64, requiresGrad: true)
        x.norm().backward()
        XCTAssertEqual(x.grad!.doubles, [0, 0, 0])
    }

    func testMatmulAllRules() {
        let cases: [([Int], [Int])] = [([4], [4]), ([3, 4], [4]), ([4], [4, 5]), ([3, 4], [4, 5]), ([2, 3, 4], [4, 5]),
                                       ([2, 3, 4], [2, 4, 5]), ([2, 1, 3, 4], [3, 4, 2]), ([5], [2, 5, 3]), ([2, 3, 4], [4])]
        for (sa, sb) in cases {
            check("matmul \(sa)@\(sb)", [r(sa), r(sb)]) { $0[0].matmul($0[1]) }
        }
        check("matmul transposed operands", [r([4, 3]), r([5, 4])]) { $0[0].T.matmul($0[1].T) }
        check("matmul sliced operand", [r([6, 4]), r([4, 3])]) { $0[0][.every(2)].matmul($0[1]) }
        check("matmul expanded batch", [r([1, 3, 4]), r([4, 4, 2])]) { $0[0].expand([4, 3, 4]).matmul($0[1]) }
    }

    func testViews() {
        let x = [2, 3, 4]
        check("reshape", [r(x)]) { $0[0].reshape([4, -1]) * 2.0 }
        check("view", [r(x)]) { $0[0].view(6, 4).exp() }
        check("flatten", [r(x)]) { $0[0].flatten(startDim: 1) * 3.0 }
        check("permute", [r(x)]) { $0[0].permute(2, 0, 1).exp() }
        check("transpose then reshape (copies)", [r(x)]) { $0[0].transpose(0, 2).reshape([-1]) * 1.5 }
        check("mT", [r(x)]) { $0[0].mT.sin() }
        check("slice with step", [r(x)]) { $0[0].slice(dim: 2, start: 1, end: 4, step: 2) * 2.0 }
        check("negative slice bounds", [r(x)]) { $0[0].slice(dim: 1, start: -2) * 2.0 }
        check("select", [r(x)]) { $0[0].select(dim: 1, index: 2).exp() }
        check("subscript", [r(x)]) { $0[0][1, .all, .range(0..<3, step: 2)].exp() }
        check("subscript ellipsis newAxis", [r(x)]) { $0[0][.ellipsis, 0, .newAxis].exp() }
        check("narrow", [r(x)]) { $0[0].narrow(dim: 2, start: 1, length: 2).exp() }
        check("squeeze", [r([2, 1, 3])]) { $0[0].squeeze().exp() }
        check("squeeze dim", [r([2, 1, 3])]) { $0[0].squeeze(1).exp() }
        check("unsqueeze", [r([2, 3])]) { $0[0].unsqueeze(1).exp() }
        check("expand", [r([3, 1])]) { $0[0].expand([2, 3, 4]) * Tensor.arange(0, 4, dtype: .float64) }
        check("contiguous of transpose", [r([3, 4])]) { $0[0].T.contiguous().exp() }
        check("clone", [r([3, 4])]) { $0[0].clone() * $0[0] }
        check("overlapping views", [r([5])]) { $0[0][.range(0..<3)] * $0[0][.range(2..<5)] }
        check("non-contiguous into unary", [r([3, 4])]) { $0[0].T.exp() + $0[0].T.tanh() }
        check("non-contiguous into binary", [r([3, 4]), r([4, 3])]) { $0[0].T * $0[1] + $0[0].T }
    }

    func testJoiningAndSplitting() {
        check("cat dim 0", [r([2, 3]), r([1, 3])]) { Tensor.cat($0, dim: 0).exp() }
        check("cat dim 1", [r([2, 3]), r([2, 2]), r([2, 1])]) { Tensor.cat($0, dim: 1) * 2.0 }
        check("stack", [r([2, 3]), r([2, 3])]) { Tensor.stack($0, dim: 1).exp() }
        check("stack last", [r([2, 3]), r([2, 3])]) { Tensor.stack($0, dim: -1).exp() }
        check("split", [r([5, 2])]) { x in let p = x[0].split(size: 2); return p[0].sum() * p[1].sum() + p[2].sum() }
        check("split sizes", [r([2, 5])]) { x in let p = x[0].split(sizes: [1, 4], dim: 1); return p[0] * p[1].sum(dim: 1, keepDim: true) }
        check("chunk", [r([7])]) { x in let p = x[0].chunk(3); return p[0].exp().sum() + p[2].sin().sum() }
    }

    func testIndexing() {
        let idx = Tensor([2, 0, 1, 1, 0, 2], shape: [2, 3])
        check("gather dim 1", [r([2, 3])]) { $0[0].gather(dim: 1, index: idx) }
        check("gather dim 0", [r([3, 3])]) { $0[0].gather(dim: 0, index: Tensor([2, 0, 1, 0, 0, 2], shape: [2, 3])) }
        check("scatterAdd both inputs", [r([2, 3]), r([2, 3])]) { $0[0].scatterAdd(dim: 1, index: idx, source: $0[1]) }
        check("indexSelect dim 0 with repeats", [r([4, 2])]) { $0[0].indexSelect(dim: 0, index: Tensor([3, 0, 3])) }
        check("indexSelect dim 1", [r([2, 4])]) { $0[0].indexSelect(dim: 1, index: Tensor([1, 1, 2])) }
        check("pad", [r([2, 3])]) { $0[0].pad([1, 2, 0, 1], value: 0.5) }
        check("where", [r([3, 4]), r([4])]) { x in Tensor.where(x[0] .> 0.0, x[0], x[1]) }
        check("maskedFill", [r([3, 4])]) { x in x[0].maskedFill(x[0] .< 0.0, 0) * x[0] }
    }

    /// The view, joining and indexing ops again over further shapes (rank 1 to 4).
    func testShapeVariantsOfStructuralOps() {
        for s in [[6], [2, 3], [2, 1, 3], [2, 2, 1, 3]] {
            let n = s.count
            check("reshape \(s)", [r(s)]) { $0[0].reshape([-1]).exp() }
            check("permute reversed \(s)", [r(s)]) { $0[0].permute(Array((0..<n).reversed())).exp() }
            check("slice last dim \(s)", [r(s)]) { $0[0].slice(dim: -1, start: 1, step: 2).exp() }
            check("select first dim \(s)", [r(s)]) { $0[0].select(dim: 0, index: -1).exp() }
            check("unsqueeze/squeeze \(s)", [r(s)]) { $0[0].unsqueeze(-1).squeeze().exp() }
            check("expand leading \(s)", [r(s)]) { $0[0].expand([3] + s).sin() }
            check("cat with itself \(s)", [r(s), r(s)]) { Tensor.cat($0, dim: -1).exp() }
            check("stack \(s)", [r(s), r(s)]) { Tensor.stack($0, dim: 0).exp() }
            check("chunk \(s)", [r(s)]) { x in let c = x[0].chunk(2, dim: -1); return c[0].exp().sum() - c.last!.sin().sum() }
            check("pad \(s)", [r(s)]) { $0[0].pad([2, 1], value: -1).exp() }
            check("where \(s)", [r(s), r(s)]) { x in Tensor.where(x[0] .> x[1], x[0], x[1] * 2.0) }
            check("maskedFill \(s)", [r(s)]) { x in x[0].maskedFill(x[0] .> 0.5, 3) * x[0] }
            check("flip by indexSelect \(s)", [r(s)]) { x in x[0].indexSelect(dim: -1, index: Tensor((0..<s.last!).reversed().map { $0 })) }
            // gather/scatterAdd along the last dim with an index of the same shape
            let idx = Tensor.randint(0, s.last!, s, generator: gen)
            check("gather \(s)", [r(s)]) { $0[0].gather(dim: -1, index: idx).exp() }
            check("scatterAdd \(s)", [r(s), r(s)]) { $0[0].scatterAdd(dim: -1, index: idx, source: $0[1]).exp() }
        }
    }

    func testCompositeFormulas() {
        // A softmax written from primitives and a two-layer network.
        check("softmax", [r([3, 5])]) { x in let e = (x[0] - x[0].logsumexp(dim: 1, keepDim: true)).exp(); return e }
        check("mlp", [r([4, 3]), r([3, 5]), r([5]), r([5, 2])]) { p in
            ((p[0].matmul(p[1]) + p[2]).tanh().matmul(p[3])).sigmoid().mean()
        }
    }

    func testGradcheckDetectsAWrongGradient() {
        // A deliberately wrong backward must fail the check.
        let result = gradcheck({ x in
            let out = withNoGrad { x[0] * 2.0 }
            return out.recording("Wrong", [x[0]]) { g in [g * 3.0] }
        }, inputs: [r([3])])
        XCTAssertFalse(result.passed)
    }
}

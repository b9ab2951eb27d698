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

/// Compares every op against values computed by NumPy (scripts/make_reference.py), once with
/// contiguous inputs and once with the same values laid out non-contiguously.
final class ReferenceTests: XCTestCase {
    enum JSONValue: Decodable {
        case number(Double), string(String), bool(Bool), array([JSONValue]), object([String: JSONValue]), null
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
            else { self = .object(try c.decode([String: JSONValue].self)) }
        }
        var double: Double {
            switch self {
            case .number(let d): return d
            case .bool(let b): return b ? 1 : 0
            case .string(let s): return s == "nan" ? .nan : (s == "inf" ? .infinity : -.infinity)
            default: return .nan
            }
        }
        var int: Int { Int(double) }
        var ints: [Int] { if case .array(let a) = self { return a.map { $0.int } } else { return [] } }
        var bool: Bool { if case .bool(let b) = self { return b } else { return double != 0 } }
    }

    struct RefTensor: Decodable {
        let shape: [Int]
        let dtype: String
        let data: [JSONValue]

        func tensor() -> Tensor {
            switch dtype {
            case "bool": return Tensor(data.map { $0.bool }, shape: shape)
            case "int64": return Tensor(data.map { Int64($0.double) }, shape: shape)
            case "float64": return Tensor(data.map { $0.double }, shape: shape, dtype: .float64)
            default: return Tensor(data.map { $0.double }, shape: shape, dtype: .float32)
            }
        }
    }

    struct RefCase: Decodable {
        let name: String
        let op: String
        let inputs: [RefTensor]
        let args: [String: JSONValue]
        let outputs: [RefTensor]
    }

    struct RandomRef: Decodable {
        let seed: UInt64
        let uint64: [String]
        let float32: [Double]
        let normal_float64: [Double]
    }

    struct RefFile: Decodable {
        let cases: [RefCase]
        let random: RandomRef
    }

    static func load() throws -> RefFile {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "tensor_ops", withExtension: "json", subdirectory: "Reference"))
        return try JSONDecoder().decode(RefFile.self, from: Data(contentsOf: url))
    }

    /// The same values with reversed strides (a copy laid out column-major, viewed back).
    static func nonContiguous(_ t: Tensor) -> Tensor {
        guard t.rank >= 2 else {
            if t.rank == 1 && t.count > 1 {
                // every other element of a doubled buffer
                let doubled = Tensor.stack([t, t], dim: 1).reshape([-1])
                return doubled.slice(dim: 0, step: 2)
            }
            return t
        }
        let rev = Array((0..<t.rank).reversed())
        let r = t.permute(rev).contiguous().permute(rev)
        return r
    }

    func run(_ c: RefCase, _ x: [Tensor]) -> [Tensor] {
        let a = c.args
        func dims() -> [Int]? { a["dims"].map { $0.ints } }
        let keep = a["keepdim"]?.bool ?? false
        switch c.op {
        case "add": return [x[0] + x[1]]
        case "sub": return [x[0] - x[1]]
        case "mul": return [x[0] * x[1]]
        case "div": return [x[0] / x[1]]
        case "minimum": return [x[0].minimum(x[1])]
        case "maximum": return [x[0].maximum(x[1])]
        case "lt": return [x[0] .< x[1]]
        case "eq": return [x[0] .== x[1]]
        case "pow": return [x[0].pow(x[1])]
        case "pow_scalar": return [x[0].pow(a["p"]!.double)]
        case "neg": return [-x[0]]
        case "abs": return [x[0].abs()]
        case "sqrt": return [x[0].sqrt()]
        case "exp": return [x[0].exp()]
        case "log": return [x[0].log()]
        case "log1p": return [x[0].log1p()]
        case "sin": return [x[0].sin()]
        case "cos": return [x[0].cos()]
        case "tanh": return [x[0].tanh()]
        case "sigmoid": return [x[0].sigmoid()]
        case "relu": return [x[0].relu()]
        case "sign": return [x[0].sign()]
        case "clamp": return [x[0].clamp(min: a["min"]?.double, max: a["max"]?.double)]
        case "sum": return [x[0].sum(dims: dims(), keepDim: keep)]
        case "mean": return [x[0].mean(dims: dims(), keepDim: keep)]
        case "var": return [x[0].variance(dims: dims(), keepDim: keep)]
        case "std": return [x[0].std(dims: dims(), keepDim: keep)]
        case "logsumexp": return [x[0].logsumexp(dims: dims(), keepDim: keep)]
        case "norm": return [x[0].norm(p: a["p"]!.double, dims: dims(), keepDim: keep)]
        case "max_dim": let r = x[0].max(dim: a["dim"]!.int, keepDim: keep); return [r.values, r.indices]
        case "min_dim": let r = x[0].min(dim: a["dim"]!.int, keepDim: keep); return [r.values, r.indices]
        case "max_all": return [x[0].max()]
        case "argmax_all": return [x[0].argmax()]
        case "matmul": return [x[0].matmul(x[1])]
        case "matmul_tt": return [x[0].T.matmul(x[1].T)]
        case "cat": return [Tensor.cat(x, dim: a["dim"]!.int)]
        case "stack": return [Tensor.stack(x, dim: a["dim"]!.int)]
        case "permute": return [x[0].permute(a["dims"]!.ints)]
        case "slice": return [x[0][.all, .range(1..<6, step: 2), .every(3)]]
        case "chunk": return x[0].chunk(a["chunks"]!.int, dim: a["dim"]!.int)
        case "gather": return [x[0].gather(dim: a["dim"]!.int, index: x[1])]
        case "scatter_add": return [x[0].scatterAdd(dim: a["dim"]!.int, index: x[1], source: x[2])]
        case "index_select": return [x[0].indexSelect(dim: a["dim"]!.int, index: x[1])]
        case "one_hot": return [x[0].oneHot(numClasses: a["num_classes"]!.int)]
        case "pad": return [x[0].pad(a["pads"]!.ints, value: a["value"]!.double)]
        case "where": return [Tensor.where(x[0], x[1], x[2])]
        case "masked_fill": return [x[0].maskedFill(x[1], a["value"]!.double)]
        default:
            XCTFail("unknown reference op \(c.op)")
            return []
        }
    }

    func compare(_ got: Tensor, _ want: RefTensor, _ label: String, atolFloat32: Double = 1e-6) {
        XCTAssertEqual(got.shape, want.shape, "\(label): shape")
        XCTAssertEqual(got.dtype.rawValue, want.dtype, "\(label): dtype")
        guard got.shape == want.shape else { return }
        let g = got.toArray(as: Double.self)
        let w = want.data.map { $0.double }
        let (rtol, atol) = got.dtype == .float64 ? (1e-12, 1e-12) : (got.dtype == .float32 ? (1e-5, atolFloat32) : (0.0, 0.0))
        var bad = 0
        for i in 0..<w.count {
            let (a, b) = (g[i], w[i])
            if a.isNaN && b.isNaN { continue }
            if a == b { continue }
            if Swift.abs(a - b) <= atol + rtol * Swift.abs(b) { continue }
            if bad < 3 { XCTFail("\(label): element \(i): got \(a), expected \(b)") }
            bad += 1
        }
    }

    func testAgainstNumPy() throws {
        let file = try Self.load()
        XCTAssertGreaterThan(file.cases.count, 200)
        for c in file.cases {
            let inputs = c.inputs.map { $0.tensor() }
            let outs = run(c, inputs)
            // Products accumulate float32 rounding over K terms; NumPy's reference is float64.
            let atol = c.op.hasPrefix("matmul") ? 1e-4 : 1e-6
            XCTAssertEqual(outs.count, c.outputs.count, c.name)
            for (i, (o, w)) in zip(outs, c.outputs).enumerated() { compare(o, w, "\(c.name) [output \(i)]", atolFloat32: atol) }
            // Same values, non-contiguous layout.
            let strided = inputs.map { Self.nonContiguous($0) }
            for (i, (o, w)) in zip(run(c, strided), c.outputs).enumerated() { compare(o, w, "\(c.name) non-contiguous [output \(i)]", atolFloat32: atol) }
        }
    }

    func testRandomGeneratorMatchesDocumentedAlgorithm() throws {
        let ref = try Self.load().random
        let g = Generator(seed: ref.seed)
        XCTAssertEqual((0..<4).map { _ in String(g.nextUInt64()) }, ref.uint64)
        g.manualSeed(ref.seed)
        XCTAssertEqual((0..<4).map { _ in Double(g.nextFloat()) }, ref.float32)
        g.manualSeed(ref.seed)
        let normals = (0..<4).map { _ in g.nextNormal() }
        for (a, b) in zip(normals, ref.normal_float64) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        // Tensors draw from the same stream in row-major order.
        let t = Tensor.rand([2, 2], generator: Generator(seed: ref.seed))
        XCTAssertEqual(t.toArray(as: Double.self), ref.float32)
    }
}

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

/// Both GEMM paths (system BLAS when present, and the built-in kernel) against a naive triple
/// loop in float64, over odd sizes that exercise every edge of the blocking.
final class GemmTests: XCTestCase {
    static func naive(_ a: [Double], _ b: [Double], m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = transA ? a[p * m + i] : a[i * k + p]
                    let y = transB ? b[j * k + p] : b[p * n + j]
                    s += x * y
                }
                c[i * n + j] = s
            }
        }
        return c
    }

    func runBackend(_ backend: GemmBackend) {
        let saved = Gemm.requestedBackend
        defer { Gemm.requestedBackend = saved }
        Gemm.backend = backend
        let g = Generator(seed: 5)
        // (8, 200, 300) and (30, 97, 150) are wider than tall and large enough to be split over the
        // threads by columns; A's whole 6-row panels are read in place (its rows, or Aᵀ when B has
        // few columns), partial ones packed; the last two do so over two K blocks, and read B in
        // place under few rows of A (two whole panels of 32 columns and a packed partial one)
        let sizes: [(Int, Int, Int)] = [(1, 1, 1), (7, 5, 3), (6, 32, 256), (13, 47, 300), (97, 65, 33), (130, 70, 513), (8, 200, 300), (30, 97, 150),
                                        (20, 69, 600), (50, 40, 600)]
        for (m, n, k) in sizes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for dtype in [DType.float32, .float64] {
                    let a = Tensor.uniform(ta ? [k, m] : [m, k], low: -1, high: 1, dtype: dtype, generator: g)
                    let b = Tensor.uniform(tb ? [n, k] : [k, n], low: -1, high: 1, dtype: dtype, generator: g)
                    let got = (ta ? a.T : a).matmul(tb ? b.T : b).doubles
                    let want = Self.naive(a.doubles, b.doubles, m: m, n: n, k: k, transA: ta, transB: tb)
                    let tol = dtype == .float32 ? 1e-4 * Double(k).squareRoot() : 1e-12 * Double(k)
                    var worst = 0.0
                    for i in 0..<want.count { worst = Swift.max(worst, Swift.abs(got[i] - want[i])) }
                    XCTAssertLessThanOrEqual(worst, tol, "\(backend) \(dtype) m=\(m) n=\(n) k=\(k) transA=\(ta) transB=\(tb)")
                }
            }
        }
    }

    func testBuiltinKernel() {
        runBackend(.builtin)
        XCTAssertTrue(["avx512", "avx2", "generic"].contains(Gemm.builtinKernelName))
    }

    func testBuiltinKernelMultiThreaded() {
        let saved = Threading.threadCount
        defer { Threading.threadCount = saved }
        Threading.threadCount = 3
        runBackend(.builtin)
    }

    func testSystemBLAS() throws {
        print(Gemm.pathDescription)
        try XCTSkipUnless(Gemm.blasAvailable, "no BLAS library found (NEURONE_BLAS=none or OpenBLAS not installed): only the built-in path runs")
        runBackend(.blas)
    }

    func testBothPathsAgreeOnALargeProduct() throws {
        try XCTSkipUnless(Gemm.blasAvailable, "no BLAS library found")
        let saved = Gemm.requestedBackend
        defer { Gemm.requestedBackend = saved }
        let g = Generator(seed: 8)
        let a = Tensor.randn([300, 200], generator: g), b = Tensor.randn([200, 250], generator: g)
        Gemm.backend = .builtin
        let x = a.matmul(b).floats
        Gemm.backend = .blas
        let y = a.matmul(b).floats
        for i in 0..<x.count { XCTAssertEqual(x[i], y[i], accuracy: 1e-3) }
    }

    func testEmptyAndZeroKProducts() {
        XCTAssertEqual(Tensor.ones([2, 0]).matmul(Tensor.ones([0, 3])).floats, [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Tensor.ones([0, 4]).matmul(Tensor.ones([4, 3])).shape, [0, 3])
    }
}

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

    /// The larger of two errors, NaN when either is (Swift.max would drop a NaN and pass a product
    /// that left garbage in C).
    static func worse(_ a: Double, _ b: Double) -> Double { a.isNaN || b.isNaN ? .nan : Swift.max(a, b) }

    /// Runs `body` on the built-in kernel with one thread and then three (given the count),
    /// putting the requested backend and the thread count back afterwards.
    func onBuiltinAtOneAndThreeThreads(_ body: (Int) -> Void) {
        let saved = (Gemm.requestedBackend, Threading.threadCount)
        defer { Gemm.requestedBackend = saved.0; Threading.threadCount = saved.1 }
        Gemm.backend = .builtin
        for threads in [1, 3] {
            Threading.threadCount = threads
            body(threads)
        }
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
        // (1, n, k) and (m, 1, k): one row or column of C, the matrix-vector forms (n = 1100 over
        // two column blocks of the rows form; m = 45 and 3 over whole and partial 4-row groups of
        // the dot form, k = 37 and 600 with a scalar tail); (40, 700, 520): B packed row by row on
        // Intel cores (in place elsewhere), in several column blocks of a quarter of the L2 (A read
        // in place) over two K blocks, with a partial last panel. On Intel cores at AVX-512, B not
        // transposed under 12 to 128 rows of A is packed by the first tile that reads it: (13, 47,
        // 300), (40, 700, 520), (50, 40, 600) and (128, 70, 140) (the last two over several row
        // blocks, which read the copied panels; Aᵀ read in place or packed, by its width)
        let sizes: [(Int, Int, Int)] = [(1, 1, 1), (7, 5, 3), (6, 32, 256), (13, 47, 300), (97, 65, 33), (130, 70, 513), (8, 200, 300), (30, 97, 150),
                                        (20, 69, 600), (50, 40, 600), (1, 1100, 37), (1, 70, 600), (45, 1, 300), (3, 1, 17), (1, 1, 600),
                                        (40, 700, 520), (128, 70, 140)]
        for (m, n, k) in sizes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for dtype in [DType.float32, .float64] {
                    let a = Tensor.uniform(ta ? [k, m] : [m, k], low: -1, high: 1, dtype: dtype, generator: g)
                    let b = Tensor.uniform(tb ? [n, k] : [k, n], low: -1, high: 1, dtype: dtype, generator: g)
                    let got = (ta ? a.T : a).matmul(tb ? b.T : b).doubles
                    let want = Self.naive(a.doubles, b.doubles, m: m, n: n, k: k, transA: ta, transB: tb)
                    let tol = dtype == .float32 ? 1e-4 * Double(k).squareRoot() : 1e-12 * Double(k)
                    var worst = 0.0
                    for i in 0..<want.count { worst = Self.worse(worst, Swift.abs(got[i] - want[i])) }
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

    /// One row or one column of C through the built-in path's matrix-vector forms with alpha ≠ 1,
    /// beta 0 (C's old values, NaN here, not read), 1 and −0.5, padded leading dimensions and a
    /// strided vector operand, on one thread and split over three; against float64 sums.
    func testMatrixVectorProductsWithAlphaBetaAndStrides() {
        let saved = (Gemm.requestedBackend, Threading.threadCount)
        defer { Gemm.requestedBackend = saved.0; Threading.threadCount = saved.1 }
        Gemm.backend = .builtin
        let rng = Generator(seed: 21)
        func values(_ n: Int) -> [Double] { (0..<n).map { _ in Double(rng.nextFloat()) * 2 - 1 } }
        for threads in [1, 3] {
            Threading.threadCount = threads
            for (m, n, k) in [(1, 300, 70), (1, 1030, 9), (1, 1, 45), (70, 1, 300), (5, 1, 9)] {
                for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                    for (alpha, beta) in [(0.75, 0.0), (-1.5, 1.0), (2.0, -0.5)] {
                        // op(A) [m, k] stored [m, k] or [k, m] with 3 extra columns; likewise op(B)
                        let (ar, ac) = ta ? (k, m) : (m, k), (br, bc) = tb ? (n, k) : (k, n)
                        let (lda, ldb, ldc) = (ac + 3, bc + 3, n + 2)
                        let a = values(ar * lda), b = values(br * ldb), c0 = values(m * ldc)
                        var want = c0
                        for i in 0..<m {
                            for j in 0..<n {
                                var t = 0.0
                                for p in 0..<k { t += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]) }
                                want[i * ldc + j] = alpha * t + (beta == 0 ? 0 : beta * c0[i * ldc + j])
                            }
                        }
                        for dtype in [DType.float32, .float64] {
                            let start = c0.enumerated().map { beta == 0 && $0.offset % ldc < n ? Double.nan : $0.element }
                            var got = [Double]()
                            if dtype == .float32 {
                                let (af, bf) = (a.map { Float($0) }, b.map { Float($0) })
                                var cf = start.map { Float($0) }
                                Gemm.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: Float(alpha), a: af, lda: lda, b: bf, ldb: ldb,
                                           beta: Float(beta), c: &cf, ldc: ldc)
                                got = cf.map { Double($0) }
                            } else {
                                var cd = start
                                Gemm.dgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                                           beta: beta, c: &cd, ldc: ldc)
                                got = cd
                            }
                            let tol = dtype == .float32 ? 1e-5 * Double(k) : 1e-13 * Double(k)
                            var worst = 0.0
                            for i in 0..<m {
                                for j in 0..<n { worst = Self.worse(worst, Swift.abs(got[i * ldc + j] - want[i * ldc + j])) }
                                // the padding columns of C are left as they were
                                for j in n..<ldc { XCTAssertEqual(got[i * ldc + j], start[i * ldc + j]) }
                            }
                            XCTAssertLessThanOrEqual(worst, tol, "\(dtype) m=\(m) n=\(n) k=\(k) transA=\(ta) transB=\(tb) alpha=\(alpha) beta=\(beta) threads=\(threads)")
                        }
                    }
                }
            }
        }
    }

    /// B's rows a multiple of 4 KiB apart under few rows of A with K ≤ 256: at AVX2 and the baseline the
    /// built-in kernel packs B (its in-place rows would share one L1 set), elsewhere reads it in
    /// place. Either way the same micro-kernel sums in the same order, so the product equals, bit
    /// for bit, the one with B's rows 16 elements further apart (always read in place); checked
    /// against float64 sums too, with C's padding untouched, on one thread and over three.
    func testProductWithRowsOfBMultiplesOf4KiBApart() {
        let rng = Generator(seed: 33)
        // (m, n, k): whole and partial 6-row panels, whole and partial column panels, K at the
        // rule's limit; up to 1017 of each row's 1024 elements used
        onBuiltinAtOneAndThreeThreads { threads in
            for (m, n, k) in [(64, 1000, 128), (13, 777, 256), (96, 300, 64), (5, 1017, 40)] {
                for dtype in [DType.float32, .float64] {
                    let aliased = 1024, apart = aliased + 16, ldc = n + 3  // 4 KiB (float32), 8 KiB (float64)
                    let a = (0..<(m * k)).map { _ in Double(rng.nextFloat()) * 2 - 1 }
                    let rows = (0..<k).map { _ in (0..<n).map { _ in Double(rng.nextFloat()) * 2 - 1 } }
                    func stored(_ ld: Int) -> [Double] {
                        var b = [Double](repeating: .nan, count: k * ld)
                        for p in 0..<k { for j in 0..<n { b[p * ld + j] = rows[p][j] } }
                        return b
                    }
                    func product(_ ld: Int) -> [Double] {
                        let b = stored(ld)
                        if dtype == .float32 {
                            var c = [Float](repeating: -7, count: m * ldc)
                            Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a.map { Float($0) }, lda: k,
                                       b: b.map { Float($0) }, ldb: ld, beta: 0, c: &c, ldc: ldc)
                            return c.map { Double($0) }
                        }
                        var c = [Double](repeating: -7, count: m * ldc)
                        Gemm.dgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: ld, beta: 0, c: &c, ldc: ldc)
                        return c
                    }
                    let got = product(aliased), reference = product(apart)
                    let what = "\(dtype) m=\(m) n=\(n) k=\(k) threads=\(threads) kernel \(Gemm.builtinKernelName)"
                    XCTAssertEqual(zip(got, reference).filter { $0.bitPattern != $1.bitPattern }.count, 0, "elements that differ, \(what)")
                    let want = Self.naive(a, rows.flatMap { $0 }, m: m, n: n, k: k, transA: false, transB: false)
                    var worst = 0.0
                    for i in 0..<m {
                        for j in 0..<n { worst = Self.worse(worst, Swift.abs(got[i * ldc + j] - want[i * n + j])) }
                        for j in n..<ldc { XCTAssertEqual(got[i * ldc + j], -7, what) }
                    }
                    XCTAssertLessThanOrEqual(worst, dtype == .float32 ? 1e-5 * Double(k) : 1e-13 * Double(k), what)
                }
            }
        }
    }

    /// float32 products with B transposed under few rows of A and a long sum run as Cᵀ = B·op(A)ᵀ
    /// into a scratch, then transposed into C (alpha 1, beta 0: C's old values, NaN here, not
    /// read), with padded leading dimensions (C's padding untouched), op(A) either way, on one
    /// thread and over three (C's columns split), against float64 sums; alpha 0.75 and beta 0.5
    /// (the direct path) beside it.
    func testTransposedBUnderFewRowsThroughCTransposed() {
        let rng = Generator(seed: 41)
        onBuiltinAtOneAndThreeThreads { threads in
            // (m, n, k): 12- and 6-row tiles with a partial one, C's columns over several 32-wide
            // panels; the rule's limits (n = 2m, k = 2m, m = 192 over 400 columns)
            for (m, n, k) in [(20, 75, 90), (13, 26, 300), (64, 700, 128), (192, 400, 384)] {
                for transA in [false, true] {
                    for (alpha, beta): (Float, Float) in [(1, 0), (0.75, 0), (1, 0.5), (0.75, 0.5)] {
                        let lda = (transA ? m : k) + 3, ldb = k + 2, ldc = n + 5
                        let a = (0..<((transA ? k : m) * lda)).map { _ in rng.nextFloat() * 2 - 1 }
                        let b = (0..<(n * ldb)).map { _ in rng.nextFloat() * 2 - 1 }
                        let old = (0..<(m * ldc)).map { _ in rng.nextFloat() * 2 - 1 }
                        var c = old
                        if beta == 0 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = .nan } } }
                        Gemm.sgemm(transA: transA, transB: true, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                                   beta: beta, c: &c, ldc: ldc)
                        let what = "m=\(m) n=\(n) k=\(k) transA=\(transA) alpha=\(alpha) beta=\(beta) threads=\(threads) kernel \(Gemm.builtinKernelName)"
                        var bad = 0  // counted as not within the tolerance, so that a NaN left in C counts
                        for i in 0..<m {
                            for j in 0..<n {
                                var sum = 0.0
                                for p in 0..<k { sum += Double(transA ? a[p * lda + i] : a[i * lda + p]) * Double(b[j * ldb + p]) }
                                let want = Double(alpha) * sum + Double(beta) * Double(old[i * ldc + j])
                                if !(Swift.abs(Double(c[i * ldc + j]) - want) <= 1e-5 * Double(k)) { bad += 1 }
                            }
                            for j in n..<ldc { XCTAssertEqual(c[i * ldc + j], old[i * ldc + j], what) }
                        }
                        XCTAssertEqual(bad, 0, "elements off by more than the tolerance, \(what)")
                    }
                }
            }
        }
    }

    func testEmptyAndZeroKProducts() {
        XCTAssertEqual(Tensor.ones([2, 0]).matmul(Tensor.ones([0, 3])).floats, [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Tensor.ones([0, 4]).matmul(Tensor.ones([4, 3])).shape, [0, 3])
    }
}

import NeuroneDevice
import CNeuroneKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Row-major GEMM entry points: C[M,N] = alpha·op(A)·op(B) + beta·C.
public enum Gemm {
    nonisolated(unsafe) private static var requested: GemmBackend?
    nonisolated(unsafe) private static var announced = false

    /// True when a BLAS library was found (and not disabled with NEURONE_BLAS=none) and passed
    /// Neurone's check against the built-in kernel.
    public static var blasAvailable: Bool { BLASLibrary.shared != nil }

    /// The BLAS library's file name, if one was loaded and passed the check.
    public static var blasName: String? { BLASLibrary.shared?.name }

    /// Why no BLAS library is used although one was found or named (its products disagreed with
    /// the built-in kernel's, or the library NEURONE_BLAS names cannot be loaded), or nil.
    public static var blasRejection: String? { BLASLibrary.rejection }

    /// The built-in micro-kernel chosen for this CPU ("avx512", "avx2" or "generic").
    public static var builtinKernelName: String { String(cString: nk_gemm_kernel_name()) }
    /// The built-in kernel's revision, part of the BLAS check's cache key: raised whenever gemm.c
    /// gets faster or slower on some class of products, so that a decision cached against the old
    /// kernel is measured again (2: operands read in place where packing costs more than it saves;
    /// 3: the micro-kernel's broadcast without the add that spilled the AVX2 build's registers;
    /// 4: B packed row by row, B's block in L2 when A is read in place, B packed on Intel cores,
    /// Aᵀ's whole panels copied in vectors; 5: on Intel cores under at most 128 rows of A, B's
    /// whole panels packed by the first tile that reads them; 6: float32 products with B
    /// transposed under few rows of A computed as Cᵀ and transposed; 7: the two-panel tiles'
    /// accumulators kept in registers, A's last rows in 4- and 2-row tiles).
    package static let builtinRevision = 7

    /// Which path each class of product takes when no backend is requested: measured (or read
    /// from the cache, or forced by NEURONE_GEMM) at first use; nil without a checked BLAS library.
    public static var blasDecision: BLASDecision? { decision }
    private static let decision: BLASDecision? = BLASLibrary.shared.map { BLASDecision.make(for: $0) }

    /// Measures the BLAS library against the built-in kernel again (ignoring and rewriting the
    /// cache) and returns the new decision; the products of this process keep the first one.
    public static func recheckBLAS() -> BLASDecision? { BLASLibrary.shared.map { BLASDecision.make(for: $0, recheck: true) } }

    /// The backend every product takes, set explicitly (benchmarks and tests compare the two);
    /// nil: each class of product takes the path `blasDecision` chose for it.
    public static var requestedBackend: GemmBackend? {
        get { requested }
        set {
            check(newValue != .blas || blasAvailable, "Gemm.backend = .blas, but no checked BLAS library is loaded. \(installHint)")
            requested = newValue
        }
    }

    /// The backend in use: the one requested; else `.blas` when the checked library takes at
    /// least one class of product, `.builtin` otherwise. Setting it requests that backend for every
    /// product; asking for `.blas` when none is available is a programming error (check `blasAvailable`).
    public static var backend: GemmBackend {
        get { requested ?? (GemmShapeClass.allCases.contains { decision?.usesBLAS($0) ?? false } ? .blas : .builtin) }
        set { requestedBackend = newValue }
    }

    /// The path a product C[m, n] = A[m, k]·B[k, n] takes (float64 follows the float32 measurement).
    @inline(__always)
    public static func backendFor(m: Int, n: Int, k: Int) -> GemmBackend {
        if let r = requested { return r }
        guard let d = decision else { return .builtin }
        return d.usesBLAS(.of(m: m, n: n, k: k)) ? .blas : .builtin
    }

    static var installHint: String {
        #if os(macOS)
        return "Accelerate should always be present on macOS."
        #else
        return "For the fast path install OpenBLAS: apt-get install libopenblas0 (Debian/Ubuntu) or dnf install openblas (Fedora)."
        #endif
    }

    /// One line saying which path matrix products take.
    public static var pathDescription: String {
        let builtin = "the built-in \(builtinKernelName) kernel"
        if let r = requested {
            switch r {
            case .blas: return "neurone: matrix products use \(blasName ?? "BLAS") (\(Threading.threadCount) threads)"
            case .builtin:
                return blasAvailable ? "neurone: matrix products use \(builtin) (BLAS \(blasName ?? "") present but not selected)"
                    : "neurone: matrix products use \(builtin)"
            }
        }
        guard let d = decision, let name = blasName else {
            if let why = blasRejection { return "neurone: \(why); matrix products use \(builtin)" }
            let why = BLASLibrary.disabledByEnvironment ? "BLAS disabled by NEURONE_BLAS" : "no BLAS library found"
            return "neurone: \(why); matrix products use \(builtin). \(installHint)"
        }
        let viaBLAS = GemmShapeClass.allCases.filter { d.usesBLAS($0) }.map(\.rawValue)
        let viaBuiltin = GemmShapeClass.allCases.filter { !d.usesBLAS($0) }.map(\.rawValue)
        let why = d.origin == .environment ? "NEURONE_GEMM" : "checked and measured; neurone info says why"
        if viaBuiltin.isEmpty { return "neurone: matrix products use \(name) (\(Threading.threadCount) threads)" }
        if viaBLAS.isEmpty { return "neurone: matrix products use \(builtin) (\(name) is slower on every class of product: \(why))" }
        return "neurone: matrix products use \(name) for \(viaBLAS.joined(separator: ", ")) and \(builtin) for \(viaBuiltin.joined(separator: ", ")) products (\(Threading.threadCount) threads; \(why))"
    }

    private static func announceOnce() {
        if announced { return }
        announced = true
        if getenv("NEURONE_QUIET") != nil { return }
        // under mpirun only rank 0 says it (every process loads the same library)
        if let rank = getenv("OMPI_COMM_WORLD_RANK"), String(cString: rank) != "0" { return }
        fputs(pathDescription + "\n", stderr)
    }

    /// Products smaller than this many multiply-adds stay on one thread.
    static let parallelThreshold = 64 * 64 * 64

    /// float32 C[m,n] = alpha·op(A)[m,k]·op(B)[k,n] + beta·C, row-major with leading dimensions lda/ldb/ldc,
    /// on the selected backend. Large products are split across Neurone's threads: the BLAS
    /// library (single-threaded) gets one block of rows or columns of C per thread; the built-in
    /// kernel one block of rows.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        announceOnce()
        if backendFor(m: m, n: n, k: k) == .blas, let blas = BLASLibrary.shared, max(m, n, k, lda, ldb, ldc) < Int(Int32.max) {
            blasBlocks(transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc) { mb, nb, aOff, bOff, cOff in
                blas.sgemm(101, transA ? 112 : 111, transB ? 112 : 111, Int32(mb), Int32(nb), Int32(k), alpha,
                           a + aOff, Int32(lda), b + bOff, Int32(ldb), beta, c + cOff, Int32(ldc))
            }
            return
        }
        builtin(m: m, n: n, k: k, nr: Int(nk_gemm_nr(0))) { r0, r1, c0, c1 in
            let aOff = transA ? r0 : r0 * lda, bOff = transB ? c0 * ldb : c0
            nk_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(r1 - r0), Int64(c1 - c0), Int64(k), alpha,
                     a + aOff, Int64(lda), b + bOff, Int64(ldb), beta, c + r0 * ldc + c0, Int64(ldc))
        }
    }

    /// float64 version of `sgemm`.
    public static func dgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                             a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                             beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        announceOnce()
        if backendFor(m: m, n: n, k: k) == .blas, let blas = BLASLibrary.shared, max(m, n, k, lda, ldb, ldc) < Int(Int32.max) {
            blasBlocks(transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc) { mb, nb, aOff, bOff, cOff in
                blas.dgemm(101, transA ? 112 : 111, transB ? 112 : 111, Int32(mb), Int32(nb), Int32(k), alpha,
                           a + aOff, Int32(lda), b + bOff, Int32(ldb), beta, c + cOff, Int32(ldc))
            }
            return
        }
        builtin(m: m, n: n, k: k, nr: Int(nk_gemm_nr(1))) { r0, r1, c0, c1 in
            let aOff = transA ? r0 : r0 * lda, bOff = transB ? c0 * ldb : c0
            nk_dgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(r1 - r0), Int64(c1 - c0), Int64(k), alpha,
                     a + aOff, Int64(lda), b + bOff, Int64(ldb), beta, c + r0 * ldc + c0, Int64(ldc))
        }
    }

    /// Splits C into one block per thread along its longer side (rows of C when m ≥ n, columns
    /// otherwise, in multiples of 16) and calls `block(rows, cols, aOffset, bOffset, cOffset)` for
    /// each, in parallel; small products run as one block on the calling thread.
    @inline(__always)
    private static func blasBlocks(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int,
                                   _ block: (Int, Int, Int, Int, Int) -> Void) {
        let threads = Threading.threadCount
        let byRows = m >= n
        let units = ((byRows ? m : n) + 15) / 16
        if threads == 1 || m * n * k < parallelThreshold || units < 2 {
            block(m, n, 0, 0, 0)
            return
        }
        let chunks = min(threads, units)
        Threading.parallelFor(chunks, minChunk: 1) { c0, c1 in
            for ch in c0..<c1 {
                let lo = min(byRows ? m : n, 16 * (units * ch / chunks)), hi = min(byRows ? m : n, 16 * (units * (ch + 1) / chunks))
                if lo >= hi { continue }
                if byRows {
                    block(hi - lo, n, transA ? lo : lo * lda, 0, lo * ldc)
                } else {
                    block(m, hi - lo, 0, transB ? lo * ldb : lo, lo)
                }
            }
        }
    }

    /// Splits C across threads along its longer side: rows in multiples of the micro-tile height,
    /// or, when C is wider than tall, columns in multiples of its width `nr` (each thread then
    /// packs only its columns of B and all of the shorter A, rather than all of B); calls
    /// `block(r0, r1, c0, c1)` for each part, in parallel. Small products run as one block.
    @inline(__always)
    private static func builtin(m: Int, n: Int, k: Int, nr: Int, _ block: (Int, Int, Int, Int) -> Void) {
        let threads = Threading.threadCount
        let mr = Int(nk_gemm_mr())
        if threads == 1 || m * n * k < parallelThreshold || (m < 2 * mr && n < 2 * nr) {
            block(0, m, 0, n)
            return
        }
        let byColumns = n > m && n >= 2 * nr
        let unit = byColumns ? nr : mr, extent = byColumns ? n : m
        let tiles = (extent + unit - 1) / unit
        let chunks = min(threads, tiles)
        Threading.parallelFor(chunks, minChunk: 1) { c0, c1 in
            for c in c0..<c1 {
                let t0 = tiles * c / chunks, t1 = tiles * (c + 1) / chunks
                let lo = t0 * unit, hi = min(extent, t1 * unit)
                if lo < hi { byColumns ? block(0, m, lo, hi) : block(lo, hi, 0, n) }
            }
        }
    }
}

import CNeuroneKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which implementation runs matrix products.
public enum GemmBackend: String, CaseIterable, Sendable {
    /// The system BLAS (OpenBLAS on Linux, Accelerate on macOS), found at run time.
    case blas
    /// Neurone's own blocked, vectorised kernel (CNeuroneKernels/gemm.c).
    case builtin
}

/// Row-major GEMM entry points: C[M,N] = alpha·op(A)·op(B) + beta·C.
public enum Gemm {
    nonisolated(unsafe) private static var requested: GemmBackend?
    nonisolated(unsafe) private static var announced = false

    /// True when a BLAS library was found (and not disabled with NEURONE_BLAS=none).
    public static var blasAvailable: Bool { BLASLibrary.shared != nil }

    /// The BLAS library's file name, if one was loaded.
    public static var blasName: String? { BLASLibrary.shared?.name }

    /// The built-in micro-kernel chosen for this CPU ("avx512", "avx2" or "generic").
    public static var builtinKernelName: String { String(cString: nk_gemm_kernel_name()) }

    /// The backend in use. Defaults to `.blas` when a BLAS library was found, else `.builtin`.
    /// Asking for `.blas` when none is available is a programming error (check `blasAvailable`).
    public static var backend: GemmBackend {
        get { requested ?? (blasAvailable ? .blas : .builtin) }
        set {
            check(newValue == .builtin || blasAvailable,
                         "Gemm.backend = .blas, but no BLAS library was found. \(installHint)")
            requested = newValue
        }
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
        switch backend {
        case .blas:
            return "neurone: matrix products use \(blasName ?? "BLAS") (\(Threading.threadCount) threads)"
        case .builtin:
            if blasAvailable {
                return "neurone: matrix products use the built-in \(builtinKernelName) kernel (BLAS \(blasName ?? "") present but not selected)"
            }
            let why = BLASLibrary.disabledByEnvironment ? "BLAS disabled by NEURONE_BLAS" : "no BLAS library found"
            return "neurone: \(why); matrix products use the built-in \(builtinKernelName) kernel. \(installHint)"
        }
    }

    private static func announceOnce() {
        if announced { return }
        announced = true
        if getenv("NEURONE_QUIET") != nil { return }
        fputs(pathDescription + "\n", stderr)
    }

    /// Products smaller than this many multiply-adds stay on one thread.
    static let parallelThreshold = 64 * 64 * 64

    /// float32 C[m,n] = alpha·op(A)[m,k]·op(B)[k,n] + beta·C, row-major with leading dimensions lda/ldb/ldc,
    /// on the selected backend (the built-in kernel splits rows of C across threads).
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        announceOnce()
        if backend == .blas, let blas = BLASLibrary.shared, max(m, n, k, lda, ldb, ldc) < Int(Int32.max) {
            blas.sgemm(101, transA ? 112 : 111, transB ? 112 : 111, Int32(m), Int32(n), Int32(k), alpha,
                       a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        builtin(m: m, n: n, k: k) { r0, r1 in
            let aOff = transA ? r0 : r0 * lda
            nk_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(r1 - r0), Int64(n), Int64(k), alpha,
                     a + aOff, Int64(lda), b, Int64(ldb), beta, c + r0 * ldc, Int64(ldc))
        }
    }

    /// float64 version of `sgemm`.
    public static func dgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                             a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                             beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        announceOnce()
        if backend == .blas, let blas = BLASLibrary.shared, max(m, n, k, lda, ldb, ldc) < Int(Int32.max) {
            blas.dgemm(101, transA ? 112 : 111, transB ? 112 : 111, Int32(m), Int32(n), Int32(k), alpha,
                       a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        builtin(m: m, n: n, k: k) { r0, r1 in
            let aOff = transA ? r0 : r0 * lda
            nk_dgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(r1 - r0), Int64(n), Int64(k), alpha,
                     a + aOff, Int64(lda), b, Int64(ldb), beta, c + r0 * ldc, Int64(ldc))
        }
    }

    /// Splits the rows of C across threads in multiples of the micro-tile height.
    @inline(__always)
    private static func builtin(m: Int, n: Int, k: Int, _ rows: (Int, Int) -> Void) {
        let threads = Threading.threadCount
        if threads == 1 || m * n * k < parallelThreshold || m < 2 * Int(nk_gemm_mr()) {
            rows(0, m)
            return
        }
        let mr = Int(nk_gemm_mr())
        let tiles = (m + mr - 1) / mr
        let chunks = min(threads, tiles)
        Threading.parallelFor(chunks, minChunk: 1) { c0, c1 in
            for c in c0..<c1 {
                let t0 = tiles * c / chunks, t1 = tiles * (c + 1) / chunks
                let r0 = t0 * mr, r1 = min(m, t1 * mr)
                if r0 < r1 { rows(r0, r1) }
            }
        }
    }
}

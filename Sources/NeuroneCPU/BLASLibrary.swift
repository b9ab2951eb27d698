import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system BLAS, found at run time with dlopen: no build-time dependency.
///
/// Linux: OpenBLAS (`libopenblas.so.0`, Debian package libopenblas0). macOS: Accelerate.
/// `NEURONE_BLAS=none` disables it (the built-in kernel is then used); `NEURONE_BLAS=<path>`
/// loads a specific library that exports `cblas_sgemm` and `cblas_dgemm`.
final class BLASLibrary: @unchecked Sendable {
    typealias SgemmFn = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
        UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias DgemmFn = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Double,
        UnsafePointer<Double>?, Int32, UnsafePointer<Double>?, Int32, Double, UnsafeMutablePointer<Double>?, Int32) -> Void
    typealias SetThreadsFn = @convention(c) (Int32) -> Void

    /// The library's file name, e.g. "libopenblas.so.0".
    let name: String
    let sgemm: SgemmFn
    let dgemm: DgemmFn
    private let setThreadsFn: SetThreadsFn?

    static let shared: BLASLibrary? = load()

    /// True when `NEURONE_BLAS` asks for no BLAS.
    static var disabledByEnvironment: Bool {
        guard let s = getenv("NEURONE_BLAS") else { return false }
        return ["none", "off", "builtin", "0"].contains(String(cString: s).lowercased())
    }

    static var candidates: [String] {
        if let s = getenv("NEURONE_BLAS") {
            let v = String(cString: s)
            if !v.isEmpty && !disabledByEnvironment { return [v] }
        }
        #if os(macOS)
        return ["/System/Library/Frameworks/Accelerate.framework/Accelerate"]
        #else
        return ["libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "libmkl_rt.so.2", "libmkl_rt.so"]
        #endif
    }

    private init(name: String, sgemm: SgemmFn, dgemm: DgemmFn, setThreads: SetThreadsFn?) {
        self.name = name
        self.sgemm = sgemm
        self.dgemm = dgemm
        self.setThreadsFn = setThreads
    }

    private static func load() -> BLASLibrary? {
        if disabledByEnvironment { return nil }
        for path in candidates {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let s = dlsym(handle, "cblas_sgemm"), let d = dlsym(handle, "cblas_dgemm") else {
                dlclose(handle)
                continue
            }
            let threads = dlsym(handle, "openblas_set_num_threads") ?? dlsym(handle, "MKL_Set_Num_Threads")
            let lib = BLASLibrary(
                name: path.split(separator: "/").last.map(String.init) ?? path,
                sgemm: unsafeBitCast(s, to: SgemmFn.self),
                dgemm: unsafeBitCast(d, to: DgemmFn.self),
                setThreads: threads.map { unsafeBitCast($0, to: SetThreadsFn.self) })
            // Single-threaded: Gemm splits products across Neurone's own pool (two pools spinning
            // on the same cores cost conv2 of mnist-cnn 17 % of its time in sched_yield).
            lib.setThreads(1)
            return lib
        }
        return nil
    }

    func setThreads(_ n: Int) { setThreadsFn?(Int32(n)) }
}

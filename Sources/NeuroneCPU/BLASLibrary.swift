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
/// loads a specific library that exports `cblas_sgemm` and `cblas_dgemm`. At first use its products
/// are compared with the built-in kernel's (a library that disagrees is not used), and its speed
/// against the built-in kernel's decides which path each class of product takes (BLASDecision).
final class BLASLibrary: @unchecked Sendable {
    typealias SgemmFn = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
        UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias DgemmFn = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Double,
        UnsafePointer<Double>?, Int32, UnsafePointer<Double>?, Int32, Double, UnsafeMutablePointer<Double>?, Int32) -> Void
    typealias SetThreadsFn = @convention(c) (Int32) -> Void
    typealias NameFn = @convention(c) () -> UnsafePointer<CChar>?
    typealias VoidFn = @convention(c) () -> Void

    /// The library's file name, e.g. "libopenblas.so.0".
    let name: String
    let sgemm: SgemmFn
    let dgemm: DgemmFn
    private let setThreadsFn: SetThreadsFn?
    private let coreNameFn: NameFn?
    /// OpenBLAS's core selection (a DYNAMIC_ARCH build's gotoblas_dynamic_quit and _init), when exported.
    private let coreSelection: (quit: VoidFn, initialise: VoidFn)?
    /// OpenBLAS's name for the core whose kernels it runs (openblas_get_corename), nil for other libraries.
    var coreName: String? { coreNameFn?().map { String(cString: $0) } }
    /// The core Neurone told OpenBLAS instead of the one it chose (BLASDecision.remedyCore),
    /// with the 512³ speeds that justified it, or nil.
    private(set) var coreSwitch: (from: String, to: String, gflopsBefore: Double, gflopsAfter: Double)?

    /// The library in use: loaded and checked against the built-in kernel (`verify`); nil when
    /// none was found, NEURONE_BLAS=none, or the one found failed the check (`rejection` says why).
    static var shared: BLASLibrary? { loaded.library }
    /// Why the library that was found is not used, or nil.
    static var rejection: String? { loaded.rejection }
    private static let loaded: (library: BLASLibrary?, rejection: String?) = load()

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

    private init(name: String, sgemm: SgemmFn, dgemm: DgemmFn, setThreads: SetThreadsFn?, coreName: NameFn?,
                 coreSelection: (quit: VoidFn, initialise: VoidFn)?) {
        self.name = name
        self.sgemm = sgemm
        self.dgemm = dgemm
        self.setThreadsFn = setThreads
        self.coreNameFn = coreName
        self.coreSelection = coreSelection
    }

    private static func load() -> (library: BLASLibrary?, rejection: String?) {
        if disabledByEnvironment { return (nil, nil) }
        for path in candidates {
            if let found = open(path) { return found }
        }
        // a library named by NEURONE_BLAS that cannot be used is reported, not passed over in silence
        if let s = getenv("NEURONE_BLAS"), s.pointee != 0 {
            let why = dlerror().map { String(cString: $0) } ?? "it does not export cblas_sgemm and cblas_dgemm"
            return (nil, "NEURONE_BLAS=\(String(cString: s)) cannot be used (\(why))")
        }
        return (nil, nil)
    }

    /// Loads the library at `path` (a file or a name for the dynamic loader) and checks it:
    /// nil when it cannot be loaded or lacks cblas_sgemm and cblas_dgemm; else the library, or nil
    /// and why it failed the check.
    static func open(_ path: String) -> (library: BLASLibrary?, rejection: String?)? {
        // Neurone runs the library on one thread (below); told so before it loads, OpenBLAS starts
        // no threads of its own — otherwise its idle one spins in sched_yield for ~0.1 s after
        // loading, on the cores Neurone's pool computes on (3 % of a short 2-thread benchmark).
        setenv("OPENBLAS_NUM_THREADS", "1", 0)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return nil }
        guard let s = dlsym(handle, "cblas_sgemm"), let d = dlsym(handle, "cblas_dgemm") else {
            dlclose(handle)
            return nil
        }
        let threads = dlsym(handle, "openblas_set_num_threads") ?? dlsym(handle, "MKL_Set_Num_Threads")
        var selection: (quit: VoidFn, initialise: VoidFn)? = nil
        if let q = dlsym(handle, "gotoblas_dynamic_quit"), let i = dlsym(handle, "gotoblas_dynamic_init") {
            selection = (unsafeBitCast(q, to: VoidFn.self), unsafeBitCast(i, to: VoidFn.self))
        }
        let lib = BLASLibrary(
            name: path.split(separator: "/").last.map(String.init) ?? path,
            sgemm: unsafeBitCast(s, to: SgemmFn.self),
            dgemm: unsafeBitCast(d, to: DgemmFn.self),
            setThreads: threads.map { unsafeBitCast($0, to: SetThreadsFn.self) },
            coreName: dlsym(handle, "openblas_get_corename").map { unsafeBitCast($0, to: NameFn.self) },
            coreSelection: selection)
        // Single-threaded: Gemm splits products across Neurone's own pool (two pools spinning
        // on the same cores cost conv2 of mnist-cnn 17 % of its time in sched_yield).
        lib.setThreads(1)
        // OpenBLAS runs the kernels of the core it recognises: one older than the CPU falls back to
        // an old core's. The right core is measured once per library file and CPU (cached, so that
        // every process makes the same choice and computes the same bits), checked, and kept only
        // where it is 3 % faster.
        lib.chooseCore()
        // checked before it is trusted: a library whose products disagree with the built-in
        // kernel's is not used (kept loaded: it may have started threads)
        if let problem = lib.verify() { return (nil, "\(lib.name) (\(lib.filePath)) failed Neurone's check: \(problem)") }
        return (lib, nil)
    }

    func setThreads(_ n: Int) { setThreadsFn?(Int32(n)) }

    /// The core choice described in `open`; NEURONE_BLAS_CORE=keep or a set OPENBLAS_CORETYPE leaves the library's own.
    private func chooseCore() {
        if getenv("OPENBLAS_CORETYPE") != nil { return }
        if let k = getenv("NEURONE_BLAS_CORE"), String(cString: k).lowercased() == "keep" { return }
        guard coreSelection != nil, let detected = coreName, let target = BLASDecision.remedyCore(for: detected) else { return }
        let key = BLASDecision.coreCacheKey(libraryPath: filePath, detected: detected)
        let file = BLASDecision.cacheFile(forKey: key)
        if let f = file, let text = BLASDecision.readSmallFile(f), let cached = BLASDecision.parseCoreCache(text, key: key) {
            if cached.core != detected {
                if switchCore(to: cached.core), verify() == nil { coreSwitch = (detected, cached.core, cached.before, cached.after) }
                else { _ = switchCore(to: detected) }
            }
            return
        }
        let before = probe(.large, builtin: false).blas
        var chosen = detected, after = before
        if switchCore(to: target), verify() == nil {
            after = probe(.large, builtin: false).blas
            if after > before * 1.03 { chosen = target }
        }
        if chosen == detected { _ = switchCore(to: detected) } else { coreSwitch = (detected, target, before, after) }
        if let f = file { BLASDecision.writeSmallFile(f, BLASDecision.coreCacheText(key: key, core: chosen, before: before, after: after)) }
    }

    /// Makes OpenBLAS choose its kernels again as if OPENBLAS_CORETYPE were `core` (the
    /// environment is restored after): what its constructor does at load, run again before
    /// Neurone's first product. True when it now runs that core; false when the library cannot
    /// (not a DYNAMIC_ARCH OpenBLAS) or does not know the name. Only while no product runs.
    func switchCore(to core: String) -> Bool {
        guard let sel = coreSelection else { return false }
        let saved = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
        setenv("OPENBLAS_CORETYPE", core, 1)
        sel.quit()
        sel.initialise()
        if let s = saved { setenv("OPENBLAS_CORETYPE", s, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
        return coreName?.lowercased() == core.lowercased()
    }
}

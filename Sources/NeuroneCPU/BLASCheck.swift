import NeuroneDevice
import CNeuroneKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The classes of matrix products whose speed decides between the BLAS library and the built-in
/// kernel: a library tuned for one shape can lose on another (small products pay its packing and
/// dispatch), and one that misjudges the CPU loses on all of them.
public enum GemmShapeClass: String, CaseIterable, Sendable {
    /// m, n and k all at least 256: the large products (wide layers, big batches, 2048³ benches).
    case large
    /// m or n below 256 and k longer: a batch of rows through a layer (Linear's forward and input gradient).
    case smallRows = "small-rows"
    /// k below 256 and the shortest side: a sum over a batch (Linear's weight gradient).
    case shortReduction = "short-k"

    /// The class of the product C[m, n] = A[m, k]·B[k, n].
    public static func of(m: Int, n: Int, k: Int) -> GemmShapeClass {
        if Swift.min(m, n, k) >= 256 { return .large }
        return k <= Swift.min(m, n) ? .shortReduction : .smallRows
    }

    /// The float32 products timed for this class: (m, n, k, transA, transB), the class's typical
    /// product first. Small-rows spans reductions from hundreds to thousands of values, where
    /// libraries differ most: on Zen 4 OpenBLAS 0.3.21 ran 64×1024×784 as fast as the built-in
    /// kernel (86.7 against 84.3 GFLOP/s, one thread) but mnist-cnn's fc1 (64×128×9216) at 70
    /// against 94 and 64×4608×288 at 87 against 104 (`bench/host_report`, session 30), so the
    /// class is timed on all three.
    public var probeShapes: [(m: Int, n: Int, k: Int, transA: Bool, transB: Bool)] {
        switch self {
        case .large: return [(512, 512, 512, false, false)]
        case .smallRows: return [(64, 1024, 784, false, true),    // 64 rows through a 784 → 1024 Linear
                                 (64, 128, 9216, false, true),    // through mnist-cnn's fc1, 9216 → 128
                                 (64, 4608, 288, false, false)]   // mnist-cnn's conv2 over 8 samples
        case .shortReduction: return [(512, 784, 64, true, false)]  // the 784 → 1024 layer's weight gradient over 64 rows
        }
    }
}

/// What the BLAS check decided for one class of products, and the speeds it measured (float32,
/// one thread each: Neurone gives either path one block of the product per thread).
public struct GemmClassChoice: Sendable, Equatable {
    /// Whether products of this class go to the BLAS library (else the built-in kernel).
    public var useBLAS: Bool
    /// The library's GFLOP/s on the class's probe product (0 when NEURONE_GEMM decided).
    public var blasGflops: Double
    /// The built-in kernel's GFLOP/s on the same product (0 when NEURONE_GEMM decided).
    public var builtinGflops: Double
}

/// How the loaded BLAS library was checked before it was trusted: its products compared with the
/// built-in kernel's on small cases (a library that disagrees is not used at all), then its speed
/// against the built-in kernel on each `GemmShapeClass`, the faster path taken per class (BLAS
/// unless the built-in kernel is at least 5 % faster). The decision is cached per library file
/// and CPU (`cacheFile`); `NEURONE_GEMM` overrides it.
public struct BLASDecision: Sendable {
    /// Where the per-class choice came from.
    public enum Origin: Sendable, Equatable {
        case measured          // probed in this process (and cached when the cache is writable)
        case cached(String)    // read from this cache file
        case environment       // NEURONE_GEMM
    }
    /// The library's file name, e.g. "libopenblas.so.0".
    public let library: String
    /// The library file the BLAS symbols come from.
    public let libraryPath: String
    /// OpenBLAS's name for the core whose kernels it runs (openblas_get_corename), if it says.
    public let core: String?
    /// The choice for every class.
    public let choices: [GemmShapeClass: GemmClassChoice]
    /// Where `choices` came from.
    public let origin: Origin
    /// A line about OpenBLAS's core: the one Neurone told it instead of its own choice, or one that
    /// leaves this CPU's vector units unused (`coreNote(_:)`); nil when there is nothing to say.
    public let coreNote: String?

    /// Whether products of class `c` go to the BLAS library.
    public func usesBLAS(_ c: GemmShapeClass) -> Bool { choices[c]?.useBLAS ?? false }

    /// One line per class: the choice and its reason.
    public var lines: [String] {
        GemmShapeClass.allCases.map { c in
            let name = c.rawValue + String(repeating: " ", count: Swift.max(1, 11 - c.rawValue.count))
            guard let ch = choices[c] else { return "\(name) built-in" }
            let what = c.probeShapes.map { "\($0.m)×\($0.n)×\($0.k)" }.joined(separator: ", ")
            switch origin {
            case .environment: return "\(name) \(ch.useBLAS ? library : "built-in kernel") (NEURONE_GEMM)"
            default:
                return "\(name) \(ch.useBLAS ? library : "built-in kernel")  (\(what): BLAS \(Self.format(ch.blasGflops)), built-in \(Self.format(ch.builtinGflops)) GFLOP/s)"
            }
        }
    }

    static func format(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return String(describing: r)
    }
}

extension BLASLibrary {
    /// The file the library's cblas_sgemm lives in (dladdr), or its name when that is unknown.
    var filePath: String {
        let sym = unsafeBitCast(sgemm, to: UnsafeRawPointer.self)
        return nk_library_path_of(sym).map { String(cString: $0) } ?? name
    }

    /// Compares the library's products with the built-in kernel's on small cases (every
    /// transposition, alpha and beta not 1, padded leading dimensions, a reduction past one
    /// block) and says what differs, or nil when everything agrees.
    func verify() -> String? {
        let cases: [(Int, Int, Int, Bool, Bool)] = [(37, 29, 45, false, false), (37, 29, 45, true, false), (37, 29, 45, false, true),
                                                    (37, 29, 45, true, true), (70, 90, 600, false, false), (1, 17, 5, false, true)]
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Double {  // a fixed sequence in [-1, 1)
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 52) - 1
        }
        for (m, n, k, ta, tb) in cases {
            let lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1
            let aCount = (ta ? k : m) * lda, bCount = (tb ? n : k) * ldb, cCount = m * ldc
            let a = (0..<aCount).map { _ in next() }, b = (0..<bCount).map { _ in next() }, c = (0..<cCount).map { _ in next() }
            // float32
            let af = a.map { Float($0) }, bf = b.map { Float($0) }
            var c1 = c.map { Float($0) }, c2 = c1
            sgemm(101, ta ? 112 : 111, tb ? 112 : 111, Int32(m), Int32(n), Int32(k), 0.75, af, Int32(lda), bf, Int32(ldb), 0.5, &c1, Int32(ldc))
            nk_sgemm(ta ? 1 : 0, tb ? 1 : 0, Int64(m), Int64(n), Int64(k), 0.75, af, Int64(lda), bf, Int64(ldb), 0.5, &c2, Int64(ldc))
            if let bad = Self.firstDifference(c1.map(Double.init), c2.map(Double.init), m: m, n: n, ldc: ldc, tolerance: 1e-4 * Double(k).squareRoot()) {
                return "cblas_sgemm \(m)×\(n)×\(k) (transA \(ta), transB \(tb)) differs from the built-in kernel at \(bad)"
            }
            var d1 = c, d2 = c
            dgemm(101, ta ? 112 : 111, tb ? 112 : 111, Int32(m), Int32(n), Int32(k), 0.75, a, Int32(lda), b, Int32(ldb), 0.5, &d1, Int32(ldc))
            nk_dgemm(ta ? 1 : 0, tb ? 1 : 0, Int64(m), Int64(n), Int64(k), 0.75, a, Int64(lda), b, Int64(ldb), 0.5, &d2, Int64(ldc))
            if let bad = Self.firstDifference(d1, d2, m: m, n: n, ldc: ldc, tolerance: 1e-12 * Double(k).squareRoot()) {
                return "cblas_dgemm \(m)×\(n)×\(k) (transA \(ta), transB \(tb)) differs from the built-in kernel at \(bad)"
            }
        }
        return nil
    }

    /// "row i, column j: library x, built-in y" for the first element of C [m, n] (row stride ldc)
    /// that differs by more than tolerance·(1 + |y|), or is not finite where the other is.
    static func firstDifference(_ got: [Double], _ want: [Double], m: Int, n: Int, ldc: Int, tolerance: Double) -> String? {
        for i in 0..<m {
            for j in 0..<n {
                let x = got[i * ldc + j], y = want[i * ldc + j]
                if !(abs(x - y) <= tolerance * (1 + abs(y))) { return "row \(i), column \(j): library \(x), built-in \(y)" }
            }
            // the padding past column n is not C's: a library that writes it is wrong too
            for j in n..<ldc where got[i * ldc + j] != want[i * ldc + j] {
                return "row \(i), column \(j) (past the \(n) columns of C): library wrote \(got[i * ldc + j])"
            }
        }
        return nil
    }

    /// GFLOP/s of the library and of the built-in kernel on one class's probe products, one
    /// thread each: per product a warm-up call each, then 5 timed calls each, alternating; the
    /// products' flops over the sum of their median times (the built-in kernel's NaN when
    /// `builtin` is false).
    func probe(_ c: GemmShapeClass, builtin timeBuiltin: Bool = true) -> (blas: Double, builtin: Double) {
        func median(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.sorted()[v.count / 2] }
        var flops = 0.0, blasSeconds = 0.0, builtinSeconds = 0.0
        for s in c.probeShapes {
            let (m, n, k) = (s.m, s.n, s.k)
            let lda = s.transA ? m : k, ldb = s.transB ? k : n
            let a = [Float](unsafeUninitializedCapacity: m * k) { buf, count in
                for i in 0..<(m * k) { buf[i] = Float((i * 7919) % 1009) / 1009 - 0.5 }
                count = m * k
            }
            let b = [Float](unsafeUninitializedCapacity: k * n) { buf, count in
                for i in 0..<(k * n) { buf[i] = Float((i * 104729) % 997) / 997 - 0.5 }
                count = k * n
            }
            var cb = [Float](repeating: 0, count: m * n), ck = cb
            func runBLAS() { sgemm(101, s.transA ? 112 : 111, s.transB ? 112 : 111, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, &cb, Int32(n)) }
            func runBuiltin() { nk_sgemm(s.transA ? 1 : 0, s.transB ? 1 : 0, Int64(m), Int64(n), Int64(k), 1, a, Int64(lda), b, Int64(ldb), 0, &ck, Int64(n)) }
            runBLAS()
            if timeBuiltin { runBuiltin() }
            var tb: [Double] = [], tk: [Double] = []
            for _ in 0..<5 {
                tb.append(Self.seconds(runBLAS))
                if timeBuiltin { tk.append(Self.seconds(runBuiltin)) }
            }
            flops += 2 * Double(m) * Double(n) * Double(k)
            blasSeconds += median(tb)
            builtinSeconds += median(tk)
        }
        return (flops / blasSeconds / 1e9, flops / builtinSeconds / 1e9)
    }

    static func seconds(_ body: () -> Void) -> Double {
        var t0 = timespec(), t1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t0)
        body()
        clock_gettime(CLOCK_MONOTONIC, &t1)
        return Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) * 1e-9
    }
}

extension BLASDecision {
    /// The cache format's first line; a file that does not start with it is ignored (and replaced).
    static let cacheMagic = "neurone blas check 2"

    /// NEURONE_GEMM: nil (auto: measured or cached), or every class forced to BLAS (true) or the
    /// built-in kernel (false). A value that is none of auto, blas, builtin is reported once and ignored.
    static var environmentChoice: Bool? {
        guard let s = getenv("NEURONE_GEMM") else { return nil }
        guard let choice = GemmSetting.values[String(cString: s).lowercased()] else {
            fputs("neurone: NEURONE_GEMM=\(String(cString: s)) is not \(GemmSetting.accepted): ignored (auto)\n", stderr)
            return nil
        }
        return choice
    }

    /// The directory the decision is cached in: NEURONE_CACHE_DIR, else $XDG_CACHE_HOME/neurone,
    /// else ~/.cache/neurone; nil when none is known.
    static var cacheDirectory: String? {
        if let s = getenv("NEURONE_CACHE_DIR"), s.pointee != 0 { return String(cString: s) }
        if let s = getenv("XDG_CACHE_HOME"), s.pointee != 0 { return String(cString: s) + "/neurone" }
        if let s = getenv("HOME"), s.pointee != 0 { return String(cString: s) + "/.cache/neurone" }
        return nil
    }

    /// What identifies a decision: the library file (path, size, modification time), OpenBLAS's
    /// core, OPENBLAS_CORETYPE, the CPU (model and flags), the C kernels' level, the built-in
    /// GEMM's revision and the build (debug or release).
    static func cacheKey(libraryPath: String, core: String?) -> String {
        var st = stat()
        let found = stat(libraryPath, &st) == 0
        #if canImport(Darwin)
        let mtime = st.st_mtimespec.tv_sec
        #else
        let mtime = st.st_mtim.tv_sec
        #endif
        let file = found ? "\(st.st_size) \(mtime)" : "unknown"
        let coreType = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) } ?? ""
        // a debug build's C kernels are unoptimised: its measurements are its own
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        return "\(libraryPath) \(file) core=\(core ?? "?") coretype=\(coreType) cpu=\(cpuIdentity) level=\(Gemm.builtinKernelName) builtin-revision=\(Gemm.builtinRevision) build=\(build)"
    }

    /// The CPU's model name and a hash of its flags (Linux: /proc/cpuinfo), or "unknown"; read once.
    static let cpuIdentity: String = {
        guard let f = fopen("/proc/cpuinfo", "r") else { return "unknown" }
        defer { fclose(f) }
        var model = "", flags = ""
        var line: UnsafeMutablePointer<CChar>? = nil
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0, let l = line {
            let s = String(cString: l)
            if model.isEmpty, s.hasPrefix("model name") { model = s.split(separator: ":", maxSplits: 1).last.map { $0.trimmingWhitespace } ?? "" }
            if flags.isEmpty, s.hasPrefix("flags") { flags = s.split(separator: ":", maxSplits: 1).last.map { $0.trimmingWhitespace } ?? "" }
            if !model.isEmpty && !flags.isEmpty { break }
        }
        return "\(model.replacingSpaces)/\(fnv1a(flags))"
    }()

    /// The FNV-1a hash of `s`, in hexadecimal (a short stable name for a long string).
    static func fnv1a(_ s: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return String(h, radix: 16)
    }

    /// The cache file for `key` in `cacheDirectory` (a decision's, or a core choice's), or nil.
    static func cacheFile(forKey key: String) -> String? {
        guard let dir = cacheDirectory else { return nil }
        return dir + "/blas-check-" + fnv1a(key) + ".txt"
    }

    /// The cached choices for `key`, or nil when the file is missing, for another key, or not in
    /// the expected form (then it is measured again and rewritten).
    static func readCache(_ path: String, key: String) -> [GemmShapeClass: GemmClassChoice]? {
        readSmallFile(path).flatMap { parseCache($0, key: key) }
    }

    /// The choices in a cache file's text when it is exactly what `writeCache` writes for `key`
    /// (the format line, the key, one line per class with two finite speeds and blas|builtin),
    /// else nil. Public for the fuzz target.
    public static func parseCache(_ text: String, key: String) -> [GemmShapeClass: GemmClassChoice]? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.count == 2 + GemmShapeClass.allCases.count, lines[0] == cacheMagic, lines[1] == "key " + key else { return nil }
        var out: [GemmShapeClass: GemmClassChoice] = [:]
        for l in lines.dropFirst(2) {
            let f = l.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 4, let c = GemmShapeClass(rawValue: f[0]), let b = Double(f[1]), let k = Double(f[2]), b.isFinite, k.isFinite,
                  b >= 0, k >= 0, f[3] == "blas" || f[3] == "builtin", out[c] == nil else { return nil }
            out[c] = GemmClassChoice(useBLAS: f[3] == "blas", blasGflops: b, builtinGflops: k)
        }
        return out.count == GemmShapeClass.allCases.count ? out : nil
    }

    /// Writes the choices to a temporary file beside `path`, then renames it over `path`; the
    /// directory is made when missing. Failures leave the cache as it was (the check runs again next time).
    static func writeCache(_ path: String, key: String, _ choices: [GemmShapeClass: GemmClassChoice]) {
        guard choices.count == GemmShapeClass.allCases.count else { return }
        writeSmallFile(path, cacheText(key: key, choices))
    }

    /// The cache file's text for `choices` (every class present).
    public static func cacheText(key: String, _ choices: [GemmShapeClass: GemmClassChoice]) -> String {
        var text = cacheMagic + "\nkey " + key + "\n"
        for c in GemmShapeClass.allCases {
            guard let ch = choices[c] else { continue }
            text += "\(c.rawValue) \(ch.blasGflops) \(ch.builtinGflops) \(ch.useBLAS ? "blas" : "builtin")\n"
        }
        return text
    }

    /// mkdir -p `dir` (errors ignored: writing the file then fails, and the cache is skipped).
    static func makeDirectories(_ dir: String) {
        var prefix = dir.hasPrefix("/") ? "/" : ""
        for part in dir.split(separator: "/") {
            prefix += part
            mkdir(prefix, 0o755)
            prefix += "/"
        }
    }

    /// The decision for `lib` (already verified): NEURONE_GEMM, else the cache, else measured now (and cached).
    static func make(for lib: BLASLibrary, recheck: Bool = false) -> BLASDecision {
        let path = lib.filePath, core = lib.coreName
        let note = coreNote(lib)
        if let forced = environmentChoice {
            let all = Dictionary(uniqueKeysWithValues: GemmShapeClass.allCases.map { ($0, GemmClassChoice(useBLAS: forced, blasGflops: 0, builtinGflops: 0)) })
            return BLASDecision(library: lib.name, libraryPath: path, core: core, choices: all, origin: .environment, coreNote: note)
        }
        let key = cacheKey(libraryPath: path, core: core)
        let file = cacheFile(forKey: key)
        if !recheck, let file = file, let cached = readCache(file, key: key) {
            return BLASDecision(library: lib.name, libraryPath: path, core: core, choices: cached, origin: .cached(file), coreNote: note)
        }
        var choices: [GemmShapeClass: GemmClassChoice] = [:]
        for c in GemmShapeClass.allCases {
            let (b, k) = lib.probe(c)
            // ties go to the library (tuned for the CPU when it knows it): the built-in kernel must be 5 % faster
            choices[c] = GemmClassChoice(useBLAS: !(k > b * 1.05), blasGflops: b, builtinGflops: k)
        }
        if let file = file { writeCache(file, key: key, choices) }
        return BLASDecision(library: lib.name, libraryPath: path, core: core, choices: choices, origin: .measured, coreNote: note)
    }

    /// OpenBLAS's cores whose kernels use AVX2 or AVX-512.
    static let vectorCores = ["skylakex", "cooperlake", "sapphirerapids", "haswell", "zen", "skylake", "excavator"]

    /// The core to tell an OpenBLAS that runs `detected` on this CPU: SkylakeX on an AVX-512 CPU,
    /// Haswell on an AVX2 one, when `detected` uses neither (an OpenBLAS older than the CPU falls
    /// back to SSE3 Prescott: a third of the speed or less); nil when the core is fine. (An AVX2
    /// core on an AVX-512 CPU is left alone: OpenBLAS 0.3.21's Haswell and Cooperlake kernels
    /// measured alike on Zen 4, which splits 512-bit operations: 83–103 against 94–99 GFLOP/s.)
    static func remedyCore(for detected: String, level: Int32 = nk_kernel_level()) -> String? {
        guard level >= 1, !vectorCores.contains(detected.lowercased()) else { return nil }
        return level >= 2 ? "SkylakeX" : "Haswell"
    }

    /// A line about the library's core: the core Neurone told it (and the speeds that justified
    /// it), or a core that leaves this CPU's vector units unused; nil when there is nothing to say.
    static func coreNote(_ lib: BLASLibrary) -> String? {
        if let s = lib.coreSwitch {
            return "OpenBLAS chose its \(s.from) kernels on this CPU; its \(s.to) kernels passed the check against the built-in kernel and measured faster (512³: \(format(s.gflopsAfter)) GFLOP/s against \(format(s.gflopsBefore))), so Neurone tells it \(s.to) (as OPENBLAS_CORETYPE would; NEURONE_BLAS_CORE=keep does not)"
        }
        return coreWarning(core: lib.coreName)
    }

    /// The OpenBLAS core choice's cache format: its first line.
    static let coreCacheMagic = "neurone openblas core 1"

    /// What identifies a core choice: the library file, the core OpenBLAS chose itself, the CPU and the build.
    static func coreCacheKey(libraryPath: String, detected: String) -> String {
        "core-choice " + cacheKey(libraryPath: libraryPath, core: detected)
    }

    /// The core, and the 512³ speeds before and after, in a core-choice cache file's text when it
    /// is exactly what `coreCacheText` writes for `key`; else nil. Public for the fuzz target.
    public static func parseCoreCache(_ text: String, key: String) -> (core: String, before: Double, after: Double)? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.count == 3, lines[0] == coreCacheMagic, lines[1] == "key " + key else { return nil }
        let f = lines[2].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 4, f[0] == "core", (1...32).contains(f[1].count),
              f[1].unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }),
              let b = Double(f[2]), let a = Double(f[3]), b.isFinite, a.isFinite, b >= 0, a >= 0 else { return nil }
        return (f[1], b, a)
    }

    /// The core-choice cache file's text: the format line, the key, the core and the 512³ speeds
    /// measured before and after the switch.
    public static func coreCacheText(key: String, core: String, before: Double, after: Double) -> String {
        "\(coreCacheMagic)\nkey \(key)\ncore \(core) \(before) \(after)\n"
    }

    /// Reads a small cache file whole (nil when missing or over 64 KB).
    static func readSmallFile(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= 65536 {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes += buf[0..<n]
        }
        return bytes.count > 65536 ? nil : String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to a temporary file beside `path`, then renames it over `path` (the directory
    /// made when missing); a failure leaves the cache as it was.
    static func writeSmallFile(_ path: String, _ text: String) {
        guard let slash = path.lastIndex(of: "/") else { return }
        makeDirectories(String(path[..<slash]))
        let tmp = path + ".tmp.\(getpid())"
        guard let f = fopen(tmp, "w") else { return }
        let ok = fputs(text, f) >= 0
        if fclose(f) != 0 || !ok { unlink(tmp); return }
        if rename(tmp, path) != 0 { unlink(tmp) }
    }

    /// A line saying that the library's core uses neither AVX2 nor AVX-512 on a CPU that has them
    /// (and which OPENBLAS_CORETYPE would), or nil.
    static func coreWarning(core: String?, level: Int32 = nk_kernel_level()) -> String? {
        guard let core = core, !core.isEmpty, let better = remedyCore(for: core, level: level) else { return nil }
        let isa = level >= 2 ? "AVX-512" : "AVX2"
        if let set = getenv("OPENBLAS_CORETYPE"), set.pointee != 0 {
            return "OPENBLAS_CORETYPE=\(String(cString: set)) makes OpenBLAS run its \(core) kernels on this \(isa) CPU; OPENBLAS_CORETYPE=\(better) uses its \(isa)"
        }
        return "OpenBLAS runs its \(core) kernels on this \(isa) CPU: telling it \(better) was not done (NEURONE_BLAS_CORE=keep, or a library that cannot choose its core again) or failed the check or was not faster"
    }
}

extension Substring {
    var trimmingWhitespace: String {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\n" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\n" { s.removeLast() }
        return String(s)
    }
}

extension String {
    var replacingSpaces: String { String(map { $0 == " " ? "_" : $0 }) }
}

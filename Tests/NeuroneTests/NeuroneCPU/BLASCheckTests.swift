import XCTest
@testable import NeuroneCPU
import CNeuroneKernels
import NeuroneTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The BLAS library is checked before it is trusted: a library whose products disagree with the
/// built-in kernel's is refused with a message naming the product and the element; the speed
/// decision per class of product is cached per library and CPU, and a damaged cache is measured
/// again rather than believed.
final class BLASCheckTests: XCTestCase {
    func testShapeClasses() {
        XCTAssertEqual(GemmShapeClass.of(m: 512, n: 512, k: 512), .large)
        XCTAssertEqual(GemmShapeClass.of(m: 256, n: 300, k: 256), .large)
        XCTAssertEqual(GemmShapeClass.of(m: 64, n: 1000, k: 784), .smallRows)     // a batch of 64 rows through a Linear
        XCTAssertEqual(GemmShapeClass.of(m: 1000, n: 784, k: 64), .shortReduction) // its weight gradient
        XCTAssertEqual(GemmShapeClass.of(m: 64, n: 9216, k: 128), .smallRows)
        XCTAssertEqual(GemmShapeClass.of(m: 1, n: 1, k: 1), .shortReduction)
        for c in GemmShapeClass.allCases {  // each probe is a product of its own class
            XCTAssertFalse(c.probeShapes.isEmpty)
            for s in c.probeShapes { XCTAssertEqual(GemmShapeClass.of(m: s.m, n: s.n, k: s.k), c, "\(s)") }
        }
    }

    /// The library in use passed the check, and its decision covers every class.
    func testLoadedLibraryPassesTheCheck() throws {
        try XCTSkipUnless(Gemm.blasAvailable, "no BLAS library (NEURONE_BLAS=none or OpenBLAS not installed)")
        XCTAssertNil(Gemm.blasRejection)
        XCTAssertNil(BLASLibrary.shared!.verify())
        let d = try XCTUnwrap(Gemm.blasDecision)
        XCTAssertEqual(Set(d.choices.keys), Set(GemmShapeClass.allCases))
        XCTAssertEqual(d.lines.count, GemmShapeClass.allCases.count)
    }

    /// A real shared library that exports cblas_sgemm and cblas_dgemm but ignores beta (a wrong
    /// BLAS), built here with the C compiler: refused, with the product and element named.
    func testALibraryThatDisagreesIsRefused() throws {
        // the clang beside swift (on PATH wherever swift is), else the system's cc
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin"]
        let cc = ["clang", "cc", "gcc"].lazy.flatMap { name in dirs.map { $0 + "/" + name } }.first { FileManager.default.isExecutableFile(atPath: $0) }
        try XCTSkipIf(cc == nil, "no C compiler to build the wrong library with")
        let dir = "/tmp/neurone-badblas-\(getpid())"
        mkdir(dir, 0o755)
        defer { _ = try? FileManager.default.removeItem(atPath: dir) }
        let source = """
            static void gemm(int ta, int tb, int m, int n, int k, double alpha, const void *a, int lda, const void *b, int ldb,
                             void *c, int ldc, int isDouble) {
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int p = 0; p < k; p++) {
                            long ai = ta ? (long)p * lda + i : (long)i * lda + p, bi = tb ? (long)j * ldb + p : (long)p * ldb + j;
                            s += isDouble ? ((const double *)a)[ai] * ((const double *)b)[bi] : (double)((const float *)a)[ai] * ((const float *)b)[bi];
                        }
                        /* beta ignored: C is overwritten */
                        if (isDouble) ((double *)c)[(long)i * ldc + j] = alpha * s; else ((float *)c)[(long)i * ldc + j] = (float)(alpha * s);
                    }
            }
            void cblas_sgemm(int o, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                             float beta, float *c, int ldc) { gemm(ta == 112, tb == 112, m, n, k, alpha, a, lda, b, ldb, c, ldc, 0); }
            void cblas_dgemm(int o, int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda, const double *b, int ldb,
                             double beta, double *c, int ldc) { gemm(ta == 112, tb == 112, m, n, k, alpha, a, lda, b, ldb, c, ldc, 1); }
            """
        try source.write(toFile: dir + "/bad.c", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cc!)
        p.arguments = ["-shared", "-fPIC", "-O1", "-o", dir + "/libbadblas.so", dir + "/bad.c"]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "building the wrong library")
        let opened = try XCTUnwrap(BLASLibrary.open(dir + "/libbadblas.so"), "the library loads and has both symbols")
        XCTAssertNil(opened.library, "a library that ignores beta is not used")
        let why = try XCTUnwrap(opened.rejection)
        XCTAssertTrue(why.contains("libbadblas.so") && why.contains("failed Neurone's check"), why)
        XCTAssertTrue(why.contains("cblas_sgemm 37×29×45") && why.contains("differs from the built-in kernel at row 0, column 0"), why)
        // a file without the symbols is not a BLAS library at all
        XCTAssertNil(BLASLibrary.open("/nonexistent/libnothing.so"))
    }

    /// The cache: written through a temporary file and read back; another key, a damaged line, a
    /// missing class or a foreign first line all read as absent (the check then runs again).
    func testDecisionCacheRoundTripAndDamage() throws {
        let dir = "/tmp/neurone-blascache-\(getpid())/a/b"
        defer { _ = try? FileManager.default.removeItem(atPath: "/tmp/neurone-blascache-\(getpid())") }
        let file = dir + "/blas-check-test.txt"
        let choices: [GemmShapeClass: GemmClassChoice] = [
            .large: GemmClassChoice(useBLAS: true, blasGflops: 150.5, builtinGflops: 80.25),
            .smallRows: GemmClassChoice(useBLAS: false, blasGflops: 20, builtinGflops: 60),
            .shortReduction: GemmClassChoice(useBLAS: true, blasGflops: 95, builtinGflops: 92)]
        BLASDecision.writeCache(file, key: "lib 1 2 core=x", choices)
        XCTAssertEqual(BLASDecision.readCache(file, key: "lib 1 2 core=x"), choices)
        XCTAssertNil(BLASDecision.readCache(file, key: "lib 1 3 core=x"), "another library file")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["blas-check-test.txt"], "no temporary file left")
        let good = try String(contentsOfFile: file, encoding: .utf8)
        for damaged in [good.replacingOccurrences(of: "150.5", with: "abc"), good.replacingOccurrences(of: " blas\n", with: " maybe\n"),
                        good.replacingOccurrences(of: "short-k", with: "large"), String(good.dropLast(30)),
                        good.replacingOccurrences(of: "neurone blas check 2", with: "neurone blas check 1"), "", good + "extra line\n",
                        good.replacingOccurrences(of: "150.5", with: "inf")] {
            try damaged.write(toFile: file, atomically: true, encoding: .utf8)
            XCTAssertNil(BLASDecision.readCache(file, key: "lib 1 2 core=x"), "damaged: \(damaged)")
        }
        XCTAssertNil(BLASDecision.readCache(dir + "/missing.txt", key: "k"))
    }

    /// The OpenBLAS core choice's cache: written text reads back; another key, a name with odd
    /// characters, a damaged number or an extra line read as absent.
    func testCoreChoiceCache() {
        let text = BLASDecision.coreCacheText(key: "k 1", core: "SkylakeX", before: 29.75, after: 150.5)
        let c = BLASDecision.parseCoreCache(text, key: "k 1")
        XCTAssertEqual(c?.core, "SkylakeX")
        XCTAssertEqual(c?.before, 29.75)
        XCTAssertEqual(c?.after, 150.5)
        XCTAssertNil(BLASDecision.parseCoreCache(text, key: "k 2"))
        for damaged in [text.replacingOccurrences(of: "SkylakeX", with: "Sky/lake"), text.replacingOccurrences(of: "150.5", with: "-1"),
                        text.replacingOccurrences(of: "29.75", with: "nan"), text + "more\n", "", String(text.dropLast(6)),
                        text.replacingOccurrences(of: "SkylakeX", with: String(repeating: "A", count: 33))] {
            XCTAssertNil(BLASDecision.parseCoreCache(damaged, key: "k 1"), damaged)
        }
    }

    /// The cache lives in NEURONE_CACHE_DIR when set, and its name depends on the key.
    func testCacheLocationAndKey() {
        let saved = getenv("NEURONE_CACHE_DIR").map { String(cString: $0) }
        defer { if let s = saved { setenv("NEURONE_CACHE_DIR", s, 1) } else { unsetenv("NEURONE_CACHE_DIR") } }
        setenv("NEURONE_CACHE_DIR", "/tmp/somewhere", 1)
        let a = BLASDecision.cacheFile(forKey: "one")!, b = BLASDecision.cacheFile(forKey: "two")!
        XCTAssertTrue(a.hasPrefix("/tmp/somewhere/blas-check-") && a.hasSuffix(".txt"), a)
        XCTAssertNotEqual(a, b)
        let key = BLASDecision.cacheKey(libraryPath: "/nonexistent/lib.so", core: "Haswell")
        XCTAssertTrue(key.contains("core=Haswell") && key.contains("level=\(Gemm.builtinKernelName)") && key.contains("builtin-revision=\(Gemm.builtinRevision)")
                      && key.contains(" unknown "), key)
        // a library file replaced in place (same size, another modification time) is another key
        let lib = "/tmp/neurone-blaskey-\(getpid()).so"
        defer { unlink(lib) }
        XCTAssertTrue(FileManager.default.createFile(atPath: lib, contents: Data(repeating: 1, count: 100)))
        var times = [timeval(tv_sec: 1_000_000, tv_usec: 0), timeval(tv_sec: 1_000_000, tv_usec: 0)]
        XCTAssertEqual(utimes(lib, &times), 0)
        let k1 = BLASDecision.cacheKey(libraryPath: lib, core: nil)
        XCTAssertTrue(k1.contains("\(lib) 100 1000000 "), k1)
        times = [timeval(tv_sec: 2_000_000, tv_usec: 0), timeval(tv_sec: 2_000_000, tv_usec: 0)]
        XCTAssertEqual(utimes(lib, &times), 0)
        XCTAssertNotEqual(BLASDecision.cacheKey(libraryPath: lib, core: nil), k1)
    }

    /// OpenBLAS running a pre-AVX2 core on a CPU with AVX2 or AVX-512 is told the right one; vector cores are left alone.
    func testCoreRemedyAndWarning() {
        XCTAssertEqual(BLASDecision.remedyCore(for: "Prescott", level: 2), "SkylakeX")
        XCTAssertEqual(BLASDecision.remedyCore(for: "Nehalem", level: 1), "Haswell")
        XCTAssertNil(BLASDecision.remedyCore(for: "Prescott", level: 0), "a baseline CPU has nothing better")
        XCTAssertNil(BLASDecision.remedyCore(for: "Haswell", level: 2), "an AVX2 core on an AVX-512 CPU stays (as fast on Zen 4)")
        XCTAssertNil(BLASDecision.remedyCore(for: "Cooperlake", level: 2))
        XCTAssertNil(BLASDecision.coreWarning(core: nil, level: 2))
        XCTAssertNil(BLASDecision.coreWarning(core: "SkylakeX", level: 2))
        let w = BLASDecision.coreWarning(core: "Prescott", level: 2) ?? "nil"
        XCTAssertTrue(w.contains("Prescott kernels") && w.contains("AVX-512"), w)
    }

    /// OpenBLAS's core selection run again under another OPENBLAS_CORETYPE (what Neurone does for
    /// an OpenBLAS that does not know the CPU), on the real library: it then runs that core, its
    /// products still pass the check, and it goes back; OPENBLAS_CORETYPE is left as it was.
    func testSwitchingOpenBLASCore() throws {
        guard let lib = BLASLibrary.shared else { throw XCTSkip("no BLAS library (NEURONE_BLAS=none or OpenBLAS not installed)") }
        guard let original = lib.coreName else { throw XCTSkip("\(lib.name) is not OpenBLAS") }
        try XCTSkipIf(getenv("OPENBLAS_CORETYPE") != nil, "OPENBLAS_CORETYPE is set")
        let other = original.lowercased() == "haswell" ? "Sandybridge" : "Haswell"
        try XCTSkipUnless(lib.switchCore(to: other), "this OpenBLAS cannot choose its core again (not a DYNAMIC_ARCH build)")
        defer { _ = lib.switchCore(to: original) }
        XCTAssertEqual(lib.coreName, other)
        XCTAssertNil(getenv("OPENBLAS_CORETYPE"), "the environment is restored")
        XCTAssertNil(lib.verify(), "products under \(other) agree with the built-in kernel")
        XCTAssertTrue(lib.switchCore(to: original))
        XCTAssertEqual(lib.coreName, original)
        XCTAssertFalse(lib.switchCore(to: "NoSuchCore"), "an unknown name is not taken")
        XCTAssertTrue(lib.switchCore(to: original))
    }

    /// A requested backend routes every product; without one, each class takes the decision's path.
    func testRouting() throws {
        let saved = Gemm.requestedBackend
        defer { Gemm.requestedBackend = saved }
        Gemm.requestedBackend = .builtin
        XCTAssertEqual(Gemm.backendFor(m: 512, n: 512, k: 512), .builtin)
        Gemm.requestedBackend = nil
        for c in GemmShapeClass.allCases {
            let want: GemmBackend = (Gemm.blasDecision?.usesBLAS(c) ?? false) ? .blas : .builtin
            for s in c.probeShapes { XCTAssertEqual(Gemm.backendFor(m: s.m, n: s.n, k: s.k), want, "\(c) \(s)") }
        }
    }
}

/// The NEURONE_* variables with fixed values: each value it does not accept named, with what it expects.
final class EnvironmentCheckTests: XCTestCase {
    func testProblems() {
        XCTAssertEqual(NeuroneEnvironment.problems([:]), [])
        XCTAssertEqual(NeuroneEnvironment.problems(["NEURONE_KERNEL": "AVX2", "NEURONE_GEMM": "auto", "NEURONE_LINEAR": "gemm",
                                                    "NEURONE_NUM_THREADS": "3", "NEURONE_DEVICE": "reference", "NEURONE_BLAS_CORE": "keep"]), [])
        let p = NeuroneEnvironment.problems(["NEURONE_KERNEL": "avx3", "NEURONE_GEMM": "mkl", "NEURONE_LINEAR": "fast", "NEURONE_NUM_THREADS": "0",
                                             "NEURONE_DEVICE": "gpu", "NEURONE_BLAS_CORE": "SkylakeX"])
        XCTAssertEqual(p.count, 6, "\(p)")
        XCTAssertTrue(p.contains { $0.hasPrefix("NEURONE_KERNEL=avx3 is not one of generic, avx2, avx512") }, "\(p)")
        XCTAssertTrue(p.contains { $0.hasPrefix("NEURONE_GEMM=mkl is not one of auto, blas, builtin") }, "\(p)")
        XCTAssertTrue(p.contains { $0.hasPrefix("NEURONE_NUM_THREADS=0 is not a whole number") }, "\(p)")
        XCTAssertTrue(p.contains { $0.hasPrefix("NEURONE_DEVICE=gpu names no device") }, "\(p)")
        XCTAssertEqual(NeuroneEnvironment.problems(["NEURONE_NUM_THREADS": "two"]).count, 1)
    }
}

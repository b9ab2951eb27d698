import ArgumentParser
import Foundation
import Neurone

struct BenchGemm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GFLOP/s of a float32 matrix product: N×N×N, or any M×N×K with either operand transposed (median after warm-up).",
        discussion: """
            Repeat --size, --shape and --threads to sweep. A shape is MxNxK (C[M, N] = A[M, K]·B[K, N]) with an optional \
            :nn, :nt, :tn or :tt for which operands are transposed views (nt: B given as [N, K], as a Linear layer's weight). \
            Without --backend each product takes the path the BLAS check chose for its class (neurone info).
            Example: neurone bench gemm --size 1024 --size 2048 --threads 1 --threads 2 --json
            Example: neurone bench gemm --shape 64x1000x784:nt --shape 1000x784x64:tn --threads 1
            """)

    @Option(help: "Matrix size N of an N×N×N product (repeatable; default 1024 when no --shape is given).")
    var size: [Int] = []

    @Option(help: "MxNxK[:nn|nt|tn|tt] (repeatable).")
    var shape: [String] = []

    @Option(help: "Thread counts to run with (repeatable; default: NEURONE_NUM_THREADS or all cores).")
    var threads: [Int] = []

    @Option(help: "blas or builtin for every product (default: the BLAS check's choice for each product's class).")
    var backend: String?

    @Option(help: "Timed runs per configuration.")
    var repeats: Int = 7

    @Flag(help: "Print one JSON object per line: {\"m\":M,\"n\":N,\"k\":K,\"trans\":\"nn\",\"threads\":T,\"backend\":\"blas|builtin\",\"gflops\":X} (and \"size\":N for --size).")
    var json = false

    /// (m, n, k, transA, transB) of a --shape value, or nil with why.
    static func parseShape(_ s: String) -> Result<(Int, Int, Int, Bool, Bool), ValidationError> {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        let dims = parts[0].split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count <= 2, dims.count == 3, let m = dims[0], let n = dims[1], let k = dims[2] else {
            return .failure(ValidationError("--shape \(s): expected MxNxK with an optional :nn, :nt, :tn or :tt, e.g. 64x1000x784:nt"))
        }
        for (name, v) in [("M", m), ("N", n), ("K", k)] where v <= 0 || v > 65536 {
            return .failure(ValidationError("--shape \(s): \(name) must be in 1...65536, got \(v)"))
        }
        if m * k > 1 << 28 || k * n > 1 << 28 || m * n > 1 << 28 {
            return .failure(ValidationError("--shape \(s): an operand of more than 2^28 values (1 GiB) is beyond this benchmark"))
        }
        let t = parts.count == 2 ? String(parts[1]) : "nn"
        guard ["nn", "nt", "tn", "tt"].contains(t) else {
            return .failure(ValidationError("--shape \(s): the transposition must be nn, nt, tn or tt, got \(t)"))
        }
        return .success((m, n, k, t.first == "t", t.last == "t"))
    }

    func validate() throws {
        if let b = backend, GemmBackend(rawValue: b) == nil {
            throw ValidationError("--backend must be 'blas' or 'builtin', got '\(b)'")
        }
        if backend == "blas" && !Gemm.blasAvailable {
            throw ValidationError("--backend blas: no BLAS library was found. \(Gemm.pathDescription)")
        }
        for n in size where n <= 0 || n > 16384 { throw ValidationError("--size must be in 1...16384, got \(n)") }
        for s in shape { _ = try Self.parseShape(s).get() }
        for t in threads where t <= 0 || t > 1024 { throw ValidationError("--threads must be in 1...1024, got \(t)") }
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        if let b = backend { Gemm.backend = GemmBackend(rawValue: b)! }
        let threadList = threads.isEmpty ? [Threading.threadCount] : threads
        let g = Generator(seed: 42)
        var products: [(m: Int, n: Int, k: Int, ta: Bool, tb: Bool, size: Int?)] = (size.isEmpty && shape.isEmpty ? [1024] : size).map { ($0, $0, $0, false, false, $0) }
        for s in shape {
            let (m, n, k, ta, tb) = try Self.parseShape(s).get()
            products.append((m, n, k, ta, tb, nil))
        }
        for p in products {
            // operands stored as the transposition says, used through transposed views
            let a = Tensor.randn(p.ta ? [p.k, p.m] : [p.m, p.k], generator: g), b = Tensor.randn(p.tb ? [p.n, p.k] : [p.k, p.n], generator: g)
            let (av, bv) = (p.ta ? a.T : a, p.tb ? b.T : b)
            let trans = (p.ta ? "t" : "n") + (p.tb ? "t" : "n")
            let flops = 2 * Double(p.m) * Double(p.n) * Double(p.k)
            for t in threadList {
                Threading.threadCount = t
                let reps = flops <= 2 * 256 * 256 * 256 ? max(repeats, 50) : repeats
                let secs = medianSeconds(warmup: 2, repeats: reps) { _ = withNoGrad { av.matmul(bv) } }
                let gflops = flops / secs / 1e9
                // the path this product took: the one asked for, else the BLAS check's choice for its class
                let path = Gemm.backendFor(m: p.m, n: p.n, k: p.k)
                if json {
                    let sizeField = p.size.map { "\"size\":\($0)," } ?? ""
                    print("{\(sizeField)\"m\":\(p.m),\"n\":\(p.n),\"k\":\(p.k),\"trans\":\"\(trans)\",\"threads\":\(t),\"backend\":\"\(path.rawValue)\",\"gflops\":\(formatNumber(gflops, 2))}")
                } else {
                    let lib = path == .blas ? (Gemm.blasName ?? "blas") : "builtin \(Gemm.builtinKernelName)"
                    let what = p.size.map { "n=\($0)" } ?? "\(p.m)x\(p.n)x\(p.k):\(trans)"
                    print("gemm \(what) threads=\(t) backend=\(path.rawValue) (\(lib)): median \(formatNumber(secs * 1e3, 2)) ms, \(formatNumber(gflops)) GFLOP/s")
                }
            }
        }
    }
}

import ArgumentParser
import Foundation
import Neurone

struct BenchGemm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GFLOP/s of a float32 N×N×N matrix product (median after warm-up).",
        discussion: "Repeat --size and --threads to sweep. Example: neurone bench gemm --size 1024 --size 2048 --threads 1 --threads 2 --json")

    @Option(help: "Matrix size N (repeatable).")
    var size: [Int] = [1024]

    @Option(help: "Thread counts to run with (repeatable; default: NEURONE_NUM_THREADS or all cores).")
    var threads: [Int] = []

    @Option(help: "blas or builtin (default: blas when a BLAS library is found).")
    var backend: String?

    @Option(help: "Timed runs per configuration.")
    var repeats: Int = 7

    @Flag(help: "Print one JSON object per line: {\"size\":N,\"threads\":T,\"backend\":\"blas|builtin\",\"gflops\":X}.")
    var json = false

    func validate() throws {
        if let b = backend, GemmBackend(rawValue: b) == nil {
            throw ValidationError("--backend must be 'blas' or 'builtin', got '\(b)'")
        }
        if backend == "blas" && !Gemm.blasAvailable {
            throw ValidationError("--backend blas: no BLAS library was found. \(Gemm.pathDescription)")
        }
        for n in size where n <= 0 || n > 16384 { throw ValidationError("--size must be in 1...16384, got \(n)") }
        for t in threads where t <= 0 || t > 1024 { throw ValidationError("--threads must be in 1...1024, got \(t)") }
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() {
        if let b = backend { Gemm.backend = GemmBackend(rawValue: b)! }
        let threadList = threads.isEmpty ? [Threading.threadCount] : threads
        let g = Generator(seed: 42)
        for n in size {
            let a = Tensor.randn([n, n], generator: g), b = Tensor.randn([n, n], generator: g)
            for t in threadList {
                Threading.threadCount = t
                let reps = n <= 256 ? max(repeats, 50) : repeats
                let secs = medianSeconds(warmup: 2, repeats: reps) { _ = withNoGrad { a.matmul(b) } }
                let gflops = 2 * Double(n) * Double(n) * Double(n) / secs / 1e9
                // the path this product took: the one asked for, else the BLAS check's choice for its class
                let path = Gemm.backendFor(m: n, n: n, k: n)
                if json {
                    print("{\"size\":\(n),\"threads\":\(t),\"backend\":\"\(path.rawValue)\",\"gflops\":\(formatNumber(gflops, 2))}")
                } else {
                    let lib = path == .blas ? (Gemm.blasName ?? "blas") : "builtin \(Gemm.builtinKernelName)"
                    print("gemm n=\(n) threads=\(t) backend=\(path.rawValue) (\(lib)): median \(formatNumber(secs * 1e3, 2)) ms, \(formatNumber(gflops)) GFLOP/s")
                }
            }
        }
    }
}

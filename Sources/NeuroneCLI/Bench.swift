import ArgumentParser
import Foundation
import Neurone

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure kernel speed (release builds only give meaningful numbers).",
        subcommands: [BenchGemm.self, BenchOps.self, BenchLayers.self, BenchLinear.self, BenchTrain.self, BenchInfer.self])
}

/// Median wall time in seconds of `repeats` runs after at least `warmup` runs and 0.1 s of
/// warm-up (which lets the thread pool and the scheduler settle).
func medianSeconds(warmup: Int, repeats: Int, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let warmStart = clock.now
    var warmed = 0
    while warmed < warmup || clock.now - warmStart < .milliseconds(100) {
        body()
        warmed += 1
    }
    var times: [Double] = []
    for _ in 0..<max(1, repeats) {
        let d = clock.measure { body() }
        times.append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
    }
    times.sort()
    return times[times.count / 2]
}

func formatNumber(_ x: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", x) }

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
                if json {
                    print("{\"size\":\(n),\"threads\":\(t),\"backend\":\"\(Gemm.backend.rawValue)\",\"gflops\":\(formatNumber(gflops, 2))}")
                } else {
                    let lib = Gemm.backend == .blas ? (Gemm.blasName ?? "blas") : "builtin \(Gemm.builtinKernelName)"
                    print("gemm n=\(n) threads=\(t) backend=\(Gemm.backend.rawValue) (\(lib)): median \(formatNumber(secs * 1e3, 2)) ms, \(formatNumber(gflops)) GFLOP/s")
                }
            }
        }
    }
}

struct BenchOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "GB/s of add, relu, sigmoid and sum over large float32 tensors, next to copy bandwidth; and the cost per op of a chain of small-tensor ops, forward + backward.")

    @Option(help: "Elements per tensor for the bandwidth tests.")
    var count: Int = 10_000_000

    @Option(help: "Thread count (default: NEURONE_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Timed runs per measurement.")
    var repeats: Int = 15

    @Flag(help: "Print one JSON object per line.")
    var json = false

    func validate() throws {
        if count <= 0 { throw ValidationError("--count must be positive, got \(count)") }
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive, got \(t)") }
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() {
        if let t = threads { Threading.threadCount = t }
        let g = Generator(seed: 1)
        let x = Tensor.randn([count], generator: g), y = Tensor.randn([count], generator: g)
        let bytes = Double(count * 4)
        var results: [(String, Double, Double)] = []  // name, seconds, bytes moved
        withNoGrad {
            results.append(("copy", medianSeconds(warmup: 2, repeats: repeats) { _ = x.clone() }, 2 * bytes))
            results.append(("add", medianSeconds(warmup: 2, repeats: repeats) { _ = x + y }, 3 * bytes))
            results.append(("relu", medianSeconds(warmup: 2, repeats: repeats) { _ = x.relu() }, 2 * bytes))
            results.append(("sigmoid", medianSeconds(warmup: 2, repeats: repeats) { _ = x.sigmoid() }, 2 * bytes))
            results.append(("sum", medianSeconds(warmup: 2, repeats: repeats) { _ = x.sum() }, bytes))
        }
        let copyGBs = results[0].2 / results[0].1 / 1e9
        for (name, secs, moved) in results {
            let gbs = moved / secs / 1e9
            if json {
                print("{\"op\":\"\(name)\",\"count\":\(count),\"threads\":\(Threading.threadCount),\"gbps\":\(formatNumber(gbs, 2)),\"vs_copy\":\(formatNumber(gbs / copyGBs, 3))}")
            } else {
                print("\(name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(count) float32, \(Threading.threadCount) threads: \(formatNumber(secs * 1e3, 2)) ms, \(formatNumber(gbs)) GB/s (\(formatNumber(gbs / copyGBs, 2))× copy)")
            }
        }
        // Small-tensor chain: 6 ops forward, then backward.
        let w = Tensor.randn([16], generator: g).requiringGrad(), b = Tensor.randn([16], generator: g).requiringGrad()
        let xs = Tensor.randn([16], generator: g)
        let opsInChain = 6.0
        let secs = medianSeconds(warmup: 200, repeats: 2000) {
            let out = ((xs * w + b).relu().sigmoid() * 2.0).sum()
            out.backward()
            w.grad = nil
            b.grad = nil
        }
        let perOp = secs / opsInChain * 1e6
        if json {
            print("{\"op\":\"small_chain\",\"shape\":[16],\"ops\":6,\"us_per_op\":\(formatNumber(perOp, 3)),\"us_per_step\":\(formatNumber(secs * 1e6, 3))}")
        } else {
            print("small-tensor chain (6 ops on [16], forward + backward): \(formatNumber(secs * 1e6, 2)) µs per step, \(formatNumber(perOp, 2)) µs per op")
        }
    }
}

import ArgumentParser
import Neurone

/// `neurone bench peak`: the float32 multiply-add peak of this CPU at each instruction-set level.
struct BenchPeak: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak",
        abstract: "The CPU's measured float32 multiply-add peak (GFLOP/s) at each vector level, per thread count.",
        discussion: """
            12 independent chains of vector FMAs in registers per thread (peak.c), at AVX-512, AVX2 and the baseline \
            (those this CPU has, after NEURONE_KERNEL's cap); the median of --repeats runs of about 0.1 s. The kernels' \
            GFLOP/s in docs/PERFORMANCE.md are set against this. On Zen 4 AVX-512 and AVX2 peak alike (512-bit \
            operations take two passes); on Intel Xeons with two 512-bit FMA units AVX-512 doubles it.
            Example: neurone bench peak --threads 1 --threads 2 --json
            """)

    @Option(help: "Thread counts (repeatable; default: 1 and NEURONE_NUM_THREADS or all cores).")
    var threads: [Int] = []

    @Option(help: "Runs per level and thread count.")
    var repeats: Int = 5

    @Flag(help: "Print one JSON object per line: {\"level\":\"avx512\",\"threads\":T,\"gflops\":X}.")
    var json = false

    func validate() throws {
        for t in threads where t <= 0 || t > 1024 { throw ValidationError("--threads must be in 1...1024, got \(t)") }
        if repeats <= 0 || repeats > 1000 { throw ValidationError("--repeats must be in 1...1000, got \(repeats)") }
    }

    func run() {
        let list = threads.isEmpty ? Array(Set([1, Threading.threadCount])).sorted() : threads
        for (name, level) in FMAPeak.levels {
            let iterations = FMAPeak.runIterations(level)
            _ = FMAPeak.measure(level: level, threads: 1, iterations: iterations / 10)  // warm-up
            for t in list {
                var runs: [Double] = []
                for _ in 0..<repeats { runs.append(FMAPeak.measure(level: level, threads: t, iterations: iterations)) }
                let g = runs.sorted()[runs.count / 2]
                if json { print("{\"level\":\"\(name)\",\"threads\":\(t),\"gflops\":\(formatNumber(g, 2))}") }
                else { print("\(name.padding(toLength: 8, withPad: " ", startingAt: 0)) threads=\(t): \(formatNumber(g)) GFLOP/s (median of \(repeats))") }
            }
        }
    }
}

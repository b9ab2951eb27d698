import CNeuroneKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The host's float32 multiply-add peak, measured (peak.c): what `neurone bench peak` reports and
/// the kernels' GFLOP/s are set against.
public enum FMAPeak {
    /// The instruction-set levels this process may run (after NEURONE_KERNEL's cap), widest first.
    public static var levels: [(name: String, level: Int32)] {
        let top = nk_kernel_level()
        return [("avx512", 2), ("avx2", 1), ("generic", 0)].filter { $0.1 <= top }.map { (name: $0.0, level: $0.1) }
    }

    /// Float32 lanes per vector at `level` (16, 8 or 4): each probe step is 12·lanes multiply-adds.
    public static func lanes(_ level: Int32) -> Int { Int(nk_fma_peak_lanes(level)) }

    /// The probe steps of one run at `level`: 10 GFLOP a thread (about 0.1 s at 100 GFLOP/s), what
    /// `neurone bench peak` times and `bench train --against-peak` runs before each repeat.
    public static func runIterations(_ level: Int32) -> Int { 10_000_000_000 / (12 * 2 * lanes(level)) }

    /// GFLOP/s of `threads` threads, each running `iterations` steps of the probe at `level`, once.
    public static func measure(level: Int32, threads: Int, iterations: Int) -> Double {
        let saved = Threading.threadCount
        defer { Threading.threadCount = saved }
        Threading.threadCount = threads
        var t0 = timespec(), t1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t0)
        Threading.parallelFor(threads, minChunk: 1) { a, b in
            for _ in a..<b { _ = nk_fma_peak_run(level, Int64(iterations)) }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1)
        let secs = Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) * 1e-9
        let flops = Double(threads) * Double(iterations) * 12 * Double(lanes(level)) * 2
        return flops / secs / 1e9
    }
}

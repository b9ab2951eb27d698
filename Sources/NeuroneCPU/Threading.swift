import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CNeuroneKernels

/// How many threads Neurone's kernels use, and the helper that splits work across them.
///
/// The count comes from the environment variable `NEURONE_NUM_THREADS` when set, otherwise
/// from the number of online cores. The BLAS library runs single-threaded: Neurone splits large
/// products across its own pool (see `Gemm`), so one set of threads serves every kernel and no
/// second pool spins on the same cores.
public enum Threading {
    /// Number of cores online.
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    nonisolated(unsafe) private static var _threadCount: Int = {
        if let s = getenv("NEURONE_NUM_THREADS"), let n = Int(String(cString: s)), n > 0 { return n }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }()

    /// Threads used by elementwise, reduction and GEMM kernels (≥ 1).
    public static var threadCount: Int {
        get { _threadCount }
        set {
            check(newValue >= 1, "Threading.threadCount must be at least 1, got \(newValue)")
            _threadCount = newValue
        }
    }

    /// Splits `0..<count` into at most `threadCount` contiguous chunks of at least `minChunk`
    /// items and runs `body(start, end)` on each, in parallel when there is more than one.
    @inline(__always)
    static func parallelFor(_ count: Int, minChunk: Int, _ body: (Int, Int) -> Void) {
        let (chunks, per) = chunking(count, minChunk: minChunk)
        if chunks <= 1 {
            if count > 0 { body(0, count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var region = Region(count: count, per: per, body: body)
            withUnsafeMutablePointer(to: &region) { p in
                nk_parallel_run(Int64(chunks), { ctx, index in
                    let r = ctx!.assumingMemoryBound(to: Region.self)
                    let start = Int(index) * r.pointee.per
                    let end = min(r.pointee.count, start + r.pointee.per)
                    if start < end { r.pointee.body(start, end) }
                }, p)
            }
        }
    }

    /// How `parallelFor(count, minChunk:)` splits `0..<count`: the number of chunks (≤ 1: one
    /// call on the calling thread) and the items per chunk, so chunk `start / per` begins at `start`.
    static func chunking(_ count: Int, minChunk: Int) -> (chunks: Int, per: Int) {
        let chunks = min(threadCount, count / max(minChunk, 1))
        return chunks <= 1 ? (1, max(count, 1)) : (chunks, (count + chunks - 1) / chunks)
    }

    /// What one parallel loop hands to the C thread pool.
    private struct Region {
        let count: Int
        let per: Int
        let body: (Int, Int) -> Void
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counters of the tensor memory Neurone takes from the system, for benchmarks and tests: a
/// training step that reuses its buffers adds nothing here once warmed up.
public enum MemoryStats {
    /// Tensor buffers obtained from the system so far (buffers reused from the cache not counted).
    public static var systemAllocations: Int { BufferCache.shared.systemAllocations }
    /// Their total size in bytes.
    public static var systemAllocatedBytes: Int { BufferCache.shared.systemAllocatedBytes }

    /// The process's peak resident set in MiB (VmHWM on Linux, ru_maxrss elsewhere).
    public static var peakResidentMiB: Double {
        #if os(Linux)
        if let f = fopen("/proc/self/status", "r") {
            defer { fclose(f) }
            var line = [CChar](repeating: 0, count: 256)
            while fgets(&line, 256, f) != nil {
                let text = String(cString: line)
                if text.hasPrefix("VmHWM:"), let kb = Double(text.dropFirst(6).split(separator: " ").first ?? "") { return kb / 1024 }
            }
        }
        #endif
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / (1024 * 1024)
        #endif
    }
}

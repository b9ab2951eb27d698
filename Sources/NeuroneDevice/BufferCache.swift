#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps freed buffers for reuse, as PyTorch's caching allocators do: a fresh multi-megabyte
/// buffer costs a page fault per 4 KiB on first touch, which would otherwise dominate
/// memory-bound ops, and a training step that reuses its buffers takes no new memory from the
/// system once warmed up. Sizes are rounded up to 64 bytes (4 KiB from 64 KiB on); up to 1 GiB is
/// kept.
package final class BufferCache: @unchecked Sendable {
    package static let shared = BufferCache()
    private let pageRoundedFrom = 1 << 16
    private let capacityBytes = 1 << 30
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    private var lock = pthread_mutex_t()
    /// Buffers obtained from the system (not reused from the cache), and their bytes.
    private(set) var systemAllocations = 0
    private(set) var systemAllocatedBytes = 0

    private init() { pthread_mutex_init(&lock, nil) }

    private func roundedSize(_ bytes: Int) -> Int {
        let size = max(bytes, 1)
        return size < pageRoundedFrom ? ((size + 63) & ~63) : ((size + 4095) & ~4095)
    }

    package func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        let size = roundedSize(bytes)
        pthread_mutex_lock(&lock)
        // In place: popping from a copy of the list would copy the whole array each time.
        if let p = free[size]?.popLast() {
            cachedBytes -= size
            pthread_mutex_unlock(&lock)
            return p
        }
        systemAllocations += 1
        systemAllocatedBytes += size
        pthread_mutex_unlock(&lock)
        var p: UnsafeMutableRawPointer?
        let rc = posix_memalign(&p, 64, size)
        check(rc == 0 && p != nil, "Neurone: out of memory allocating \(bytes) bytes")
        return p!
    }

    package func release(_ p: UnsafeMutableRawPointer, byteCount: Int) {
        let size = roundedSize(byteCount)
        pthread_mutex_lock(&lock)
        if cachedBytes + size <= capacityBytes {
            free[size, default: []].append(p)
            cachedBytes += size
            pthread_mutex_unlock(&lock)
            return
        }
        pthread_mutex_unlock(&lock)
        systemFree(p)
    }

    /// Returns every cached buffer to the system.
    package func empty() {
        pthread_mutex_lock(&lock)
        for (_, list) in free { for p in list { systemFree(p) } }
        free.removeAll()
        cachedBytes = 0
        pthread_mutex_unlock(&lock)
    }
}

@inline(__always) private func systemFree(_ p: UnsafeMutableRawPointer) {
    #if canImport(Glibc)
    Glibc.free(p)
    #else
    Darwin.free(p)
    #endif
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Overflow-checked sizes for numbers that come from users and files: shapes read from a header
/// or typed on the command line are multiplied here, never with `*`, before anything is allocated.
package enum CheckedSize {
    /// The product of `factors` (all ≥ 0), or nil when it overflows `Int` — or when the product
    /// of the nonzero factors does: a shape such as 0×2³¹×2³¹×2³¹ holds no elements, but its
    /// strides (each the product of the extents after it, an extent of 0 counted as 1) would not
    /// fit in `Int`, so a tensor of it cannot be made either.
    package static func product(_ factors: [Int]) -> Int? {
        var p = 1, strided = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (r, overflow) = p.multipliedReportingOverflow(by: f)
            let (s, stridedOverflow) = strided.multipliedReportingOverflow(by: Swift.max(f, 1))
            if overflow || stridedOverflow { return nil }
            p = r
            strided = s
        }
        return p
    }

    /// The bytes of `count` elements of `dtype`, or nil on overflow.
    package static func bytes(_ count: Int, _ dtype: DType) -> Int? { product([count, dtype.byteSize]) }

    /// The machine's physical memory in bytes (Int.max when unknown): no single tensor a user asks
    /// for may be larger.
    package static let physicalMemory: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0, let total = product([pages, size]) else { return .max }
        return total
    }()

    /// The most bytes one tensor or layer that a user asks for may take: the physical memory,
    /// lowered by the fuzz targets so that a fuzzer's memory limit is never the one that stops.
    nonisolated(unsafe) package static var allocationLimit: Int = physicalMemory

    /// "1.5 GB", "640 KB": bytes for messages.
    package static func describe(bytes: Int) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
        var v = Double(bytes), u = 0
        while v >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
        if u == 0 { return "\(bytes) bytes" }
        return v < 10 ? "\((v * 10).rounded() / 10) \(units[u])" : "\(Int(v.rounded())) \(units[u])"
    }

    /// `describe(bytes:)` of a size and of the limit it exceeds, in exact bytes when the two would
    /// read the same once rounded ("67108868 bytes … more than 67108864 bytes", never "67 MB …
    /// more than 67 MB").
    package static func describe(bytes: Int, against limit: Int) -> (size: String, limit: String) {
        let (a, b) = (describe(bytes: bytes), describe(bytes: limit))
        return a == b ? ("\(bytes) bytes", "\(limit) bytes") : (a, b)
    }
}

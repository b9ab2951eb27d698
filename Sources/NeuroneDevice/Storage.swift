#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reference-counted, 64-byte aligned block of memory that tensors view.
/// Several tensors (views) may share one storage; it is freed when the last one goes.
package final class Storage {
    package let data: UnsafeMutableRawPointer
    package let byteCount: Int
    package let device: Device

    package init(byteCount: Int, device: Device = .cpu) {
        self.byteCount = byteCount
        self.device = device
        self.data = BufferCache.shared.allocate(byteCount)
    }

    /// A zero-filled storage.
    package convenience init(zeroedByteCount byteCount: Int, device: Device = .cpu) {
        self.init(byteCount: byteCount, device: device)
        memset(data, 0, byteCount)
    }

    deinit { BufferCache.shared.release(data, byteCount: byteCount) }
}

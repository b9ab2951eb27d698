#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reference-counted block of one device's memory that tensors view. Several tensors (views)
/// may share one storage; it is freed when the last one goes. Only the owning device's backend
/// reads or writes through `address`: the layers above reach the values through the backend's
/// copies (`Tensor.toArray`, `Tensor.fromHost`…).
package final class Storage {
    /// Where the memory starts in the device's address space (host memory for host devices).
    package let address: UnsafeMutableRawPointer
    package let byteCount: Int
    package let device: Device
    /// Frees device memory; nil for host memory from the `BufferCache`.
    private let release: ((UnsafeMutableRawPointer, Int) -> Void)?

    /// 64-byte aligned host memory from the buffer cache, for a device whose memory is the host's.
    package init(hostByteCount byteCount: Int, device: Device) {
        self.byteCount = byteCount
        self.device = device
        self.address = BufferCache.shared.allocate(byteCount)
        self.release = nil
    }

    /// Memory a device allocated itself, handed back to `release` when the last view goes.
    package init(address: UnsafeMutableRawPointer, byteCount: Int, device: Device,
                 release: @escaping (UnsafeMutableRawPointer, Int) -> Void) {
        self.address = address
        self.byteCount = byteCount
        self.device = device
        self.release = release
    }

    deinit {
        if let release { release(address, byteCount) } else { BufferCache.shared.release(address, byteCount: byteCount) }
    }
}

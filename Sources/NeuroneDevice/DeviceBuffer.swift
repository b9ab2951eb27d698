/// A place in one device's memory: a storage and a byte offset into it. The layers above the
/// device hand these to its backend and never read through them; only the backend that owns the
/// storage does (`CPUBackend` through `pointer`), so a device may keep its memory where the host
/// cannot see it.
package struct DeviceBuffer {
    /// The device memory.
    package let storage: Storage
    /// Where the buffer starts in it, in bytes.
    package let byteOffset: Int

    package init(storage: Storage, byteOffset: Int) {
        self.storage = storage
        self.byteOffset = byteOffset
    }

    /// The buffer `bytes` further on in the same storage.
    @inline(__always) package static func + (b: DeviceBuffer, bytes: Int) -> DeviceBuffer {
        DeviceBuffer(storage: b.storage, byteOffset: b.byteOffset + bytes)
    }
}

/// Where a tensor's memory lives and which backend runs its kernels: a name and the backend that
/// owns that memory. Each backend target declares its own device (`Device.cpu` in NeuroneCPU,
/// `Device.reference` in NeuroneReference, a future `Device.cuda(0)` in NeuroneCUDA); the tensor
/// layer's registry lists them (`Device.registered`) and NEURONE_DEVICE picks the one new tensors
/// go to (`Device.default`).
///
/// A tensor stays on its device: ops put their results beside their inputs, an op given tensors of
/// two devices stops with a message naming both, and `Tensor.to(device:)` copies a tensor to another.
///
/// A `Device` is a handle to one record per device made once for the life of the process, so
/// copying and comparing devices — which every op does — costs a pointer, without reference
/// counting.
public struct Device: Hashable, @unchecked Sendable, CustomStringConvertible {
    /// The name and backend of one device; never freed.
    package final class Record {
        package let name: String
        package let backend: any Backend
        /// Whether the device's memory is the host's (`HostMemoryBackend`).
        package let hostMemory: Bool
        init(name: String, backend: any Backend) {
            self.name = name
            self.backend = backend
            self.hostMemory = backend is any HostMemoryBackend
        }
    }

    private unowned(unsafe) let record: Record

    /// A new device called `name`, computed on by `backend` — for a backend target declaring its
    /// device once, as a static constant. Its record lives as long as the process.
    package init(name: String, backend: any Backend) {
        let r = Record(name: name, backend: backend)
        _ = Unmanaged.passRetained(r)   // immortal: devices are made once and handles do not count references
        record = r
    }

    /// The name NEURONE_DEVICE and `Device(named:)` know it by: `cpu`, `reference`.
    public var name: String { record.name }
    /// The backend that allocates this device's memory and runs its kernels.
    package var backend: any Backend { record.backend }

    public var description: String { record.name }

    @inline(__always) public static func == (a: Device, b: Device) -> Bool { a.record === b.record }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(record)) }

    /// New memory of `byteCount` bytes on this device (zero-filled when `zeroed`): from the host's
    /// buffer cache for host-memory devices — what `HostMemoryBackend.allocate` does, without
    /// the dynamic calls on the path of every op — else from the backend.
    @inline(__always)
    package func allocate(byteCount: Int, zeroed: Bool) -> Storage {
        if record.hostMemory {
            let s = Storage(hostByteCount: byteCount, device: self)
            if zeroed { s.address.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount) }
            return s
        }
        return record.backend.allocate(byteCount: byteCount, zeroed: zeroed)
    }

    /// The host threads this device's kernels use (on the CPU: `NEURONE_NUM_THREADS` or all cores).
    public var threadCount: Int { record.backend.threadCount }
}

/// Where a tensor's memory lives and which backend runs its kernels: a name and the backend that
/// owns that memory. Each backend target declares its own device (`Device.cpu` in NeuroneCPU,
/// `Device.reference` in NeuroneReference, a future `Device.cuda(0)` in NeuroneCUDA); the tensor
/// layer's registry lists them (`Device.registered`) and NEURONE_DEVICE picks the one new tensors
/// go to (`Device.default`). Two devices are equal when their names are.
///
/// A tensor stays on its device: ops put their results beside their inputs, an op given tensors of
/// two devices stops with a message naming both, and `Tensor.to(_:)` copies a tensor to another.
public struct Device: Hashable, @unchecked Sendable, CustomStringConvertible {
    /// The name NEURONE_DEVICE and `Device(named:)` know it by: `cpu`, `reference`.
    public let name: String
    /// The backend that allocates this device's memory and runs its kernels.
    package let backend: any Backend

    /// The device `name`, computed on by `backend` (for backend targets declaring their device).
    package init(name: String, backend: any Backend) {
        self.name = name
        self.backend = backend
    }

    public var description: String { name }

    public static func == (a: Device, b: Device) -> Bool { a.name == b.name }
    public func hash(into h: inout Hasher) { h.combine(name) }

    /// The host threads this device's kernels use (on the CPU: `NEURONE_NUM_THREADS` or all cores).
    public var threadCount: Int { backend.threadCount }
}

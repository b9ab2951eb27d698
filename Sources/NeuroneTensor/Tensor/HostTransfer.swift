import NeuroneDevice

/// The only ways the host reaches tensor memory: an explicit upload (`fromHost`, the tensor
/// initialisers), an explicit read (`withHostBytes`, behind `toArray`, `item`, printing and
/// saving) and, for tests, an explicit read-modify-write (`modifyHostBytes`). Each waits for the
/// device first and copies only where the host cannot address the device's memory in place, so a
/// device may run asynchronously between them.
extension Tensor {
    /// A new contiguous tensor on `device` whose values `fill` writes from the host, in row-major
    /// order, into the uninitialised buffer it is given (count × dtype.byteSize bytes): the
    /// explicit upload through which file parsers and data loaders hand values to a device.
    package static func fromHost(_ shape: [Int], dtype: DType, device: Device = .default,
                                 _ fill: (UnsafeMutableRawPointer) throws -> Void) rethrows -> Tensor {
        let t = Tensor.empty(shape, dtype: dtype, device: device)
        let bytes = t.count * dtype.byteSize
        if let p = t.backend.hostAddress(t.buffer) {
            try fill(p)
            return t
        }
        let staging = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes, 1), alignment: 64)
        defer { staging.deallocate() }
        try fill(staging)
        t.backend.copyFromHost(staging, to: t.buffer, byteCount: bytes)
        return t
    }

    /// Calls `body` with the tensor's values in row-major order in host memory (count ×
    /// dtype.byteSize bytes, valid only during the call): the explicit read.
    package func withHostBytes<R>(_ body: (UnsafeRawPointer) throws -> R) rethrows -> R {
        let c = contiguousCopyIfNeeded()
        let backend = c.backend
        backend.synchronize()
        return try withExtendedLifetime(c) {
            if let p = backend.hostAddress(c.buffer) { return try body(UnsafeRawPointer(p)) }
            let bytes = c.count * dtype.byteSize
            let staging = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes, 1), alignment: 64)
            defer { staging.deallocate() }
            backend.copyToHost(c.buffer, to: staging, byteCount: bytes)
            return try body(UnsafeRawPointer(staging))
        }
    }

    /// Lets `body` read and change the values of this contiguous tensor in host memory, then
    /// writes them back to the device (for gradient checks, which nudge one input at a time).
    package func modifyHostBytes<R>(_ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        check(isContiguous, "modifyHostBytes: the tensor must be contiguous")
        backend.synchronize()
        if let p = backend.hostAddress(buffer) { return try body(p) }
        let bytes = count * dtype.byteSize
        let staging = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes, 1), alignment: 64)
        defer { staging.deallocate() }
        backend.copyToHost(buffer, to: staging, byteCount: bytes)
        let result = try body(staging)
        backend.copyFromHost(staging, to: buffer, byteCount: bytes)
        return result
    }

    /// This tensor on `device`, like PyTorch's `tensor.to(device)`: self when it is already
    /// there, else a contiguous copy (through the host) whose gradient flows back to this
    /// tensor's device.
    public func to(device: Device) -> Tensor {
        let source = storage.device
        if device == source { return self }
        let out = Tensor.empty(shape, dtype: dtype, device: device)
        let bytes = count * dtype.byteSize
        if bytes > 0 {
            withHostBytes { src in out.backend.copyFromHost(src, to: out.buffer, byteCount: bytes) }
        }
        if !Tensor.needsGrad(self) { return out }
        return out.recording("ToCopyBackward", [self]) { g in [g.to(device: source)] }
    }

    /// Stops with a message naming the op and both devices unless every tensor given is on
    /// `first`'s device; returns that device. Ops call it before they hand buffers to a backend.
    @inline(__always)
    package static func commonDevice(_ op: @autoclosure () -> String, _ first: Tensor, _ b: Tensor?,
                                     _ c: Tensor? = nil, _ d: Tensor? = nil, _ e: Tensor? = nil) -> Device {
        let device = first.storage.device
        if let b, b.storage.device != device { fail(mixedDevicesMessage(op(), device, b.storage.device)) }
        if let c, c.storage.device != device { fail(mixedDevicesMessage(op(), device, c.storage.device)) }
        if let d, d.storage.device != device { fail(mixedDevicesMessage(op(), device, d.storage.device)) }
        if let e, e.storage.device != device { fail(mixedDevicesMessage(op(), device, e.storage.device)) }
        return device
    }

    /// The operands of a two-input op on one device: PyTorch's exception to the same-device rule
    /// lets a 0-dimensional tensor (a scalar) join a tensor of another device, and it is copied
    /// there; any other mix stops with `mixedDevicesMessage`.
    @inline(__always)
    package static func onOneDevice(_ op: @autoclosure () -> String, _ a: Tensor, _ b: Tensor) -> (Tensor, Tensor, Device) {
        let da = a.storage.device, db = b.storage.device
        if da == db { return (a, b, da) }
        if b.rank == 0 { return (a, b.to(device: da), da) }
        if a.rank == 0 { return (a.to(device: db), b, db) }
        fail(mixedDevicesMessage(op(), da, db))
    }

    /// "op: expected all tensors on one device, found cpu and reference" — PyTorch's rule and words.
    package static func mixedDevicesMessage(_ op: String, _ a: Device, _ b: Device) -> String {
        "\(op): expected all tensors to be on the same device, but found at least two devices, \(a) and \(b) (move one with .to(device:))"
    }
}

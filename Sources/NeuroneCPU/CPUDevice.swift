import NeuroneDevice

extension Device {
    /// The host CPU: memory from the host's buffer cache, computed on by `CPUBackend` (SIMD
    /// kernels, BLAS when found, `NEURONE_NUM_THREADS` threads).
    public static let cpu = Device(name: "cpu", backend: CPUBackend.shared)
}

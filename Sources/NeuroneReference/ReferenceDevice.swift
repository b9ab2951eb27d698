import NeuroneDevice

extension Device {
    /// Host memory computed on by `ReferenceBackend`'s plain loops (float64 sums, one thread): the
    /// oracle the CPU's kernels are checked against, and a second device to test device rules with.
    public static let reference = Device(name: "reference", backend: ReferenceBackend.shared)
}

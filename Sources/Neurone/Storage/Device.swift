/// Where a tensor's memory lives and which backend runs its kernels.
/// Only the CPU exists today; a GPU backend adds a case and a `Backend` implementation
/// without changing the tensor API (see docs/ARCHITECTURE.md).
public enum Device: Equatable, Sendable, CustomStringConvertible {
    case cpu

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        }
    }

    /// The kernel implementation for this device.
    var backend: Backend {
        switch self {
        case .cpu: return CPUBackend.shared
        }
    }
}

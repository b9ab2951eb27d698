/// Where a tensor's memory lives and which backend runs its kernels.
/// Only the CPU exists today; a GPU backend adds a case here, a `Backend` implementation in a
/// target of its own and a line in the tensor layer's registry (`Device.backend`), without
/// changing the tensor API (see docs/ARCHITECTURE.md).
public enum Device: Equatable, Sendable, CustomStringConvertible {
    case cpu

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        }
    }
}

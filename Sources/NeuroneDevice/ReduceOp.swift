/// Reductions along one axis of a contiguous [outer, size, inner] block.
public enum ReduceOp: String, Sendable {
    case sum, max, min, argmax, argmin
}

/// Elementwise functions of two tensors (after broadcasting).
public enum BinaryOp: String, Sendable {
    case add, sub, mul, div, pow, minimum, maximum
}

/// Elementwise comparisons; the result is a bool tensor.
public enum CompareOp: String, Sendable {
    case eq, ne, lt, le, gt, ge
}

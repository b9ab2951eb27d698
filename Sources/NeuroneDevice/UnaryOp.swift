/// Elementwise functions of one tensor.
public enum UnaryOp: String, Sendable {
    case neg, abs, sqrt, exp, log, log1p, sin, cos, tanh, sigmoid, relu, sign, reciprocal, erf

    /// True for the functions only defined on floating-point values (integer inputs are promoted).
    public var needsFloatingPoint: Bool {
        switch self {
        case .neg, .abs, .relu, .sign: return false
        default: return true
        }
    }

    /// True for the functions whose cost is arithmetic rather than memory (they split across
    /// threads at smaller sizes).
    package var isTranscendental: Bool {
        switch self {
        case .exp, .sigmoid, .tanh, .log, .log1p, .sin, .cos, .erf: return true
        default: return false
        }
    }
}

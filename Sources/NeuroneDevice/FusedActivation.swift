/// An activation a layer can apply in its own output pass (Keras's `activation=` argument):
/// `x.conv2d(…, activation: .relu)` equals `x.conv2d(…).relu()` value for value, with the
/// activation applied to each block of the output while it is in cache and its gradient taken
/// in the layer's backward (no separate pass, no second tensor).
public enum FusedActivation: String, Sendable, CaseIterable {
    /// max(x, 0), as `Tensor.relu()`.
    case relu
    /// tanh x, as `Tensor.tanh()`.
    case tanh
    /// 1/(1 + e⁻ˣ), as `Tensor.sigmoid()`.
    case sigmoid

    /// The elementwise function it applies.
    package var unaryOp: UnaryOp {
        switch self {
        case .relu: return .relu
        case .tanh: return .tanh
        case .sigmoid: return .sigmoid
        }
    }

    /// The activation whose gradient `Backend.activationGrad` takes for `op`, if any (the
    /// inverse of `unaryOp`).
    package init?(gradientOf op: UnaryOp) {
        guard let a = FusedActivation.allCases.first(where: { $0.unaryOp == op }) else { return nil }
        self = a
    }
}

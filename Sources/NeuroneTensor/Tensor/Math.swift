import NeuroneDevice

/// Elementwise functions of one tensor, each with its derivative beside it.
extension Tensor {
    /// Applies a unary kernel; float-only functions promote integer inputs to float32.
    func unaryNoGrad(_ op: UnaryOp) -> Tensor {
        let x = (op.needsFloatingPoint && !dtype.isFloatingPoint) ? withNoGrad { self.to(.float32) } : self
        let c = x.contiguousCopyIfNeeded()
        let out = Tensor.empty(c.shape, dtype: c.dtype, device: c.device)
        if out.count > 0 { c.backend.unary(op, dtype: c.dtype, c.buffer, out.buffer, count: out.count) }
        return out
    }

    /// Runs `op` and records `derivative(g, x, y)` → ∂L/∂x as its backward.
    func unaryOp(_ op: UnaryOp, _ name: String, _ derivative: @escaping (Tensor, Tensor, Tensor) -> Tensor) -> Tensor {
        let out = unaryNoGrad(op)
        if !Tensor.needsGrad(self) { return out }
        let x = detach(), y = out.detach()
        return out.recording(name, [self]) { g in [derivative(g, x, y)] }
    }

    /// The gradient g · f′ of relu, tanh or sigmoid in one fused pass for float tensors (`saved`
    /// is x for relu, y for the others); `composite` gives the same for other dtypes.
    package static func activationGradient(_ op: UnaryOp, _ g: Tensor, _ saved: Tensor, composite: () -> Tensor) -> Tensor {
        guard g.dtype == saved.dtype, g.dtype == .float32 || g.dtype == .float64, g.shape == saved.shape else { return composite() }
        let gc = g.contiguousCopyIfNeeded(), sc = saved.contiguousCopyIfNeeded()
        let out = Tensor.empty(g.shape, dtype: g.dtype, device: Tensor.commonDevice("activation gradient", g, saved))
        if out.count > 0 { out.backend.activationGrad(op, dtype: g.dtype, gc.buffer, sc.buffer, out.buffer, count: out.count) }
        return out
    }

    /// |x|. Gradient sign(x) (0 at 0).
    public func abs() -> Tensor { unaryOp(.abs, "AbsBackward") { g, x, _ in g * x.sign() } }
    /// √x. Gradient 1/(2√x).
    public func sqrt() -> Tensor { unaryOp(.sqrt, "SqrtBackward") { g, _, y in g / (y * 2.0) } }
    /// eˣ. Gradient eˣ.
    public func exp() -> Tensor { unaryOp(.exp, "ExpBackward") { g, _, y in g * y } }
    /// ln x. Gradient 1/x.
    public func log() -> Tensor { unaryOp(.log, "LogBackward") { g, x, _ in g / x } }
    /// ln(1 + x), accurate near 0. Gradient 1/(1 + x).
    public func log1p() -> Tensor { unaryOp(.log1p, "Log1pBackward") { g, x, _ in g / (x + 1.0) } }
    /// sin x. Gradient cos x.
    public func sin() -> Tensor { unaryOp(.sin, "SinBackward") { g, x, _ in g * x.cos() } }
    /// cos x. Gradient −sin x.
    public func cos() -> Tensor { unaryOp(.cos, "CosBackward") { g, x, _ in -(g * x.sin()) } }
    /// tanh x. Gradient 1 − tanh² x.
    public func tanh() -> Tensor {
        unaryOp(.tanh, "TanhBackward") { g, _, y in Tensor.activationGradient(.tanh, g, y) { g * (1.0 - y * y) } }
    }
    /// σ(x) = 1/(1 + e⁻ˣ). Gradient σ(x)(1 − σ(x)).
    public func sigmoid() -> Tensor {
        unaryOp(.sigmoid, "SigmoidBackward") { g, _, y in Tensor.activationGradient(.sigmoid, g, y) { g * y * (1.0 - y) } }
    }
    /// Swift.max(x, 0). Gradient 0 where x ≤ 0, else 1 (a NaN input passes the gradient, as in PyTorch).
    public func relu() -> Tensor {
        unaryOp(.relu, "ReluBackward") { g, x, _ in Tensor.activationGradient(.relu, g, x) { g * (x .> 0.0) } }
    }
    /// −1, 0 or 1. Gradient 0.
    public func sign() -> Tensor { unaryOp(.sign, "SignBackward") { g, _, _ in Tensor.zeros(like: g) } }
    /// 1/x. Gradient −1/x².
    public func reciprocal() -> Tensor { unaryOp(.reciprocal, "ReciprocalBackward") { g, _, y in -(g * y * y) } }
    /// The error function erf x = 2/√π ∫₀ˣ e^(−t²) dt. Gradient 2/√π · e^(−x²).
    public func erf() -> Tensor {
        unaryOp(.erf, "ErfBackward") { g, x, _ in g * (x * x * -1.0).exp() * 1.1283791670955126 }
    }
    /// x². Gradient 2x.
    public func square() -> Tensor { self * self }

    /// Limits values to [min, max] (either may be nil). The gradient flows where min ≤ x ≤ max.
    public func clamp(min lo: Double? = nil, max hi: Double? = nil) -> Tensor {
        check(lo != nil || hi != nil, "clamp: at least one of min or max must be given")
        let c = contiguousCopyIfNeeded()
        let out = Tensor.empty(shape, dtype: dtype, device: device)
        if out.count > 0 { backend.clamp(dtype: dtype, c.buffer, out.buffer, count: out.count, min: lo, max: hi) }
        if !Tensor.needsGrad(self) { return out }
        let x = detach()
        return out.recording("ClampBackward", [self]) { g in
            var mask = Tensor.ones(like: x, dtype: .bool)
            if let lo = lo { mask = mask.logicalAnd(x .>= lo) }
            if let hi = hi { mask = mask.logicalAnd(x .<= hi) }
            return [g * mask]
        }
    }

    /// True where the value is NaN.
    public func isNaN() -> Tensor { self .!= self }

    /// A copy in another dtype. The gradient is cast back (floating-point dtypes only).
    public func to(_ dtype: DType) -> Tensor {
        if dtype == self.dtype { return self }
        let c = contiguousCopyIfNeeded()
        let out = Tensor.empty(shape, dtype: dtype, device: device)
        if out.count > 0 { backend.cast(c.buffer, from: self.dtype, out.buffer, to: dtype, count: out.count) }
        if !Tensor.needsGrad(self) || !dtype.isFloatingPoint { return out }
        let from = self.dtype
        return out.recording("ToCopyBackward", [self]) { g in [g.to(from)] }
    }
}

/// Functional spellings, as in `torch.relu(x)`: each calls the tensor method of the same name.
public func relu(_ x: Tensor) -> Tensor { x.relu() }
/// `x.sigmoid()`.
public func sigmoid(_ x: Tensor) -> Tensor { x.sigmoid() }
/// `x.tanh()`.
public func tanh(_ x: Tensor) -> Tensor { x.tanh() }
/// `x.exp()`.
public func exp(_ x: Tensor) -> Tensor { x.exp() }
/// `x.log()`.
public func log(_ x: Tensor) -> Tensor { x.log() }
/// `x.sqrt()`.
public func sqrt(_ x: Tensor) -> Tensor { x.sqrt() }
/// `x.abs()`.
public func abs(_ x: Tensor) -> Tensor { x.abs() }
/// `x.pow(p)`.
public func pow(_ x: Tensor, _ p: Double) -> Tensor { x.pow(p) }
/// `x.pow(p)`.
public func pow(_ x: Tensor, _ p: Tensor) -> Tensor { x.pow(p) }
/// `a.minimum(b)`.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { a.minimum(b) }
/// `a.maximum(b)`.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { a.maximum(b) }

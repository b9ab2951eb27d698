import NeuroneDevice

/// + − × ÷, pow, minimum and maximum, with broadcasting, PyTorch's type promotion and gradients.
extension Tensor {
    /// A 0-d tensor for a scalar operand, typed as PyTorch would: a float scalar keeps a float
    /// tensor's dtype and turns an integer tensor into float32; an integer scalar keeps the
    /// tensor's dtype (bool becomes int64).
    func scalarOperand(_ value: Double, isIntegral: Bool) -> Tensor {
        let dt: DType
        if dtype.isFloatingPoint { dt = dtype } else if isIntegral { dt = dtype == .bool ? .int64 : dtype } else { dt = .float32 }
        return Tensor.full([], value, dtype: dt, device: device)
    }

    static func binaryNoGrad(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
        var dt = DType.promote(a.dtype, b.dtype)
        if op == .div && !dt.isFloatingPoint { dt = .float32 }
        if op == .sub { check(dt != .bool, "sub: subtraction with two bool tensors is not supported; use logicalXor or logicalNot") }
        if op == .pow && dt == .bool { dt = .int64 }
        if _slowPath(a.storage.device != b.storage.device) {
            let (a, b, _) = onOneDevice(op.rawValue, a, b)
            return binaryNoGrad(op, a, b)
        }
        let backend = a.backend
        return broadcastKernel(a, b, computeType: dt, outType: dt, op: op.rawValue) { x, xs, y, ys, o, n in
            backend.binary(op, dtype: dt, x, aStep: xs, y, bStep: ys, o, count: n)
        }
    }

    /// a + b with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = binaryNoGrad(.add, a, b)
        if !needsGrad(a, b) { return out }
        return out.recording("AddBackward", [a, b]) { g in [g.sumTo(a.shape), g.sumTo(b.shape)] }
    }

    /// a − b with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = binaryNoGrad(.sub, a, b)
        if !needsGrad(a, b) { return out }
        return out.recording("SubBackward", [a, b]) { g in [g.sumTo(a.shape), (-g).sumTo(b.shape)] }
    }

    /// a × b elementwise with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = binaryNoGrad(.mul, a, b)
        if !needsGrad(a, b) { return out }
        let ad = a.detach(), bd = b.detach()
        return out.recording("MulBackward", [a, b]) { g in
            [a._requiresGrad ? (g * bd).sumTo(a.shape) : nil, b._requiresGrad ? (g * ad).sumTo(b.shape) : nil]
        }
    }

    /// a ÷ b elementwise with broadcasting (true division: integers give float32).
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = binaryNoGrad(.div, a, b)
        if !needsGrad(a, b) { return out }
        let ad = a.detach(), bd = b.detach()
        return out.recording("DivBackward", [a, b]) { g in
            [a._requiresGrad ? (g / bd).sumTo(a.shape) : nil,
             b._requiresGrad ? (-(g * ad) / (bd * bd)).sumTo(b.shape) : nil]
        }
    }

    /// −a.
    public static prefix func - (a: Tensor) -> Tensor {
        check(a.dtype != .bool, "neg: negation of a bool tensor is not supported; use logicalNot()")
        return a.unaryOp(.neg, "NegBackward") { g, _, _ in -g }
    }

    /// `a + b` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func + (a: Tensor, b: Double) -> Tensor { a + a.scalarOperand(b, isIntegral: false) }
    /// `a + b` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func + (a: Double, b: Tensor) -> Tensor { b.scalarOperand(a, isIntegral: false) + b }
    /// `a − b` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func - (a: Tensor, b: Double) -> Tensor { a - a.scalarOperand(b, isIntegral: false) }
    /// `a − b` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func - (a: Double, b: Tensor) -> Tensor { b.scalarOperand(a, isIntegral: false) - b }
    /// `a × b (elementwise)` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func * (a: Tensor, b: Double) -> Tensor { a * a.scalarOperand(b, isIntegral: false) }
    /// `a × b (elementwise)` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func * (a: Double, b: Tensor) -> Tensor { b.scalarOperand(a, isIntegral: false) * b }
    /// `a ÷ b (true division)` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func / (a: Tensor, b: Double) -> Tensor { a / a.scalarOperand(b, isIntegral: false) }
    /// `a ÷ b (true division)` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func / (a: Double, b: Tensor) -> Tensor { b.scalarOperand(a, isIntegral: false) / b }

    /// `a + b` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func + (a: Tensor, b: Int) -> Tensor { a + a.scalarOperand(Double(b), isIntegral: true) }
    /// `a + b` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func + (a: Int, b: Tensor) -> Tensor { b.scalarOperand(Double(a), isIntegral: true) + b }
    /// `a − b` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func - (a: Tensor, b: Int) -> Tensor { a - a.scalarOperand(Double(b), isIntegral: true) }
    /// `a − b` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func - (a: Int, b: Tensor) -> Tensor { b.scalarOperand(Double(a), isIntegral: true) - b }
    /// `a × b (elementwise)` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func * (a: Tensor, b: Int) -> Tensor { a * a.scalarOperand(Double(b), isIntegral: true) }
    /// `a × b (elementwise)` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func * (a: Int, b: Tensor) -> Tensor { b.scalarOperand(Double(a), isIntegral: true) * b }
    /// `a ÷ b (true division)` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func / (a: Tensor, b: Int) -> Tensor { a / a.scalarOperand(Double(b), isIntegral: true) }
    /// `a ÷ b (true division)` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func / (a: Int, b: Tensor) -> Tensor { b.scalarOperand(Double(a), isIntegral: true) / b }

    /// selfᵉˣᵖᵒⁿᵉⁿᵗ elementwise for a tensor exponent (broadcast).
    public func pow(_ exponent: Tensor) -> Tensor {
        let out = Tensor.binaryNoGrad(.pow, self, exponent)
        if !Tensor.needsGrad(self, exponent) { return out }
        let a = detach(), b = exponent.detach(), y = out.detach()
        return out.recording("PowBackward", [self, exponent]) { g in
            var ga: Tensor? = nil, gb: Tensor? = nil
            if a._requiresGrad || self._requiresGrad {
                ga = (g * b * a.pow(b - 1.0)).sumTo(a.shape)
            }
            if exponent._requiresGrad {
                // d/db a^b = a^b ln a; PyTorch sets it to 0 where a == 0 and b >= 0.
                let raw = g * y * a.log()
                let zeroBase = (a .== 0.0).logicalAnd(b .>= 0.0)
                gb = raw.maskedFill(zeroBase, 0).sumTo(b.shape)
            }
            return [ga, gb]
        }
    }

    /// selfᵖ elementwise for a scalar exponent.
    public func pow(_ p: Double) -> Tensor {
        let e = scalarOperand(p, isIntegral: p.rounded() == p && !dtype.isFloatingPoint)
        let out = Tensor.binaryNoGrad(.pow, self, e)
        if !Tensor.needsGrad(self) { return out }
        let a = detach()
        return out.recording("PowBackward", [self]) { g in
            if p == 0 { return [Tensor.zeros(like: a)] }
            return [g * p * a.pow(p - 1)]
        }
    }

    /// Elementwise minimum (NaN propagates; ties split the gradient equally, as in PyTorch).
    public func minimum(_ other: Tensor) -> Tensor { minmax(.minimum, other) }
    /// Elementwise maximum (NaN propagates; ties split the gradient equally, as in PyTorch).
    public func maximum(_ other: Tensor) -> Tensor { minmax(.maximum, other) }

    private func minmax(_ op: BinaryOp, _ other: Tensor) -> Tensor {
        let out = Tensor.binaryNoGrad(op, self, other)
        if !Tensor.needsGrad(self, other) { return out }
        let a = detach(), b = other.detach()
        return out.recording(op == .minimum ? "MinimumBackward" : "MaximumBackward", [self, other]) { g in
            let wins = op == .minimum ? (a .< b) : (a .> b)
            let ties = a .== b
            let half = g * 0.5
            let ga = Tensor.where(wins, g, Tensor.where(ties, half, 0.0))
            let gb = Tensor.where(wins, 0.0, Tensor.where(ties, half, g))
            return [ga.sumTo(a.shape), gb.sumTo(b.shape)]
        }
    }
}

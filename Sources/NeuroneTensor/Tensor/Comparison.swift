import NeuroneDevice

infix operator .&& : LogicalConjunctionPrecedence
infix operator .|| : LogicalDisjunctionPrecedence

/// Comparisons (bool results, no gradient), logical ops, `where` and `maskedFill`.
extension Tensor {
    static func compareNoGrad(_ op: CompareOp, _ a: Tensor, _ b: Tensor) -> Tensor {
        let dt = DType.promote(a.dtype, b.dtype)
        if _slowPath(a.storage.device != b.storage.device) {
            let (a, b, _) = onOneDevice(op.rawValue, a, b)
            return compareNoGrad(op, a, b)
        }
        let backend = a.backend
        return broadcastKernel(a, b, computeType: dt, outType: .bool, op: op.rawValue) { x, xs, y, ys, o, n in
            backend.compare(op, dtype: dt, x, aStep: xs, y, bStep: ys, o, count: n)
        }
    }

    /// `a == b elementwise, as bool` with broadcasting.
    public static func .== (a: Tensor, b: Tensor) -> Tensor { compareNoGrad(.eq, a, b) }
    /// `a != b elementwise, as bool` with broadcasting.
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { compareNoGrad(.ne, a, b) }
    /// `a < b elementwise, as bool` with broadcasting.
    public static func .< (a: Tensor, b: Tensor) -> Tensor { compareNoGrad(.lt, a, b) }
    /// `a <= b elementwise, as bool` with broadcasting.
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { compareNoGrad(.le, a, b) }
    /// `a > b elementwise, as bool` with broadcasting.
    public static func .> (a: Tensor, b: Tensor) -> Tensor { compareNoGrad(.gt, a, b) }
    /// `a >= b elementwise, as bool` with broadcasting.
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { compareNoGrad(.ge, a, b) }

    /// `a == b elementwise, as bool` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func .== (a: Tensor, b: Double) -> Tensor { compareNoGrad(.eq, a, a.scalarOperand(b, isIntegral: false)) }
    /// `a != b elementwise, as bool` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func .!= (a: Tensor, b: Double) -> Tensor { compareNoGrad(.ne, a, a.scalarOperand(b, isIntegral: false)) }
    /// `a < b elementwise, as bool` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func .< (a: Tensor, b: Double) -> Tensor { compareNoGrad(.lt, a, a.scalarOperand(b, isIntegral: false)) }
    /// `a <= b elementwise, as bool` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func .<= (a: Tensor, b: Double) -> Tensor { compareNoGrad(.le, a, a.scalarOperand(b, isIntegral: false)) }
    /// `a > b elementwise, as bool` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func .> (a: Tensor, b: Double) -> Tensor { compareNoGrad(.gt, a, a.scalarOperand(b, isIntegral: false)) }
    /// `a >= b elementwise, as bool` with a scalar, typed by PyTorch's promotion rules (`scalarOperand`).
    public static func .>= (a: Tensor, b: Double) -> Tensor { compareNoGrad(.ge, a, a.scalarOperand(b, isIntegral: false)) }

    /// Elementwise AND of two bool (or nonzero-as-true) tensors.
    public func logicalAnd(_ other: Tensor) -> Tensor { Tensor.binaryNoGrad(.mul, asBool(), other.asBool()) }
    /// Elementwise OR.
    public func logicalOr(_ other: Tensor) -> Tensor { Tensor.binaryNoGrad(.add, asBool(), other.asBool()) }
    /// Elementwise XOR.
    public func logicalXor(_ other: Tensor) -> Tensor { asBool() .!= other.asBool() }
    /// Elementwise NOT.
    public func logicalNot() -> Tensor { asBool() .== Tensor.full([], 0, dtype: .bool, device: device) }

    /// `logical AND of bool tensors` with broadcasting.
    public static func .&& (a: Tensor, b: Tensor) -> Tensor { a.logicalAnd(b) }
    /// `logical OR of bool tensors` with broadcasting.
    public static func .|| (a: Tensor, b: Tensor) -> Tensor { a.logicalOr(b) }

    func asBool() -> Tensor { dtype == .bool ? self : (self .!= Tensor.full([], 0, dtype: dtype, device: device)) }

    /// Picks `a` where `condition` is true and `b` elsewhere; the three broadcast together.
    /// Gradients flow to `a` and `b` through the positions each was picked at.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        check(condition.dtype == .bool, "where: condition must be a bool tensor, got \(condition.dtype)")
        let dt = DType.promote(a.dtype, b.dtype)
        let (a, b, _) = onOneDevice("where", a, b)
        let shape = broadcastShapes(broadcastShapes(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        let out = Tensor.empty(shape, dtype: dt, device: Tensor.commonDevice("where", a, condition, b))
        if out.count > 0 {
            let (c, _) = condition.kernelOperandFull(dtype: .bool, shape: shape)
            let (x, _) = a.kernelOperandFull(dtype: dt, shape: shape)
            let (y, _) = b.kernelOperandFull(dtype: dt, shape: shape)
            out.backend.select(dtype: dt, cond: c.buffer, x.buffer, y.buffer, out.buffer, count: out.count)
        }
        if !needsGrad(a, b) { return out }
        let cond = condition.detach()
        return out.recording("WhereBackward", [a, b]) { g in
            let zero = Tensor.zeros([], dtype: g.dtype, device: g.device)
            return [a._requiresGrad ? Tensor.where(cond, g, zero).sumTo(a.shape) : nil,
                    b._requiresGrad ? Tensor.where(cond, zero, g).sumTo(b.shape) : nil]
        }
    }

    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Double) -> Tensor {
        Tensor.where(condition, a, a.scalarOperand(b, isIntegral: false))
    }
    public static func `where`(_ condition: Tensor, _ a: Double, _ b: Tensor) -> Tensor {
        Tensor.where(condition, b.scalarOperand(a, isIntegral: false), b)
    }

    /// A contiguous copy broadcast to `shape` (always one value per output element).
    func kernelOperandFull(dtype: DType, shape: [Int]) -> (Tensor, Int) {
        let t = self.dtype == dtype ? self : withNoGrad { self.to(dtype) }
        if t.shape == shape && t.isContiguous { return (t, 1) }
        return (t.expandedNoGrad(shape, op: "broadcast").contiguousCopy(), 1)
    }

    /// `value` where `mask` is true, self elsewhere (mask broadcasts to self's shape).
    public func maskedFill(_ mask: Tensor, _ value: Double) -> Tensor {
        check(mask.dtype == .bool, "maskedFill: mask must be a bool tensor, got \(mask.dtype)")
        let b = broadcastShapes(shape, mask.shape, op: "maskedFill")
        check(b == shape, "maskedFill: mask of shape \(describeShape(mask.shape)) does not broadcast to the tensor's shape \(describeShape(shape))")
        return Tensor.where(mask, Tensor.full([], value, dtype: dtype, device: device), self)
    }
}

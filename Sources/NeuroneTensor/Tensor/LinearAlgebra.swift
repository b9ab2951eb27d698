import NeuroneDevice

/// Matrix products with PyTorch's `matmul` rules.
extension Tensor {
    /// How a [rows, cols] matrix view can be handed to GEMM without copying:
    /// row-major with leading dimension `ld`, or its transpose.
    private func matrixLayout() -> (trans: Bool, ld: Int)? {
        let rows = shape[rank - 2], cols = shape[rank - 1]
        let rs = strides[rank - 2], cs = strides[rank - 1]
        if (cs == 1 || cols == 1) && (rows == 1 || rs >= Swift.max(1, cols)) {
            return (false, rows == 1 ? Swift.max(1, cols) : rs)
        }
        if (rs == 1 || rows == 1) && (cols == 1 || cs >= Swift.max(1, rows)) {
            return (true, cols == 1 ? Swift.max(1, rows) : cs)
        }
        return nil
    }

    /// Matrix product following `torch.matmul`:
    /// 1-D·1-D is a dot product; a 1-D left (right) operand is treated as a row (column) vector
    /// and that dim is removed from the result; otherwise the last two dims are multiplied and
    /// the leading (batch) dims broadcast.
    public func matmul(_ other: Tensor) -> Tensor {
        let a = self, b = other
        check(a.rank >= 1 && b.rank >= 1,
                     "matmul: both arguments need at least 1 dimension, got shapes \(describeShape(a.shape)) and \(describeShape(b.shape))")
        check(a.dtype == b.dtype,
                     "matmul: expected both operands to have the same dtype, got \(a.dtype) and \(b.dtype)")
        check(a.dtype.isFloatingPoint, "matmul: dtype \(a.dtype) is not supported (float32 or float64 expected)")
        if a.rank == 1 && b.rank == 1 {
            check(a.shape[0] == b.shape[0],
                         "matmul: 1-D tensors of sizes \(a.shape[0]) and \(b.shape[0]) cannot be multiplied (dot product needs equal sizes)")
            return a.unsqueeze(0).matmul(b.unsqueeze(1)).reshape([])
        }
        if a.rank == 1 { return a.unsqueeze(0).matmul(b).squeeze(-2) }
        if b.rank == 1 { return a.matmul(b.unsqueeze(-1)).squeeze(-1) }
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        check(k == k2,
                     "matmul: shapes \(describeShape(a.shape)) and \(describeShape(b.shape)) cannot be multiplied (\(m)x\(k) and \(k2)x\(n))")
        if a.rank == 2 && b.rank == 2 { return Tensor.mm(a, b) }
        // [..., M, K] · [K, N]: fold the batch into M when that needs no copy.
        if b.rank == 2 && a.isContiguous {
            let lead = Array(a.shape.dropLast(2))
            return Tensor.mm(a.reshape([-1, k]), b).reshape(lead + [m, n])
        }
        let batch = broadcastShapes(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "matmul")
        let bsz = batch.reduce(1, *)
        var a3 = a.expand(batch + [m, k]), b3 = b.expand(batch + [k, n])
        if batch.count != 1 {
            a3 = a3.reshape([bsz, m, k])
            b3 = b3.reshape([bsz, k, n])
        }
        return Tensor.mm(a3, b3).reshape(batch + [m, n])
    }

    /// Matrix product of two 2-D or two 3-D (batched) tensors with matching batch sizes.
    static func mm(_ a: Tensor, _ b: Tensor) -> Tensor {
        let r = a.rank
        let m = a.shape[r - 2], k = a.shape[r - 1], n = b.shape[r - 1]
        let batch = r == 3 ? a.shape[0] : 1
        let outShape = r == 3 ? [batch, m, n] : [m, n]
        let out = Tensor.empty(outShape, dtype: a.dtype, device: Tensor.commonDevice("matmul", a, b))
        if out.count > 0 {
            if k == 0 {
                out.backend.fill(out.buffer, dtype: out.dtype, count: out.count, value: 0)
            } else {
                let (x, la) = a.matrixLayout().map { (a, $0) } ?? { let c = a.contiguousCopy(); return (c, c.matrixLayout()!) }()
                let (y, lb) = b.matrixLayout().map { (b, $0) } ?? { let c = b.contiguousCopy(); return (c, c.matrixLayout()!) }()
                out.backend.gemm(dtype: a.dtype, batch: batch, transA: la.trans, transB: lb.trans, m: m, n: n, k: k, alpha: 1,
                                 x.buffer, lda: la.ld, strideA: r == 3 ? x.strides[0] : 0,
                                 y.buffer, ldb: lb.ld, strideB: r == 3 ? y.strides[0] : 0,
                                 beta: 0, out.buffer, ldc: n, strideC: m * n)
            }
        }
        if !needsGrad(a, b) { return out }
        let ad = a.detach(), bd = b.detach()
        return out.recording("MmBackward", [a, b]) { g in
            [a._requiresGrad ? mm(g, bd.transpose(-2, -1)) : nil,
             b._requiresGrad ? mm(ad.transpose(-2, -1), g) : nil]
        }
    }
}

/// `a.matmul(b)`.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor { a.matmul(b) }

import NeuroneDevice

/// NumPy/PyTorch broadcasting: shapes are aligned at their last dims; each pair of sizes must
/// be equal or one of them 1.
public func broadcastShapes(_ a: [Int], _ b: [Int], op: String = "broadcast") -> [Int] {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let x = i < n - a.count ? 1 : a[i - (n - a.count)]
        let y = i < n - b.count ? 1 : b[i - (n - b.count)]
        check(x == y || x == 1 || y == 1,
                     "\(op): the size of tensor a (\(x)) must match the size of tensor b (\(y)) at non-singleton dimension \(i); shapes \(describeShape(a)) and \(describeShape(b)) cannot be broadcast")
        out[i] = x == 1 ? y : x
    }
    return out
}

extension Tensor {
    /// Sums a broadcast gradient back down to `target` (the inverse of `expand`).
    func sumTo(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        check(lead >= 0, "sumTo: cannot reduce shape \(describeShape(shape)) to \(describeShape(target))")
        var dims = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[lead + i] != 1 { dims.append(lead + i) }
        let s = dims.isEmpty ? self : sum(dims: dims, keepDim: true)
        return s.reshape(target)
    }

    /// Self in `dtype` as a contiguous buffer broadcast to `shape`, with the element step a
    /// kernel should use (0: a single value repeated; 1: one value per output element).
    func kernelOperand(dtype: DType, shape outShape: [Int]) -> (Tensor, Int) {
        let t = self.dtype == dtype ? self : withNoGrad { self.to(dtype) }
        if t.count == 1 { return (t.contiguousCopyIfNeeded(), 0) }
        if t.shape == outShape && t.isContiguous { return (t, 1) }
        return (t.expandedNoGrad(outShape, op: "broadcast").contiguousCopy(), 1)
    }

    /// Runs a two-input kernel over broadcast operands. When one operand is a contiguous block
    /// repeated along leading dims (a bias row), it is used in place, block by block.
    static func broadcastKernel(_ a: Tensor, _ b: Tensor, computeType: DType, outType: DType, op: String,
                                _ kernel: (DeviceBuffer, Int, DeviceBuffer, Int, DeviceBuffer, Int) -> Void) -> Tensor {
        let device = commonDevice(op, a, b)   // callers bring scalars of another device over first
        let outShape = a.shape == b.shape ? a.shape : broadcastShapes(a.shape, b.shape, op: op)
        let out = Tensor.empty(outShape, dtype: outType, device: device)
        let n = out.count
        if n == 0 { return out }
        // Repeated-block fast path: one full contiguous operand, the other contiguous and
        // equal to the trailing dims of the output.
        func trailing(_ t: Tensor) -> Int? {
            guard t.isContiguous, t.dtype == computeType, t.count > 1, t.count < n else { return nil }
            var s = t.shape
            while s.first == 1 { s.removeFirst() }
            return Array(outShape.suffix(s.count)) == s ? t.count : nil
        }
        if a.shape == outShape && a.isContiguous && a.dtype == computeType, let inner = trailing(b), inner >= 16 {
            let (ab, bb, ob) = (a.buffer, b.buffer, out.buffer)
            for blk in 0..<(n / inner) {
                kernel(ab + blk * inner * computeType.byteSize, 1, bb, 1, ob + blk * inner * outType.byteSize, inner)
            }
            return out
        }
        if b.shape == outShape && b.isContiguous && b.dtype == computeType, let inner = trailing(a), inner >= 16 {
            let (ab, bb, ob) = (a.buffer, b.buffer, out.buffer)
            for blk in 0..<(n / inner) {
                kernel(ab, 1, bb + blk * inner * computeType.byteSize, 1, ob + blk * inner * outType.byteSize, inner)
            }
            return out
        }
        let (x, xs) = a.kernelOperand(dtype: computeType, shape: outShape)
        let (y, ys) = b.kernelOperand(dtype: computeType, shape: outShape)
        kernel(x.buffer, xs, y.buffer, ys, out.buffer, n)
        return out
    }
}

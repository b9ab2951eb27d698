import NeuroneDevice

/// Concatenation, stacking, splitting.
extension Tensor {
    /// Joins tensors along an existing dim. All must have the same rank and equal sizes in the
    /// other dims; dtypes are promoted.
    public static func cat(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        check(!tensors.isEmpty, "cat: expected a non-empty list of tensors")
        let first = tensors[0]
        check(first.rank > 0, "cat: zero-dimensional tensor cannot be concatenated")
        let d = normalizeDim(dim, first.rank, "cat")
        var size = 0
        var dt = first.dtype
        for (i, t) in tensors.enumerated() {
            check(t.rank == first.rank,
                         "cat: tensors must have the same number of dimensions: got \(first.rank) (tensor 0, shape \(describeShape(first.shape))) and \(t.rank) (tensor \(i), shape \(describeShape(t.shape)))")
            for j in 0..<first.rank where j != d {
                check(t.shape[j] == first.shape[j],
                             "cat: sizes of tensors must match except in dimension \(d); expected size \(first.shape[j]) but got size \(t.shape[j]) for tensor \(i) (shape \(describeShape(t.shape))) in dimension \(j)")
            }
            size += t.shape[d]
            dt = DType.promote(dt, t.dtype)
            _ = commonDevice("cat", first, t)
        }
        var outShape = first.shape
        outShape[d] = size
        let out = Tensor.empty(outShape, dtype: dt, device: first.device)
        var start = 0
        var sizes: [Int] = []
        for t in tensors {
            let len = t.shape[d]
            sizes.append(len)
            if len > 0 { out.narrowNoGrad(d, start, len).assign(from: t) }
            start += len
        }
        if !GradMode.enabled || !tensors.contains(where: { $0._requiresGrad }) { return out }
        return out.recording("CatBackward", tensors) { g in
            var s = 0
            return sizes.map { len in
                defer { s += len }
                return g.narrow(dim: d, start: s, length: len)
            }
        }
    }

    func narrowNoGrad(_ d: Int, _ start: Int, _ length: Int) -> Tensor {
        var sh = shape
        sh[d] = length
        return restrided(sh, strides, offset + start * strides[d])
    }

    /// Joins tensors of equal shape along a new dim.
    public static func stack(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        check(!tensors.isEmpty, "stack: expected a non-empty list of tensors")
        let shape = tensors[0].shape
        for (i, t) in tensors.enumerated() {
            check(t.shape == shape, "stack: expects each tensor to be equal size, but got \(describeShape(shape)) at entry 0 and \(describeShape(t.shape)) at entry \(i)")
        }
        let d = normalizeDim(dim, shape.count + 1, "stack")
        return cat(tensors.map { $0.unsqueeze(d) }, dim: d)
    }

    /// Views of `size` elements along `dim` (the last may be smaller).
    public func split(size: Int, dim: Int = 0) -> [Tensor] {
        check(size > 0, "split: split size must be positive, got \(size)")
        let d = normalizeDim(dim, rank, "split")
        let n = shape[d]
        if n == 0 { return [self] }
        return stride(from: 0, to: n, by: size).map { narrow(dim: d, start: $0, length: Swift.min(size, n - $0)) }
    }

    /// Views with the given sizes along `dim`; they must add up to its length.
    public func split(sizes: [Int], dim: Int = 0) -> [Tensor] {
        let d = normalizeDim(dim, rank, "split")
        check(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[d],
                     "split: split sizes \(sizes) must be non-negative and sum to the size of dim \(d) (\(shape[d])), shape \(describeShape(shape))")
        var start = 0
        return sizes.map { len in
            defer { start += len }
            return narrow(dim: d, start: start, length: len)
        }
    }

    /// `chunks` views of (nearly) equal size along `dim`, like torch.chunk (may return fewer).
    public func chunk(_ chunks: Int, dim: Int = 0) -> [Tensor] {
        check(chunks > 0, "chunk: number of chunks must be positive, got \(chunks)")
        let d = normalizeDim(dim, rank, "chunk")
        let size = Swift.max(1, (shape[d] + chunks - 1) / chunks)
        return split(size: size, dim: d)
    }
}

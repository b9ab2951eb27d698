import NeuroneDevice

/// Index-based ops: gather, scatterAdd, indexSelect, oneHot, constant padding.
extension Tensor {
    /// Checks an index tensor's dtype and every value against `bound`.
    private func checkIndices(_ index: Tensor, bound: Int, op: String, dim: Int) -> Tensor {
        check(index.dtype == .int64 || index.dtype == .int32, "\(op): index must be int64 or int32, got \(index.dtype)")
        let idx = index.to(.int64).contiguousCopyIfNeeded()
        // An explicit read: the bounds are checked on the host before any kernel runs.
        idx.withHostBytes { raw in
            let p = raw.assumingMemoryBound(to: Int64.self)
            for i in 0..<idx.count {
                let v = p[i]
                check(v >= 0 && v < bound,
                             "\(op): index \(v) is out of bounds for dimension \(dim) with size \(bound) (input shape \(describeShape(shape)))")
            }
        }
        return idx
    }

    /// out[i][j][k] = self[i][index[i][j][k]][k] (for dim = 1): picks along `dim`.
    /// `index` has the rank of self and the same sizes in the other dims.
    public func gather(dim: Int, index: Tensor) -> Tensor {
        let d = normalizeDim(dim, rank, "gather")
        check(index.rank == rank, "gather: index tensor must have the same number of dimensions as input (\(rank)), got index shape \(describeShape(index.shape))")
        for j in 0..<rank where j != d {
            check(index.shape[j] == shape[j],
                         "gather: index shape \(describeShape(index.shape)) must match input shape \(describeShape(shape)) except in dimension \(d)")
        }
        let idx = checkIndices(index, bound: shape[d], op: "gather", dim: d)
        let c = contiguousCopyIfNeeded()
        let out = Tensor.empty(index.shape, dtype: dtype, device: Tensor.commonDevice("gather", self, idx))
        let outer = shape[..<d].reduce(1, *), inner = shape[(d + 1)...].reduce(1, *)
        if out.count > 0 {
            backend.gather(elemSize: dtype.byteSize, c.buffer, outer: outer, srcSize: shape[d], inner: inner,
                           index: idx.buffer, idxSize: index.shape[d], shared: false, out.buffer)
        }
        if !Tensor.needsGrad(self) { return out }
        let inShape = shape, dt = dtype
        return out.recording("GatherBackward", [self]) { g in
            [Tensor.zeros(inShape, dtype: dt, device: g.device).scatterAdd(dim: d, index: idx, source: g)]
        }
    }

    /// A copy of self with `source` added at the positions `index` names along `dim`:
    /// out[i][index[i][j][k]][k] += source[i][j][k] (for dim = 1), like torch.scatter_add.
    public func scatterAdd(dim: Int, index: Tensor, source: Tensor) -> Tensor {
        let d = normalizeDim(dim, rank, "scatterAdd")
        check(index.shape == source.shape, "scatterAdd: index shape \(describeShape(index.shape)) must equal source shape \(describeShape(source.shape))")
        check(index.rank == rank, "scatterAdd: index must have the rank of self (\(rank)), got shape \(describeShape(index.shape))")
        for j in 0..<rank where j != d {
            check(index.shape[j] == shape[j],
                         "scatterAdd: index shape \(describeShape(index.shape)) must match self shape \(describeShape(shape)) except in dimension \(d)")
        }
        check(source.dtype == dtype, "scatterAdd: source dtype \(source.dtype) must equal self dtype \(dtype)")
        let idx = checkIndices(index, bound: shape[d], op: "scatterAdd", dim: d)
        let out = contiguousCopy()
        let src = source.contiguousCopyIfNeeded()
        let outer = shape[..<d].reduce(1, *), inner = shape[(d + 1)...].reduce(1, *)
        if src.count > 0 {
            backend.scatterAdd(dtype: dtype, src.buffer, outer: outer, idxSize: index.shape[d], inner: inner,
                               index: idx.buffer, shared: false, out.buffer, dstSize: shape[d])
        }
        if !Tensor.needsGrad(self, source) { return out }
        return out.recording("ScatterAddBackward", [self, source]) { g in
            [g, source._requiresGrad ? g.gather(dim: d, index: idx) : nil]
        }
    }

    /// The entries at `index` (1-D) along `dim`, like torch.index_select.
    public func indexSelect(dim: Int, index: Tensor) -> Tensor {
        let d = normalizeDim(dim, rank, "indexSelect")
        check(index.rank <= 1, "indexSelect: index must be 1-D, got shape \(describeShape(index.shape))")
        let idx = checkIndices(index.reshape([-1]), bound: shape[d], op: "indexSelect", dim: d)
        let c = contiguousCopyIfNeeded()
        var outShape = shape
        outShape[d] = idx.count
        let out = Tensor.empty(outShape, dtype: dtype, device: Tensor.commonDevice("indexSelect", self, idx))
        let outer = shape[..<d].reduce(1, *), inner = shape[(d + 1)...].reduce(1, *)
        if out.count > 0 {
            backend.gather(elemSize: dtype.byteSize, c.buffer, outer: outer, srcSize: shape[d], inner: inner,
                           index: idx.buffer, idxSize: idx.count, shared: true, out.buffer)
        }
        if !Tensor.needsGrad(self) { return out }
        let inShape = shape, dt = dtype, n = idx.count
        return out.recording("IndexSelectBackward", [self]) { g in
            let z = Tensor.zeros(inShape, dtype: dt, device: g.device)
            let gc = g.contiguousCopyIfNeeded()
            z.backend.scatterAdd(dtype: dt, gc.buffer, outer: outer, idxSize: n, inner: inner,
                                 index: idx.buffer, shared: true, z.buffer, dstSize: inShape[d])
            return [z]
        }
    }

    /// One-hot encoding of integer class indices: shape + [numClasses], int64 (like
    /// torch.nn.functional.one_hot). numClasses defaults to max + 1.
    public func oneHot(numClasses: Int? = nil) -> Tensor {
        check(dtype == .int64 || dtype == .int32, "oneHot: class values must be int64 or int32, got \(dtype)")
        let values = to(.int64).toArray(as: Int64.self)
        var maxValue: Int64 = -1
        for v in values {
            check(v >= 0, "oneHot: class values must be non-negative, got \(v)")
            maxValue = Swift.max(maxValue, v)
        }
        let classes = numClasses ?? Int(maxValue + 1)
        check(classes > 0 || values.isEmpty, "oneHot: numClasses must be positive, got \(classes)")
        check(Int(maxValue) < classes, "oneHot: class value \(maxValue) is too large for numClasses \(classes)")
        var hot = [Int64](repeating: 0, count: values.count * classes)
        for (i, v) in values.enumerated() { hot[i * classes + Int(v)] = 1 }
        return Tensor(hot, shape: shape + [classes], dtype: .int64, device: device)
    }

    /// Constant padding, like torch.nn.functional.pad: `pads` lists (before, after) pairs
    /// starting from the last dim: [left, right, top, bottom, …]. Pads must be non-negative.
    public func pad(_ pads: [Int], value: Double = 0) -> Tensor {
        check(pads.count % 2 == 0 && pads.count / 2 <= rank,
                     "pad: padding length must be even and at most 2×rank (\(2 * rank)), got \(pads.count) for shape \(describeShape(shape))")
        check(pads.allSatisfy { $0 >= 0 }, "pad: negative padding \(pads) is not supported")
        var outShape = shape
        var starts = [Int](repeating: 0, count: rank)
        for i in 0..<(pads.count / 2) {
            let d = rank - 1 - i
            outShape[d] += pads[2 * i] + pads[2 * i + 1]
            starts[d] = pads[2 * i]
        }
        let out = Tensor.full(outShape, value, dtype: dtype, device: device)
        var region = out
        for d in 0..<rank { region = region.narrowNoGrad(d, starts[d], shape[d]) }
        region.assign(from: self)
        if !Tensor.needsGrad(self) { return out }
        let inShape = shape
        return out.recording("PadBackward", [self]) { g in
            var r = g
            for d in 0..<inShape.count { r = r.narrow(dim: d, start: starts[d], length: inShape[d]) }
            return [r]
        }
    }
}

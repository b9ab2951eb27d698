import NeuroneDevice

/// Views share storage with their base and never copy. Each records a graph node whose
/// backward maps the view's gradient back onto the base's shape.
extension Tensor {
    /// A tensor over the same storage with another shape/strides/offset.
    func restrided(_ shape: [Int], _ strides: [Int], _ offset: Int) -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// Backward of a view made by `make`: the gradient lands in a zero tensor of the base's
    /// shape, at the positions the view selects.
    static func viewBackward(_ g: Tensor, baseShape: [Int], dtype: DType, _ make: (Tensor) -> Tensor) -> Tensor {
        let z = Tensor.zeros(baseShape, dtype: dtype, device: g.device)
        let v = make(z)
        v.assign(from: g)
        return z
    }

    /// Copies `src` (broadcast to self's shape) into self's elements, ignoring autograd.
    func assign(from src: Tensor) {
        let src = src.to(device: device)
        let s = src.dtype == dtype ? src : withNoGrad { src.to(dtype) }
        let e = s.shape == shape ? s : s.expandedNoGrad(shape, op: "copy")
        if count == 0 { return }
        backend.copyStrided(elemSize: dtype.byteSize, shape: shape, src: e.buffer, srcStrides: e.strides,
                            dst: buffer, dstStrides: strides)
    }

    // MARK: reshape

    /// Resolves one −1 entry and checks the element count.
    func inferShape(_ requested: [Int], _ op: String) -> [Int] {
        var shape = requested
        let unknown = shape.indices.filter { shape[$0] == -1 }
        check(unknown.count <= 1, "\(op): only one dimension can be inferred (-1), got \(describeShape(requested))")
        check(shape.allSatisfy { $0 >= -1 }, "\(op): invalid shape \(describeShape(requested))")
        if let u = unknown.first {
            let known = shape.enumerated().filter { $0.offset != u }.reduce(1) { $0 * $1.element }
            check(known != 0 && count % known == 0,
                         "\(op): shape \(describeShape(requested)) is invalid for input of size \(count) (shape \(describeShape(self.shape)))")
            shape[u] = count / known
        }
        check(shapeCount(shape) == count,
                     "\(op): shape \(describeShape(requested)) is invalid for input of size \(count) (shape \(describeShape(self.shape)))")
        return shape
    }

    /// The same elements with another shape (one entry may be −1). A view when the tensor is
    /// contiguous, a copy otherwise.
    public func reshape(_ shape: [Int]) -> Tensor {
        let newShape = inferShape(shape, "reshape")
        if newShape == self.shape { return self }
        let base = isContiguous ? self : contiguous()
        let out = base.restrided(newShape, contiguousStrides(newShape), base.offset)
        let inShape = base.shape
        return out.recording("ReshapeBackward", [base]) { g in [g.reshape(inShape)] }
    }

    public func reshape(_ shape: Int...) -> Tensor { reshape(shape) }

    /// Like `reshape`, but only for contiguous tensors: always a view.
    public func view(_ shape: [Int]) -> Tensor {
        check(isContiguous, "view: the tensor (shape \(describeShape(self.shape)), strides \(describeShape(strides))) is not contiguous; use reshape(_:) or contiguous() first")
        return reshape(shape)
    }

    public func view(_ shape: Int...) -> Tensor { view(shape) }

    /// Merges dims startDim…endDim into one.
    public func flatten(startDim: Int = 0, endDim: Int = -1) -> Tensor {
        if rank == 0 { return reshape([1]) }
        let s = normalizeDim(startDim, rank, "flatten"), e = normalizeDim(endDim, rank, "flatten")
        check(s <= e, "flatten: startDim (\(startDim)) must not come after endDim (\(endDim))")
        let merged = shape[s...e].reduce(1, *)
        return reshape(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    // MARK: permutations

    /// Reorders the dims: result dim i is input dim dims[i].
    public func permute(_ dims: [Int]) -> Tensor {
        check(dims.count == rank, "permute: expected \(rank) dims for a tensor of shape \(describeShape(shape)), got \(dims)")
        let d = dims.map { normalizeDim($0, rank, "permute") }
        check(Set(d).count == rank, "permute: repeated dim in \(dims)")
        let out = restrided(d.map { shape[$0] }, d.map { strides[$0] }, offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, x) in d.enumerated() { inverse[x] = i }
        return out.recording("PermuteBackward", [self]) { g in [g.permute(inverse)] }
    }

    public func permute(_ dims: Int...) -> Tensor { permute(dims) }

    /// Swaps two dims.
    public func transpose(_ d0: Int, _ d1: Int) -> Tensor {
        if rank < 2 && (d0 == 0 || d0 == -1) && (d1 == 0 || d1 == -1) { return self }
        var p = Array(0..<rank)
        p.swapAt(normalizeDim(d0, rank, "transpose"), normalizeDim(d1, rank, "transpose"))
        return permute(p)
    }

    /// The transpose of a matrix (a vector or scalar is returned as is).
    public var T: Tensor {
        check(rank <= 2, "T: expects a tensor with at most 2 dimensions, got shape \(describeShape(shape)); use mT or permute")
        return rank < 2 ? self : transpose(0, 1)
    }

    /// The last two dims swapped (batched matrix transpose).
    public var mT: Tensor {
        check(rank >= 2, "mT: expects at least 2 dimensions, got shape \(describeShape(shape))")
        return transpose(-2, -1)
    }

    // MARK: slicing

    /// Elements start, start+step, … below end along `dim` (Python slice semantics: negative
    /// start/end count from the end and out-of-range bounds are clamped). step > 0.
    public func slice(dim: Int, start: Int? = nil, end: Int? = nil, step: Int = 1) -> Tensor {
        check(rank > 0, "slice: cannot slice a 0-dimensional tensor")
        check(step > 0, "slice: step must be positive, got \(step)")
        let d = normalizeDim(dim, rank, "slice")
        let n = shape[d]
        func clampIndex(_ i: Int?, _ dflt: Int) -> Int {
            guard var v = i else { return dflt }
            if v < 0 { v += n }
            return Swift.min(Swift.max(v, 0), n)
        }
        let s = clampIndex(start, 0), e = Swift.max(clampIndex(end, n), clampIndex(start, 0))
        let len = (e - s + step - 1) / step
        var newShape = shape, newStrides = strides
        newShape[d] = len
        newStrides[d] = strides[d] * step
        let out = restrided(newShape, newStrides, offset + (len > 0 ? s * strides[d] : 0))
        let baseShape = shape, dt = dtype
        return out.recording("SliceBackward", [self]) { g in
            [Tensor.viewBackward(g, baseShape: baseShape, dtype: dt) { $0.slice(dim: d, start: s, end: e, step: step) }]
        }
    }

    /// `length` elements from `start` along `dim`.
    public func narrow(dim: Int, start: Int, length: Int) -> Tensor {
        let d = normalizeDim(dim, rank, "narrow")
        let s = start < 0 ? start + shape[d] : start
        check(s >= 0 && length >= 0 && s + length <= shape[d],
                     "narrow: start (\(start)) + length (\(length)) exceeds dimension size (\(shape[d])) of dim \(dim), shape \(describeShape(shape))")
        return slice(dim: d, start: s, end: s + length)
    }

    /// The sub-tensor at `index` along `dim`; that dim is removed.
    public func select(dim: Int, index: Int) -> Tensor {
        let d = normalizeDim(dim, rank, "select")
        let n = shape[d]
        check(index >= -n && index < n, "select: index \(index) is out of bounds for dimension \(d) with size \(n) (shape \(describeShape(shape)))")
        let i = index < 0 ? index + n : index
        var newShape = shape, newStrides = strides
        newShape.remove(at: d)
        newStrides.remove(at: d)
        let out = restrided(newShape, newStrides, offset + i * strides[d])
        let baseShape = shape, dt = dtype
        return out.recording("SelectBackward", [self]) { g in
            [Tensor.viewBackward(g, baseShape: baseShape, dtype: dt) { $0.select(dim: d, index: i) }]
        }
    }

    /// NumPy-style indexing: `x[0, .all, .range(1..<5, step: 2), .newAxis]`.
    public subscript(_ indices: TensorIndex...) -> Tensor { index(indices) }

    /// Selects by integer positions along the leading dims: `x[i, j]` (negative counts from the end).
    public subscript(_ indices: Int...) -> Tensor { index(indices.map { TensorIndex.index($0) }) }

    /// Indexes dim 0 with a range: `x[1..<3]`.
    public subscript(_ range: Range<Int>) -> Tensor { slice(dim: 0, start: range.lowerBound, end: range.upperBound) }

    /// NumPy-style indexing with an array of `TensorIndex`.
    public func index(_ indices: [TensorIndex]) -> Tensor {
        let ellipses = indices.filter { if case .ellipsis = $0 { return true } else { return false } }.count
        check(ellipses <= 1, "index: at most one ellipsis is allowed")
        let consuming = indices.filter {
            switch $0 { case .newAxis, .ellipsis: return false; default: return true }
        }.count
        check(consuming <= rank, "index: too many indices (\(consuming)) for a tensor of shape \(describeShape(shape))")
        var expanded: [TensorIndex] = []
        for idx in indices {
            if case .ellipsis = idx {
                expanded += Array(repeating: .all, count: rank - consuming)
            } else {
                expanded.append(idx)
            }
        }
        var t = self
        var dim = 0
        for idx in expanded {
            switch idx {
            case .index(let i):
                t = t.select(dim: dim, index: i)
            case .range(let s, let e, let step):
                t = t.slice(dim: dim, start: s, end: e, step: step)
                dim += 1
            case .all:
                dim += 1
            case .newAxis:
                t = t.unsqueeze(dim)
                dim += 1
            case .ellipsis:
                break
            }
        }
        return t
    }

    // MARK: squeeze / unsqueeze / expand

    /// Removes dims of size 1 (all of them, or only `dim`).
    public func squeeze(_ dim: Int? = nil) -> Tensor {
        var newShape: [Int]
        if let dim = dim {
            if rank == 0 { return self }
            let d = normalizeDim(dim, rank, "squeeze")
            if shape[d] != 1 { return self }
            newShape = shape
            newShape.remove(at: d)
        } else {
            newShape = shape.filter { $0 != 1 }
        }
        if newShape == shape { return self }
        let kept = shape.indices.filter { i in
            if let dim = dim { return i != normalizeDim(dim, rank, "squeeze") } else { return shape[i] != 1 }
        }
        let out = restrided(newShape, kept.map { strides[$0] }, offset)
        let inShape = shape
        return out.recording("SqueezeBackward", [self]) { g in [g.reshape(inShape)] }
    }

    /// Inserts a dim of size 1 at position `dim` (−1 appends).
    public func unsqueeze(_ dim: Int) -> Tensor {
        let d = normalizeDim(dim, rank + 1, "unsqueeze")
        var newShape = shape, newStrides = strides
        let st = d < rank ? strides[d] * shape[d] : 1
        newShape.insert(1, at: d)
        newStrides.insert(st, at: d)
        let out = restrided(newShape, newStrides, offset)
        return out.recording("UnsqueezeBackward", [self]) { g in [g.squeeze(d)] }
    }

    /// Broadcasts to `shape` without copying (stride 0 on repeated dims). −1 keeps a size.
    public func expand(_ shape: [Int]) -> Tensor {
        let out = expandedNoGrad(shape, op: "expand")
        if out.shape == self.shape { return self }
        let inShape = self.shape
        return out.recording("ExpandBackward", [self]) { g in [g.sumTo(inShape)] }
    }

    public func expand(_ shape: Int...) -> Tensor { expand(shape) }

    /// Broadcasts to the shape of `other`.
    public func expand(as other: Tensor) -> Tensor { expand(other.shape) }

    func expandedNoGrad(_ target: [Int], op: String) -> Tensor {
        check(target.count >= rank,
                     "\(op): the number of sizes provided (\(target.count)) must be greater or equal to the number of dimensions in the tensor (\(rank)); shape \(describeShape(shape)) to \(describeShape(target))")
        let lead = target.count - rank
        var newShape = [Int](repeating: 0, count: target.count)
        var newStrides = [Int](repeating: 0, count: target.count)
        for i in 0..<target.count {
            if i < lead {
                check(target[i] >= 0, "\(op): the expanded size \(target[i]) is not allowed in a leading, non-existing dimension \(i)")
                newShape[i] = target[i]
                newStrides[i] = 0
            } else {
                let src = shape[i - lead]
                let t = target[i] == -1 ? src : target[i]
                if src == t {
                    newShape[i] = t
                    newStrides[i] = strides[i - lead]
                } else {
                    check(src == 1,
                                 "\(op): the expanded size of the tensor (\(t)) must match the existing size (\(src)) at non-singleton dimension \(i); shape \(describeShape(shape)) to \(describeShape(target))")
                    newShape[i] = t
                    newStrides[i] = 0
                }
            }
        }
        return restrided(newShape, newStrides, offset)
    }

    // MARK: copies that stay in the graph

    /// Self if contiguous, otherwise a contiguous copy (the gradient passes through).
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        return contiguousCopy().recording("ContiguousBackward", [self]) { g in [g] }
    }

    /// A contiguous copy (the gradient passes through).
    public func clone() -> Tensor {
        contiguousCopy().recording("CloneBackward", [self]) { g in [g] }
    }
}

/// One entry of a NumPy-style index: an integer, a slice, `.all` (`:`), `.newAxis` or `.ellipsis` (`...`).
public enum TensorIndex: ExpressibleByIntegerLiteral, Sendable {
    case index(Int)
    case range(start: Int?, end: Int?, step: Int)
    case all
    case newAxis
    case ellipsis

    public init(integerLiteral value: Int) { self = .index(value) }

    /// `start..<end` with a step.
    public static func range(_ r: Range<Int>, step: Int = 1) -> TensorIndex { .range(start: r.lowerBound, end: r.upperBound, step: step) }
    /// `start...end` with a step.
    public static func range(_ r: ClosedRange<Int>, step: Int = 1) -> TensorIndex { .range(start: r.lowerBound, end: r.upperBound + 1, step: step) }
    /// From `start` to the end, with a step (`start::step`).
    public static func from(_ start: Int, step: Int = 1) -> TensorIndex { .range(start: start, end: nil, step: step) }
    /// From the start up to `end`, with a step (`:end:step`).
    public static func upTo(_ end: Int, step: Int = 1) -> TensorIndex { .range(start: nil, end: end, step: step) }
    /// Every `step`-th element (`::step`).
    public static func every(_ step: Int) -> TensorIndex { .range(start: nil, end: nil, step: step) }
}

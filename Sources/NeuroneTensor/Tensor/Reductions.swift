import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reductions over one or several dims, with `keepDim`, and their gradients.
extension Tensor {
    /// Normalised, sorted, unique dims; nil or empty means all dims.
    func reductionDims(_ dims: [Int]?, _ op: String) -> [Int] {
        guard let dims = dims, !dims.isEmpty else { return Array(0..<rank) }
        let d = dims.map { normalizeDim($0, rank, op) }
        check(Set(d).count == d.count, "\(op): dim \(dims) appears multiple times in the list of dims")
        return d.sorted()
    }

    func reducedShape(_ dims: [Int], keepDim: Bool) -> [Int] {
        var out: [Int] = []
        for i in 0..<rank {
            if dims.contains(i) { if keepDim { out.append(1) } } else { out.append(shape[i]) }
        }
        return out
    }

    /// Lays the tensor out as a contiguous [outer, size, inner] block with `dims` in the middle.
    func reductionLayout(_ dims: [Int]) -> (Tensor, outer: Int, size: Int, inner: Int) {
        if rank == 0 { return (contiguousCopyIfNeeded(), 1, 1, 1) }
        let lo = dims.first!, hi = dims.last!
        if hi - lo + 1 == dims.count {
            let c = contiguousCopyIfNeeded()
            let outer = shape[..<lo].reduce(1, *), size = shape[lo...hi].reduce(1, *), inner = shape[(hi + 1)...].reduce(1, *)
            return (c, outer, size, inner)
        }
        let kept = (0..<rank).filter { !dims.contains($0) }
        let p = withNoGrad { self.permute(kept + dims) }.contiguousCopy()
        return (p, kept.map { shape[$0] }.reduce(1, *), dims.map { shape[$0] }.reduce(1, *), 1)
    }

    /// Sum over `dims` (all when nil). Integer and bool inputs sum to int64.
    public func sum(dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        let d = reductionDims(dims, "sum")
        // Dims in several separate runs (e.g. [0, 2, 3] of NCHW): reduce run by run, last first,
        // each without the permuting copy a single reduction would need.
        if let first = d.first, d.last! - first + 1 != d.count, isContiguous {
            var runs: [[Int]] = [[first]]
            for x in d.dropFirst() { if x == runs[runs.count - 1].last! + 1 { runs[runs.count - 1].append(x) } else { runs.append([x]) } }
            var t = self
            for run in runs.reversed() { t = t.sum(dims: run, keepDim: true) }
            return keepDim ? t : t.reshape(reducedShape(d, keepDim: false))
        }
        let outShape = reducedShape(d, keepDim: keepDim)
        let outType: DType = dtype.isFloatingPoint ? dtype : .int64
        let out = Tensor.empty(outShape, dtype: outType, device: device)
        let (c, outer, size, inner) = reductionLayout(d)
        if size == 0 || c.count == 0 {
            backend.fill(out.buffer, dtype: outType, count: out.count, value: 0)
        } else {
            backend.reduce(.sum, dtype: dtype, c.buffer, outer: outer, size: size, inner: inner, out.buffer, indices: nil)
        }
        if !Tensor.needsGrad(self) { return out }
        let inShape = shape, keptShape = reducedShape(d, keepDim: true)
        return out.recording("SumBackward", [self]) { g in [g.reshape(keptShape).expand(inShape)] }
    }

    public func sum(dim: Int, keepDim: Bool = false) -> Tensor { sum(dims: [dim], keepDim: keepDim) }

    /// Mean over `dims` (all when nil). Integer inputs are averaged in float32.
    public func mean(dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        let d = reductionDims(dims, "mean")
        let n = d.map { rank == 0 ? 1 : shape[$0] }.reduce(1, *)
        let x = dtype.isFloatingPoint ? self : to(.float32)
        return x.sum(dims: dims, keepDim: keepDim) / Double(n)
    }

    public func mean(dim: Int, keepDim: Bool = false) -> Tensor { mean(dims: [dim], keepDim: keepDim) }

    /// Variance over `dims` with Bessel's correction by default (`correction: 1`, as torch.var).
    public func variance(dims: [Int]? = nil, correction: Int = 1, keepDim: Bool = false) -> Tensor {
        let d = reductionDims(dims, "var")
        let n = d.map { rank == 0 ? 1 : shape[$0] }.reduce(1, *)
        let x = dtype.isFloatingPoint ? self : to(.float32)
        let centred = x - x.mean(dims: d, keepDim: true)
        return (centred * centred).sum(dims: d, keepDim: keepDim) / Double(Swift.max(n - correction, 0))
    }

    /// Standard deviation: √variance.
    public func std(dims: [Int]? = nil, correction: Int = 1, keepDim: Bool = false) -> Tensor {
        variance(dims: dims, correction: correction, keepDim: keepDim).sqrt()
    }

    /// log Σ exp(x) over `dims`, computed stably by shifting by the maximum.
    public func logsumexp(dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        let d = reductionDims(dims, "logsumexp")
        let x = dtype.isFloatingPoint ? self : to(.float32)
        let m = withNoGrad { () -> Tensor in
            var m = x.detach()
            for dim in d.reversed() { m = m.max(dim: dim, keepDim: true).values }
            // An all −∞ (or +∞) slice would give ∞ − ∞: shift by 0 there instead.
            return Tensor.where(m.abs() .== Double.infinity, 0.0, m)
        }
        let s = (x - m).exp().sum(dims: d, keepDim: true).log() + m
        return keepDim ? s : s.reshape(reducedShape(d, keepDim: false))
    }

    public func logsumexp(dim: Int, keepDim: Bool = false) -> Tensor { logsumexp(dims: [dim], keepDim: keepDim) }

    /// Maximum along `dim` and the index where it occurs (first one on ties; NaN wins).
    /// The gradient flows to that index.
    public func max(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) { extreme(.max, dim: dim, keepDim: keepDim) }
    /// Minimum along `dim` and its index.
    public func min(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) { extreme(.min, dim: dim, keepDim: keepDim) }

    private func extreme(_ op: ReduceOp, dim: Int, keepDim: Bool) -> (values: Tensor, indices: Tensor) {
        let name = op == .max ? "max" : "min"
        let d = rank == 0 ? 0 : normalizeDim(dim, rank, name)
        if rank == 0 { return (self, Tensor.zeros([], dtype: .int64, device: device)) }
        check(shape[d] > 0, "\(name): cannot reduce over dim \(d) of size 0 (shape \(describeShape(shape)))")
        let outShape = reducedShape([d], keepDim: keepDim)
        let values = Tensor.empty(outShape, dtype: dtype, device: device)
        let indices = Tensor.empty(outShape, dtype: .int64, device: device)
        let (c, outer, size, inner) = reductionLayout([d])
        backend.reduce(op, dtype: dtype, c.buffer, outer: outer, size: size, inner: inner, values.buffer,
                       indices: indices.buffer)
        if !Tensor.needsGrad(self) { return (values, indices) }
        let inShape = shape, keptShape = reducedShape([d], keepDim: true), dt = dtype
        let idx = indices.reshape(keptShape)
        let v = values.recording(op == .max ? "MaxBackward" : "MinBackward", [self]) { g in
            [Tensor.zeros(inShape, dtype: dt, device: g.device).scatterAdd(dim: d, index: idx, source: g.reshape(keptShape))]
        }
        return (v, indices)
    }

    /// The largest element (NaN if any). The gradient is shared equally among tied maxima.
    public func max() -> Tensor { extremeAll(.max) }
    /// The smallest element.
    public func min() -> Tensor { extremeAll(.min) }

    private func extremeAll(_ op: ReduceOp) -> Tensor {
        check(count > 0, "\(op.rawValue)(): cannot reduce an empty tensor (shape \(describeShape(shape)))")
        let flat = withNoGrad { self.reshape([-1]) }
        let v = withNoGrad { op == .max ? flat.max(dim: 0).values : flat.min(dim: 0).values }
        if !Tensor.needsGrad(self) { return v }
        let x = detach(), y = v.detach()
        return v.recording(op == .max ? "MaxBackward" : "MinBackward", [self]) { g in
            let hits = (x .== y).to(g.dtype)
            return [hits * (g / hits.sum())]
        }
    }

    /// Index of the maximum along `dim` (of the flattened tensor when nil), as int64.
    public func argmax(dim: Int? = nil, keepDim: Bool = false) -> Tensor { argExtreme(.argmax, dim: dim, keepDim: keepDim) }
    /// Index of the minimum along `dim` (of the flattened tensor when nil), as int64.
    public func argmin(dim: Int? = nil, keepDim: Bool = false) -> Tensor { argExtreme(.argmin, dim: dim, keepDim: keepDim) }

    private func argExtreme(_ op: ReduceOp, dim: Int?, keepDim: Bool) -> Tensor {
        check(count > 0, "\(op.rawValue): cannot reduce an empty tensor (shape \(describeShape(shape)))")
        return withNoGrad {
            guard let dim = dim else {
                let r = reshape([-1]).argExtreme(op, dim: 0, keepDim: false)
                return keepDim ? r.reshape([Int](repeating: 1, count: rank)) : r
            }
            let r = op == .argmax ? max(dim: dim, keepDim: keepDim) : min(dim: dim, keepDim: keepDim)
            return r.indices
        }
    }

    /// The p-norm over `dims` (all when nil): (Σ|x|ᵖ)^(1/p); p = .infinity gives max |x|.
    /// At a zero vector the 2-norm's gradient is 0, as in PyTorch.
    public func norm(p: Double = 2, dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        check(p > 0, "norm: p must be positive, got \(p)")
        let d = reductionDims(dims, "norm")
        let x = dtype.isFloatingPoint ? self : to(.float32)
        if p == .infinity {
            var m = x.abs()
            for dim in d.reversed() { m = m.max(dim: dim, keepDim: true).values }
            return keepDim ? m : m.reshape(reducedShape(d, keepDim: false))
        }
        let out = withNoGrad { () -> Tensor in
            if p == 2 { return (x * x).sum(dims: d, keepDim: keepDim).sqrt() }
            if p == 1 { return x.abs().sum(dims: d, keepDim: keepDim) }
            return x.abs().pow(p).sum(dims: d, keepDim: keepDim).pow(1 / p)
        }
        if !Tensor.needsGrad(self) { return out }
        let xs = x.detach(), n = out.detach(), kept = reducedShape(d, keepDim: true)
        let norm = out.recording("NormBackward", [x]) { g in
            let gk = g.reshape(kept), nk = n.reshape(kept)
            if p == 1 { return [gk * xs.sign()] }
            // ∂‖x‖p/∂x = sign(x)|x|^(p−1) / ‖x‖p^(p−1); zero where the norm is zero.
            let num = p == 2 ? xs : xs.sign() * xs.abs().pow(p - 1)
            let den = p == 2 ? nk : nk.pow(p - 1)
            let safe = Tensor.where(den .== 0.0, 1.0, den)
            return [(gk * num / safe).maskedFill((nk .== 0.0).expand(xs.shape), 0)]
        }
        return norm
    }
}

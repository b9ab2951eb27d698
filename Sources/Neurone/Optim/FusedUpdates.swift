/// One pass over a parameter and its state for the common optimisers, in place, instead of a
/// chain of out-of-place tensor ops (each of which reads and writes the whole parameter).
/// The arithmetic is the same, in the same order, as the tensor-op formulation (and torch.optim).
enum FusedUpdate {
    /// Runs `body(start, end, p, g, s0, s1)` over contiguous float32 or float64 buffers of equal size,
    /// in parallel for large parameters. Returns false (nothing done) when a buffer is not contiguous
    /// or the dtypes differ, so that the caller falls back to tensor ops.
    static func run<R>(_ p: Tensor, _ g: Tensor, _ states: [Tensor],
                       float: (Int, Int, UnsafeMutablePointer<Float>, UnsafePointer<Float>, [UnsafeMutablePointer<Float>]) -> R,
                       double: (Int, Int, UnsafeMutablePointer<Double>, UnsafePointer<Double>, [UnsafeMutablePointer<Double>]) -> R) -> Bool {
        let all = [p, g] + states
        guard all.allSatisfy({ $0.isContiguous && $0.dtype == p.dtype && $0.count == p.count }), p.dtype.isFloatingPoint else { return false }
        let n = p.count
        if p.dtype == .float32 {
            let pp = p.data.assumingMemoryBound(to: Float.self), gp = UnsafePointer(g.data.assumingMemoryBound(to: Float.self))
            let sp = states.map { $0.data.assumingMemoryBound(to: Float.self) }
            Threading.parallelFor(n, minChunk: 1 << 15) { a, b in _ = float(a, b, pp, gp, sp) }
        } else {
            let pp = p.data.assumingMemoryBound(to: Double.self), gp = UnsafePointer(g.data.assumingMemoryBound(to: Double.self))
            let sp = states.map { $0.data.assumingMemoryBound(to: Double.self) }
            Threading.parallelFor(n, minChunk: 1 << 15) { a, b in _ = double(a, b, pp, gp, sp) }
        }
        return true
    }

    @inline(__always)
    static func adadelta<T: FloatKernel>(_ a: Int, _ b: Int, _ p: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ s: [UnsafeMutablePointer<T>],
                                         rho: T, eps: T, lr: T, wd: T) {
        let sq = s[0], acc = s[1]
        let oneMinusRho = 1 - rho
        for i in a..<b {
            var gi = g[i]
            if wd != 0 { gi = gi + p[i] * wd }
            sq[i] = sq[i] * rho + gi * gi * oneMinusRho
            let delta = (acc[i] + eps).squareRoot() / (sq[i] + eps).squareRoot() * gi
            acc[i] = acc[i] * rho + delta * delta * oneMinusRho
            p[i] = p[i] - delta * lr
        }
    }

    @inline(__always)
    static func sgd<T: FloatKernel>(_ a: Int, _ b: Int, _ p: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>,
                                    lr: T, wd: T, maximize: Bool) {
        for i in a..<b {
            var gi = maximize ? -g[i] : g[i]
            if wd != 0 { gi = gi + p[i] * wd }
            p[i] = p[i] - gi * lr
        }
    }

    @inline(__always)
    static func sgdMomentum<T: FloatKernel>(_ a: Int, _ b: Int, _ p: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ s: [UnsafeMutablePointer<T>],
                                            momentum: T, dampening: T, lr: T, wd: T, nesterov: Bool, maximize: Bool, first: Bool) {
        let buf = s[0]
        let keep = 1 - dampening
        for i in a..<b {
            var gi = maximize ? -g[i] : g[i]
            if wd != 0 { gi = gi + p[i] * wd }
            let bi = first ? gi : buf[i] * momentum + gi * keep
            buf[i] = bi
            let step = nesterov ? gi + bi * momentum : bi
            p[i] = p[i] - step * lr
        }
    }

    @inline(__always)
    static func adam<T: FloatKernel>(_ a: Int, _ b: Int, _ p: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ s: [UnsafeMutablePointer<T>],
                                     beta1: T, beta2: T, eps: T, stepSize: T, sqrtBC2: T, l2: T, maximize: Bool) {
        let m = s[0], v = s[1]
        let c1 = 1 - beta1, c2 = 1 - beta2
        for i in a..<b {
            var gi = maximize ? -g[i] : g[i]
            if l2 != 0 { gi = gi + p[i] * l2 }
            m[i] = m[i] * beta1 + gi * c1
            v[i] = v[i] * beta2 + gi * gi * c2
            let denom = v[i].squareRoot() / sqrtBC2 + eps
            p[i] = p[i] - m[i] / denom * stepSize
        }
    }
}

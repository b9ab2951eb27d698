import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reference backend: every kernel of `Backend` as the plainest loop that computes it — one
/// element at a time, sums in float64, no SIMD, no threads, no blocking — on host memory. It is
/// the oracle the fast CPU kernels are tested against and the proof that the layers above the
/// seam need nothing of the CPU backend: the whole tensor, layer, loss and optimiser suite runs on
/// it (`NEURONE_DEVICE=reference swift test`).
package final class ReferenceBackend: HostMemoryBackend {
    package static let shared = ReferenceBackend()

    package var device: Device { .reference }
    /// One: the reference loops never split work.
    package var threadCount: Int { 1 }

    // MARK: copies, casts, fills

    package func copyStrided(elemSize: Int, shape: [Int], src: DeviceBuffer, srcStrides: [Int], dst: DeviceBuffer, dstStrides: [Int]) {
        let s = src.storage.address + src.byteOffset, d = dst.storage.address + dst.byteOffset
        forEachIndex(shape) { idx in
            var so = 0, doff = 0
            for k in 0..<idx.count { so += idx[k] * srcStrides[k]; doff += idx[k] * dstStrides[k] }
            (d + doff * elemSize).copyMemory(from: s + so * elemSize, byteCount: elemSize)
        }
    }

    package func cast(_ src: DeviceBuffer, from: DType, _ dst: DeviceBuffer, to: DType, count: Int) {
        let s = Elements(src, from), d = Elements(dst, to)
        for i in 0..<count {
            if from == to {
                d.copy(i, from: s, i)
            } else if !from.isFloatingPoint && !to.isFloatingPoint {
                d.setInt(i, s.int(i))      // int64 → int32 keeps the low bits; bool → 0/1
            } else {
                d[i] = s[i]
            }
        }
    }

    package func fill(_ dst: DeviceBuffer, dtype: DType, count: Int, value: Double) {
        let d = Elements(dst, dtype)
        for i in 0..<count { d[i] = value }
    }

    // MARK: elementwise

    package func unary(_ op: UnaryOp, dtype: DType, _ src: DeviceBuffer, _ dst: DeviceBuffer, count: Int) {
        let s = Elements(src, dtype), d = Elements(dst, dtype)
        if dtype.isFloatingPoint {
            for i in 0..<count { d[i] = Self.unaryFloat(op, s[i], dtype: dtype) }
        } else if dtype == .bool {
            check(op == .abs || op == .relu || op == .sign, "\(op.rawValue): not supported for bool tensors")
            for i in 0..<count { d.setInt(i, s.int(i)) }
        } else {
            for i in 0..<count {
                let x = s.int(i)
                switch op {
                case .neg: d.setInt(i, 0 &- x)
                case .abs: d.setInt(i, x < 0 ? 0 &- x : x)
                case .relu: d.setInt(i, x < 0 ? 0 : x)
                case .sign: d.setInt(i, x > 0 ? 1 : (x < 0 ? -1 : 0))
                default: fail("\(op.rawValue): not supported for integer tensors; cast to a floating-point dtype first")
                }
            }
        }
    }

    /// f(x) in the dtype's own precision: float64 by the C library's double functions, float32 by
    /// its float ones (expf, tanhf…), as PyTorch computes each dtype.
    static func unaryFloat(_ op: UnaryOp, _ x: Double, dtype: DType) -> Double {
        dtype == .float32 ? Double(unaryFloat(op, Float(x))) : unaryFloat(op, x)
    }

    static func unaryFloat<T: ReferenceFloat>(_ op: UnaryOp, _ x: T) -> T {
        switch op {
        case .neg: return -x
        case .abs: return Swift.abs(x)
        case .sqrt: return x.squareRoot()
        case .exp: return T.rexp(x)
        case .log: return T.rlog(x)
        case .log1p: return T.rlog1p(x)
        case .sin: return T.rsin(x)
        case .cos: return T.rcos(x)
        case .tanh: return T.rtanh(x)
        case .sigmoid: return x >= 0 ? 1 / (1 + T.rexp(-x)) : T.rexp(x) / (1 + T.rexp(x))
        case .relu: return x < 0 ? 0 : x
        case .sign: return x > 0 ? 1 : (x < 0 ? -1 : x)
        case .reciprocal: return 1 / x
        case .erf: return T.rerf(x)
        }
    }

    package func activationGrad(_ op: UnaryOp, dtype: DType, _ g: DeviceBuffer, _ saved: DeviceBuffer, _ out: DeviceBuffer, count: Int) {
        check(dtype.isFloatingPoint, "activationGrad: dtype \(dtype) is not supported (float32 or float64 expected)")
        guard let a = FusedActivation(gradientOf: op) else { fail("activationGrad: \(op.rawValue) has no fused gradient") }
        let gv = Elements(g, dtype), s = Elements(saved, dtype), o = Elements(out, dtype)
        for i in 0..<count { o[i] = Self.activationGradient(a, gv[i], saved: s[i]) }
    }

    /// g · f′ for an activation, f′ from `saved`: the input for relu (0 where x ≤ 0, so that a NaN
    /// input passes g), the output y for tanh (1 − y²) and sigmoid (y(1 − y)).
    static func activationGradient(_ a: FusedActivation, _ g: Double, saved s: Double) -> Double {
        switch a {
        case .relu: return s <= 0 ? 0 : g
        case .tanh: return g * (1 - s * s)
        case .sigmoid: return g * s * (1 - s)
        }
    }

    package func clamp(dtype: DType, _ src: DeviceBuffer, _ dst: DeviceBuffer, count: Int, min lo: Double?, max hi: Double?) {
        let s = Elements(src, dtype), d = Elements(dst, dtype)
        for i in 0..<count {
            if dtype.isFloatingPoint {
                var x = s[i]
                if let l = lo, x < l { x = l }
                if let h = hi, x > h { x = h }
                d[i] = x
            } else {
                var x = s.int(i)
                if let l = lo.map({ Self.integerBound($0, dtype) }), x < l { x = l }
                if let h = hi.map({ Self.integerBound($0, dtype) }), x > h { x = h }
                d.setInt(i, x)
            }
        }
    }

    /// A clamp bound as a value of an integer or bool dtype: saturated to its range (bool: ≠ 0).
    static func integerBound(_ v: Double, _ dtype: DType) -> Int64 {
        switch dtype {
        case .int32: return Elements.saturated(v, Int64(Int32.min), Int64(Int32.max))
        case .bool: return v != 0 ? 1 : 0
        default: return Elements.saturated(v, Int64.min, Int64.max)
        }
    }

    package func binary(_ op: BinaryOp, dtype: DType, _ a: DeviceBuffer, aStep: Int, _ b: DeviceBuffer, bStep: Int, _ out: DeviceBuffer, count: Int) {
        let x = Elements(a, dtype), y = Elements(b, dtype), o = Elements(out, dtype)
        for i in 0..<count {
            let (ia, ib) = (i * aStep, i * bStep)
            if dtype.isFloatingPoint {
                let (u, v) = (x[ia], y[ib])
                switch op {
                case .add: o[i] = u + v
                case .sub: o[i] = u - v
                case .mul: o[i] = u * v
                case .div: o[i] = u / v
                // float32 pow in float32 (powf), as the CPU computes it: pow in float64 then
                // rounded can differ in the last place
                case .pow: o[i] = dtype == .float32 ? Double(powf(Float(u), Float(v))) : pow(u, v)
                case .minimum: o[i] = (u < v || u.isNaN) ? u : v
                case .maximum: o[i] = (u > v || u.isNaN) ? u : v
                }
            } else if dtype == .bool {
                let (u, v) = (x.int(ia), y.int(ib))
                switch op {
                case .add, .maximum: o.setInt(i, u | v)
                case .mul, .minimum: o.setInt(i, u & v)
                default: fail("\(op.rawValue): not supported for two bool tensors")
                }
            } else {
                let (u, v) = (x.int(ia), y.int(ib))
                switch op {
                case .add: o.setInt(i, u &+ v)
                case .sub: o.setInt(i, u &- v)
                case .mul: o.setInt(i, u &* v)
                case .minimum: o.setInt(i, Swift.min(u, v))
                case .maximum: o.setInt(i, Swift.max(u, v))
                case .pow:
                    check(v >= 0, "pow: integers to negative integer powers are not allowed")
                    var r: Int64 = 1, p = u, e = v        // by squaring, wrapping as the CPU does
                    while e > 0 { if e & 1 == 1 { r = r &* p }; p = p &* p; e >>= 1 }
                    o.setInt(i, r)
                case .div: fail("div on integer tensors is promoted to float by the tensor layer")
                }
            }
        }
    }

    package func compare(_ op: CompareOp, dtype: DType, _ a: DeviceBuffer, aStep: Int, _ b: DeviceBuffer, bStep: Int, _ out: DeviceBuffer, count: Int) {
        let x = Elements(a, dtype), y = Elements(b, dtype), o = Elements(out, .bool)
        for i in 0..<count {
            let r: Bool
            if dtype.isFloatingPoint {
                let (u, v) = (x[i * aStep], y[i * bStep])
                switch op {
                case .eq: r = u == v
                case .ne: r = u != v
                case .lt: r = u < v
                case .le: r = u <= v
                case .gt: r = u > v
                case .ge: r = u >= v
                }
            } else {
                let (u, v) = (x.int(i * aStep), y.int(i * bStep))
                switch op {
                case .eq: r = u == v
                case .ne: r = u != v
                case .lt: r = u < v
                case .le: r = u <= v
                case .gt: r = u > v
                case .ge: r = u >= v
                }
            }
            o.setInt(i, r ? 1 : 0)
        }
    }

    package func select(dtype: DType, cond: DeviceBuffer, _ a: DeviceBuffer, _ b: DeviceBuffer, _ out: DeviceBuffer, count: Int) {
        let c = Elements(cond, .bool), x = Elements(a, dtype), y = Elements(b, dtype), o = Elements(out, dtype)
        for i in 0..<count { o.copy(i, from: c.int(i) != 0 ? x : y, i) }
    }

    // MARK: reductions

    package func reduce(_ op: ReduceOp, dtype: DType, _ src: DeviceBuffer, outer: Int, size: Int, inner: Int, _ out: DeviceBuffer,
                        indices: DeviceBuffer?) {
        let s = Elements(src, dtype)
        for o in 0..<outer {
            for i in 0..<inner {
                let at = { (j: Int) in (o * size + j) * inner + i }
                let r = o * inner + i
                switch op {
                case .sum:
                    if dtype.isFloatingPoint {
                        var acc = 0.0
                        for j in 0..<size { acc += s[at(j)] }
                        Elements(out, dtype)[r] = acc
                    } else {
                        var acc: Int64 = 0
                        for j in 0..<size { acc &+= s.int(at(j)) }
                        Elements(out, .int64).setInt(r, acc)
                    }
                case .max, .min, .argmax, .argmin:
                    let wantMax = op == .max || op == .argmax
                    // the first maximum (minimum) wins; a NaN wins over everything
                    var best = 0
                    if size > 0 && !Self.isNaN(s, at(0)) {
                        for j in 1..<Swift.max(size, 1) {
                            if Self.isNaN(s, at(j)) { best = j; break }
                            if Self.less(s, at(best), at(j)) == wantMax && Self.differ(s, at(best), at(j)) { best = j }
                        }
                    }
                    if op == .max || op == .min {
                        Elements(out, dtype).copy(r, from: s, at(best))
                        if let idx = indices { Elements(idx, .int64).setInt(r, Int64(best)) }
                    } else {
                        Elements(out, .int64).setInt(r, Int64(best))
                    }
                }
            }
        }
    }

    private static func isNaN(_ s: Elements, _ i: Int) -> Bool { s.dtype.isFloatingPoint && s[i].isNaN }
    /// s[i] < s[j].
    private static func less(_ s: Elements, _ i: Int, _ j: Int) -> Bool { s.dtype.isFloatingPoint ? s[i] < s[j] : s.int(i) < s.int(j) }
    private static func differ(_ s: Elements, _ i: Int, _ j: Int) -> Bool { s.dtype.isFloatingPoint ? s[i] != s[j] : s.int(i) != s.int(j) }

    // MARK: products

    package func gemm(dtype: DType, batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                      _ a: DeviceBuffer, lda: Int, strideA: Int, _ b: DeviceBuffer, ldb: Int, strideB: Int,
                      beta: Double, _ c: DeviceBuffer, ldc: Int, strideC: Int) {
        check(dtype.isFloatingPoint, "matmul: dtype \(dtype) is not supported (float32 or float64 expected)")
        let x = Elements(a, dtype), y = Elements(b, dtype), z = Elements(c, dtype)
        for p in 0..<batch {
            for i in 0..<m {
                for j in 0..<n {
                    var acc = 0.0
                    for l in 0..<k {
                        let av = x[p * strideA + (transA ? l * lda + i : i * lda + l)]
                        let bv = y[p * strideB + (transB ? j * ldb + l : l * ldb + j)]
                        acc += av * bv
                    }
                    let at = p * strideC + i * ldc + j
                    // beta = 0: C is not read (it may hold anything), as in BLAS
                    z[at] = beta == 0 ? alpha * acc : alpha * acc + beta * z[at]
                }
            }
        }
    }

    // MARK: gather, scatter

    package func gather(elemSize: Int, _ src: DeviceBuffer, outer: Int, srcSize: Int, inner: Int, index: DeviceBuffer, idxSize: Int,
                        shared: Bool, _ out: DeviceBuffer) {
        let dt = Self.dtype(ofSize: elemSize)
        let s = Elements(src, dt), o = Elements(out, dt), ix = Elements(index, .int64)
        for r in 0..<outer {
            for j in 0..<idxSize {
                for i in 0..<inner {
                    let at = (r * idxSize + j) * inner + i
                    let k = Int(shared ? ix.int(j) : ix.int(at))
                    o.copy(at, from: s, (r * srcSize + k) * inner + i)
                }
            }
        }
    }

    package func scatterAdd(dtype: DType, _ src: DeviceBuffer, outer: Int, idxSize: Int, inner: Int, index: DeviceBuffer, shared: Bool,
                            _ dst: DeviceBuffer, dstSize: Int) {
        let s = Elements(src, dtype), d = Elements(dst, dtype), ix = Elements(index, .int64)
        for r in 0..<outer {
            for j in 0..<idxSize {
                for i in 0..<inner {
                    let at = (r * idxSize + j) * inner + i
                    let k = Int(shared ? ix.int(j) : ix.int(at))
                    let to = (r * dstSize + k) * inner + i
                    if dtype.isFloatingPoint { d[to] = d[to] + s[at] } else if dtype == .bool { d.setInt(to, d.int(to) | s.int(at)) } else { d.setInt(to, d.int(to) &+ s.int(at)) }
                }
            }
        }
    }

    /// A dtype of `size` bytes, for moving elements whose type does not matter.
    static func dtype(ofSize size: Int) -> DType { size == 1 ? .bool : (size == 4 ? .int32 : .int64) }

    /// Calls `body` with every index of `shape`, row-major.
    func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) {
        if shape.contains(0) { return }
        var idx = [Int](repeating: 0, count: shape.count)
        while true {
            body(idx)
            var d = shape.count - 1
            while d >= 0 {
                idx[d] += 1
                if idx[d] < shape[d] { break }
                idx[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}

extension Float: ReferenceFloat {
    static func rexp(_ x: Float) -> Float { expf(x) }
    static func rlog(_ x: Float) -> Float { logf(x) }
    static func rlog1p(_ x: Float) -> Float { log1pf(x) }
    static func rsin(_ x: Float) -> Float { sinf(x) }
    static func rcos(_ x: Float) -> Float { cosf(x) }
    static func rtanh(_ x: Float) -> Float { tanhf(x) }
    static func rerf(_ x: Float) -> Float { erff(x) }
}

extension Double: ReferenceFloat {
    static func rexp(_ x: Double) -> Double { exp(x) }
    static func rlog(_ x: Double) -> Double { log(x) }
    static func rlog1p(_ x: Double) -> Double { log1p(x) }
    static func rsin(_ x: Double) -> Double { sin(x) }
    static func rcos(_ x: Double) -> Double { cos(x) }
    static func rtanh(_ x: Double) -> Double { tanh(x) }
    static func rerf(_ x: Double) -> Double { erf(x) }
}

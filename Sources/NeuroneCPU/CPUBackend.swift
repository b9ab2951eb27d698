import NeuroneDevice
import CNeuroneKernels

/// The CPU implementation of `Backend`: Swift loops over unsafe buffers (vectorised by the
/// optimiser), C kernels for float32 transcendentals and GEMM, and work split across
/// `Threading.threadCount` threads once a buffer is large enough to pay for it.
package final class CPUBackend {
    package static let shared = CPUBackend()

    /// Memory-bound elementwise work below this many elements stays on one thread.
    let grain = 1 << 16
    /// Compute-bound (transcendental) work splits earlier.
    let mathGrain = 1 << 13

    /// A new uninitialised buffer of `count` values for a kernel's own use (from `BufferCache`,
    /// so a warmed-up step allocates nothing new).
    func scratch(_ count: Int, _ dt: DType) -> Storage { Storage(hostByteCount: count * dt.byteSize, device: .cpu) }

    // MARK: copy, cast, fill

    package func copyStrided(elemSize: Int, shape: [Int], src: UnsafeRawPointer, srcStrides: [Int],
                     dst: UnsafeMutableRawPointer, dstStrides: [Int]) {
        // Drop size-1 dims and merge dims that are contiguous with their neighbour on both sides.
        var sh: [Int64] = [], ss: [Int64] = [], ds: [Int64] = []
        for d in 0..<shape.count {
            if shape[d] == 0 { return }
            if shape[d] == 1 { continue }
            if let last = sh.last, ss.last! == Int64(srcStrides[d] * shape[d]), ds.last! == Int64(dstStrides[d] * shape[d]) {
                sh[sh.count - 1] = last * Int64(shape[d])
                ss[ss.count - 1] = Int64(srcStrides[d])
                ds[ds.count - 1] = Int64(dstStrides[d])
            } else {
                sh.append(Int64(shape[d])); ss.append(Int64(srcStrides[d])); ds.append(Int64(dstStrides[d]))
            }
        }
        if sh.isEmpty { sh = [1]; ss = [1]; ds = [1] }
        let total = sh.reduce(1, *)
        let outer = Int(sh[0])
        if total >= Int64(grain) * 4 && outer >= 2 && Threading.threadCount > 1 {
            let s0 = Int(ss[0]) * elemSize, d0 = Int(ds[0]) * elemSize
            Threading.parallelFor(outer, minChunk: 1) { a, b in
                var part = sh
                part[0] = Int64(b - a)
                nk_copy_strided(Int64(elemSize), Int64(part.count), part, src + a * s0, ss, dst + a * d0, ds)
            }
        } else {
            nk_copy_strided(Int64(elemSize), Int64(sh.count), sh, src, ss, dst, ds)
        }
    }

    package func cast(_ src: UnsafeRawPointer, from: DType, _ dst: UnsafeMutableRawPointer, to: DType, count: Int) {
        if from == to {
            dst.copyMemory(from: src, byteCount: count * from.byteSize)
            return
        }
        if from == .float32 && to == .float64 {
            let s = src.assumingMemoryBound(to: Float.self), d = dst.assumingMemoryBound(to: Double.self)
            for i in 0..<count { d[i] = Double(s[i]) }
            return
        }
        if from == .float64 && to == .float32 {
            let s = src.assumingMemoryBound(to: Double.self), d = dst.assumingMemoryBound(to: Float.self)
            for i in 0..<count { d[i] = Float(s[i]) }
            return
        }
        if from == .int64 && to == .int32 {
            let s = src.assumingMemoryBound(to: Int64.self), d = dst.assumingMemoryBound(to: Int32.self)
            for i in 0..<count { d[i] = Int32(truncatingIfNeeded: s[i]) }
            return
        }
        if to == .int64 && (from == .int32 || from == .bool) {
            let d = dst.assumingMemoryBound(to: Int64.self)
            if from == .int32 {
                let s = src.assumingMemoryBound(to: Int32.self)
                for i in 0..<count { d[i] = Int64(s[i]) }
            } else {
                let s = src.assumingMemoryBound(to: UInt8.self)
                for i in 0..<count { d[i] = Int64(s[i]) }
            }
            return
        }
        // General path through Double (exact for every value these types hold below 2^53).
        func read<S: KernelScalar>(_ s: UnsafePointer<S>) {
            dispatchWrite(to, dst) { (d: UnsafeMutableRawPointer, write: (Int, Double) -> Void) in
                for i in 0..<count { write(i, s[i].kernelDouble) }
            }
        }
        switch from {
        case .float32: read(src.assumingMemoryBound(to: Float.self))
        case .float64: read(src.assumingMemoryBound(to: Double.self))
        case .int32: read(src.assumingMemoryBound(to: Int32.self))
        case .int64: read(src.assumingMemoryBound(to: Int64.self))
        case .bool: read(src.assumingMemoryBound(to: UInt8.self))
        }
    }

    private func dispatchWrite(_ to: DType, _ dst: UnsafeMutableRawPointer,
                               _ body: (UnsafeMutableRawPointer, (Int, Double) -> Void) -> Void) {
        switch to {
        case .float32: let d = dst.assumingMemoryBound(to: Float.self); body(dst) { d[$0] = Float(kernelDouble: $1) }
        case .float64: let d = dst.assumingMemoryBound(to: Double.self); body(dst) { d[$0] = $1 }
        case .int32: let d = dst.assumingMemoryBound(to: Int32.self); body(dst) { d[$0] = Int32(kernelDouble: $1) }
        case .int64: let d = dst.assumingMemoryBound(to: Int64.self); body(dst) { d[$0] = Int64(kernelDouble: $1) }
        case .bool: let d = dst.assumingMemoryBound(to: UInt8.self); body(dst) { d[$0] = $1 != 0 ? 1 : 0 }
        }
    }

    package func fill(_ dst: UnsafeMutableRawPointer, dtype: DType, count: Int, value: Double) {
        func go<T: KernelScalar>(_ d: UnsafeMutablePointer<T>) {
            let v = T(kernelDouble: value)
            d.initialize(repeating: v, count: count)
        }
        switch dtype {
        case .float32: go(dst.assumingMemoryBound(to: Float.self))
        case .float64: go(dst.assumingMemoryBound(to: Double.self))
        case .int32: go(dst.assumingMemoryBound(to: Int32.self))
        case .int64: go(dst.assumingMemoryBound(to: Int64.self))
        case .bool: go(dst.assumingMemoryBound(to: UInt8.self))
        }
    }

    // MARK: unary

    package func unary(_ op: UnaryOp, dtype: DType, _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, count: Int) {
        let g = op.isTranscendental ? mathGrain : grain
        switch dtype {
        case .float32:
            let s = src.assumingMemoryBound(to: Float.self), d = dst.assumingMemoryBound(to: Float.self)
            Threading.parallelFor(count, minChunk: g) { a, b in
                switch op {
                case .exp: nk_exp_f32(s + a, d + a, Int64(b - a))
                case .sigmoid: nk_sigmoid_f32(s + a, d + a, Int64(b - a))
                case .tanh: nk_tanh_f32(s + a, d + a, Int64(b - a))
                default: unaryFloat(op, s + a, d + a, b - a)
                }
            }
        case .float64:
            let s = src.assumingMemoryBound(to: Double.self), d = dst.assumingMemoryBound(to: Double.self)
            Threading.parallelFor(count, minChunk: g) { a, b in unaryFloat(op, s + a, d + a, b - a) }
        case .int32:
            unaryInt(op, src.assumingMemoryBound(to: Int32.self), dst.assumingMemoryBound(to: Int32.self), count)
        case .int64:
            unaryInt(op, src.assumingMemoryBound(to: Int64.self), dst.assumingMemoryBound(to: Int64.self), count)
        case .bool:
            let s = src.assumingMemoryBound(to: UInt8.self), d = dst.assumingMemoryBound(to: UInt8.self)
            switch op {
            case .abs, .relu, .sign: for i in 0..<count { d[i] = s[i] }
            default: fail("\(op.rawValue): not supported for bool tensors")
            }
        }
    }

    package func activationGrad(_ op: UnaryOp, dtype: DType, _ g: UnsafeRawPointer, _ saved: UnsafeRawPointer,
                        _ out: UnsafeMutableRawPointer, count: Int) {
        guard let code = FusedActivation(gradientOf: op)?.kernelCode else { fail("activationGrad: \(op.rawValue) has no fused gradient") }
        switch dtype {
        case .float32:
            let (gp, sp, dp) = (g.assumingMemoryBound(to: Float.self), saved.assumingMemoryBound(to: Float.self), out.assumingMemoryBound(to: Float.self))
            Threading.parallelFor(count, minChunk: grain) { a, b in nk_activation_grad_f32(code, gp + a, sp + a, dp + a, Int64(b - a)) }
        case .float64:
            let (gp, sp, dp) = (g.assumingMemoryBound(to: Double.self), saved.assumingMemoryBound(to: Double.self), out.assumingMemoryBound(to: Double.self))
            Threading.parallelFor(count, minChunk: grain) { a, b in nk_activation_grad_f64(code, gp + a, sp + a, dp + a, Int64(b - a)) }
        default: fail("activationGrad: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }

    private func unaryFloat<T: FloatKernel>(_ op: UnaryOp, _ s: UnsafePointer<T>, _ d: UnsafeMutablePointer<T>, _ n: Int) {
        switch op {
        case .neg: for i in 0..<n { d[i] = -s[i] }
        case .abs: for i in 0..<n { d[i] = Swift.abs(s[i]) }
        case .sqrt: for i in 0..<n { d[i] = s[i].squareRoot() }
        case .exp: for i in 0..<n { d[i] = T.fexp(s[i]) }
        case .log: for i in 0..<n { d[i] = T.flog(s[i]) }
        case .log1p: for i in 0..<n { d[i] = T.flog1p(s[i]) }
        case .sin: for i in 0..<n { d[i] = T.fsin(s[i]) }
        case .cos: for i in 0..<n { d[i] = T.fcos(s[i]) }
        case .tanh: for i in 0..<n { d[i] = T.ftanh(s[i]) }
        case .sigmoid:
            for i in 0..<n {
                let x = s[i]
                if x >= 0 { d[i] = 1 / (1 + T.fexp(-x)) } else { let e = T.fexp(x); d[i] = e / (1 + e) }
            }
        case .relu: for i in 0..<n { let x = s[i]; d[i] = x < 0 ? 0 : x }
        case .sign: for i in 0..<n { let x = s[i]; d[i] = x > 0 ? 1 : (x < 0 ? -1 : x) }
        case .reciprocal: for i in 0..<n { d[i] = 1 / s[i] }
        case .erf: for i in 0..<n { d[i] = T.ferf(s[i]) }
        }
    }

    private func unaryInt<T: FixedWidthInteger & SignedInteger>(_ op: UnaryOp, _ s: UnsafePointer<T>, _ d: UnsafeMutablePointer<T>, _ n: Int) {
        switch op {
        case .neg: for i in 0..<n { d[i] = 0 &- s[i] }
        case .abs: for i in 0..<n { let x = s[i]; d[i] = x < 0 ? 0 &- x : x }
        case .relu: for i in 0..<n { let x = s[i]; d[i] = x < 0 ? 0 : x }
        case .sign: for i in 0..<n { let x = s[i]; d[i] = x > 0 ? 1 : (x < 0 ? -1 : 0) }
        default: fail("\(op.rawValue): not supported for integer tensors; cast to a floating-point dtype first")
        }
    }

    package func clamp(dtype: DType, _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, count: Int, min lo: Double?, max hi: Double?) {
        func go<T: KernelScalar>(_ s: UnsafePointer<T>, _ d: UnsafeMutablePointer<T>) {
            let l = lo.map { T(kernelDouble: $0) }, h = hi.map { T(kernelDouble: $0) }
            switch (l, h) {
            case let (l?, h?): for i in 0..<count { var x = s[i]; x = x < l ? l : x; d[i] = x > h ? h : x }
            case let (l?, nil): for i in 0..<count { let x = s[i]; d[i] = x < l ? l : x }
            case let (nil, h?): for i in 0..<count { let x = s[i]; d[i] = x > h ? h : x }
            case (nil, nil): for i in 0..<count { d[i] = s[i] }
            }
        }
        switch dtype {
        case .float32: go(src.assumingMemoryBound(to: Float.self), dst.assumingMemoryBound(to: Float.self))
        case .float64: go(src.assumingMemoryBound(to: Double.self), dst.assumingMemoryBound(to: Double.self))
        case .int32: go(src.assumingMemoryBound(to: Int32.self), dst.assumingMemoryBound(to: Int32.self))
        case .int64: go(src.assumingMemoryBound(to: Int64.self), dst.assumingMemoryBound(to: Int64.self))
        case .bool: go(src.assumingMemoryBound(to: UInt8.self), dst.assumingMemoryBound(to: UInt8.self))
        }
    }

    // MARK: binary

    @inline(__always)
    private func loop2<T, R>(_ a: UnsafePointer<T>, _ aStep: Int, _ b: UnsafePointer<T>, _ bStep: Int,
                             _ o: UnsafeMutablePointer<R>, _ n: Int, _ f: (T, T) -> R) {
        if aStep == 1 && bStep == 1 {
            for i in 0..<n { o[i] = f(a[i], b[i]) }
        } else if aStep == 0 && bStep == 1 {
            let x = a[0]
            for i in 0..<n { o[i] = f(x, b[i]) }
        } else if aStep == 1 {
            let y = b[0]
            for i in 0..<n { o[i] = f(a[i], y) }
        } else {
            o.initialize(repeating: f(a[0], b[0]), count: n)
        }
    }

    package func binary(_ op: BinaryOp, dtype: DType, _ a: UnsafeRawPointer, aStep: Int, _ b: UnsafeRawPointer, bStep: Int,
                _ out: UnsafeMutableRawPointer, count: Int) {
        let g = op == .pow ? mathGrain : grain
        switch dtype {
        case .float32:
            let x = a.assumingMemoryBound(to: Float.self), y = b.assumingMemoryBound(to: Float.self), o = out.assumingMemoryBound(to: Float.self)
            Threading.parallelFor(count, minChunk: g) { s, e in
                binaryFloat(op, x + s * aStep, aStep, y + s * bStep, bStep, o + s, e - s)
            }
        case .float64:
            let x = a.assumingMemoryBound(to: Double.self), y = b.assumingMemoryBound(to: Double.self), o = out.assumingMemoryBound(to: Double.self)
            Threading.parallelFor(count, minChunk: g) { s, e in
                binaryFloat(op, x + s * aStep, aStep, y + s * bStep, bStep, o + s, e - s)
            }
        case .int32:
            binaryInt(op, a.assumingMemoryBound(to: Int32.self), aStep, b.assumingMemoryBound(to: Int32.self), bStep, out.assumingMemoryBound(to: Int32.self), count)
        case .int64:
            binaryInt(op, a.assumingMemoryBound(to: Int64.self), aStep, b.assumingMemoryBound(to: Int64.self), bStep, out.assumingMemoryBound(to: Int64.self), count)
        case .bool:
            let x = a.assumingMemoryBound(to: UInt8.self), y = b.assumingMemoryBound(to: UInt8.self), o = out.assumingMemoryBound(to: UInt8.self)
            switch op {
            case .add, .maximum: loop2(x, aStep, y, bStep, o, count) { $0 | $1 }
            case .mul, .minimum: loop2(x, aStep, y, bStep, o, count) { $0 & $1 }
            default: fail("\(op.rawValue): not supported for two bool tensors")
            }
        }
    }

    private func binaryFloat<T: FloatKernel>(_ op: BinaryOp, _ a: UnsafePointer<T>, _ aStep: Int, _ b: UnsafePointer<T>, _ bStep: Int,
                                             _ o: UnsafeMutablePointer<T>, _ n: Int) {
        switch op {
        case .add: loop2(a, aStep, b, bStep, o, n) { $0 + $1 }
        case .sub: loop2(a, aStep, b, bStep, o, n) { $0 - $1 }
        case .mul: loop2(a, aStep, b, bStep, o, n) { $0 * $1 }
        case .div: loop2(a, aStep, b, bStep, o, n) { $0 / $1 }
        case .pow: loop2(a, aStep, b, bStep, o, n) { T.fpow($0, $1) }
        case .minimum: loop2(a, aStep, b, bStep, o, n) { ($0 < $1 || $0.isNaN) ? $0 : $1 }
        case .maximum: loop2(a, aStep, b, bStep, o, n) { ($0 > $1 || $0.isNaN) ? $0 : $1 }
        }
    }

    private func binaryInt<T: FixedWidthInteger & SignedInteger>(_ op: BinaryOp, _ a: UnsafePointer<T>, _ aStep: Int, _ b: UnsafePointer<T>, _ bStep: Int,
                                                                  _ o: UnsafeMutablePointer<T>, _ n: Int) {
        switch op {
        case .add: loop2(a, aStep, b, bStep, o, n) { $0 &+ $1 }
        case .sub: loop2(a, aStep, b, bStep, o, n) { $0 &- $1 }
        case .mul: loop2(a, aStep, b, bStep, o, n) { $0 &* $1 }
        case .minimum: loop2(a, aStep, b, bStep, o, n) { Swift.min($0, $1) }
        case .maximum: loop2(a, aStep, b, bStep, o, n) { Swift.max($0, $1) }
        case .pow:
            loop2(a, aStep, b, bStep, o, n) { base, e in
                check(e >= 0, "pow: integers to negative integer powers are not allowed")
                var r: T = 1, p = base, k = e
                while k > 0 { if k & 1 == 1 { r = r &* p }; p = p &* p; k >>= 1 }
                return r
            }
        case .div: fail("div on integer tensors is promoted to float by the tensor layer")
        }
    }

    package func compare(_ op: CompareOp, dtype: DType, _ a: UnsafeRawPointer, aStep: Int, _ b: UnsafeRawPointer, bStep: Int,
                 _ out: UnsafeMutableRawPointer, count: Int) {
        let o = out.assumingMemoryBound(to: UInt8.self)
        func go<T: KernelScalar>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>) {
            switch op {
            case .eq: loop2(x, aStep, y, bStep, o, count) { $0 == $1 ? 1 : 0 }
            case .ne: loop2(x, aStep, y, bStep, o, count) { $0 != $1 ? 1 : 0 }
            case .lt: loop2(x, aStep, y, bStep, o, count) { $0 < $1 ? 1 : 0 }
            case .le: loop2(x, aStep, y, bStep, o, count) { $0 <= $1 ? 1 : 0 }
            case .gt: loop2(x, aStep, y, bStep, o, count) { $0 > $1 ? 1 : 0 }
            case .ge: loop2(x, aStep, y, bStep, o, count) { $0 >= $1 ? 1 : 0 }
            }
        }
        switch dtype {
        case .float32: go(a.assumingMemoryBound(to: Float.self), b.assumingMemoryBound(to: Float.self))
        case .float64: go(a.assumingMemoryBound(to: Double.self), b.assumingMemoryBound(to: Double.self))
        case .int32: go(a.assumingMemoryBound(to: Int32.self), b.assumingMemoryBound(to: Int32.self))
        case .int64: go(a.assumingMemoryBound(to: Int64.self), b.assumingMemoryBound(to: Int64.self))
        case .bool: go(a.assumingMemoryBound(to: UInt8.self), b.assumingMemoryBound(to: UInt8.self))
        }
    }

    package func select(dtype: DType, cond: UnsafeRawPointer, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer,
                _ out: UnsafeMutableRawPointer, count: Int) {
        let c = cond.assumingMemoryBound(to: UInt8.self)
        func go<T>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ o: UnsafeMutablePointer<T>) {
            for i in 0..<count { o[i] = c[i] != 0 ? x[i] : y[i] }
        }
        switch dtype.byteSize {
        case 1: go(a.assumingMemoryBound(to: UInt8.self), b.assumingMemoryBound(to: UInt8.self), out.assumingMemoryBound(to: UInt8.self))
        case 4: go(a.assumingMemoryBound(to: UInt32.self), b.assumingMemoryBound(to: UInt32.self), out.assumingMemoryBound(to: UInt32.self))
        default: go(a.assumingMemoryBound(to: UInt64.self), b.assumingMemoryBound(to: UInt64.self), out.assumingMemoryBound(to: UInt64.self))
        }
    }

    // MARK: reductions

    package func reduce(_ op: ReduceOp, dtype: DType, _ src: UnsafeRawPointer, outer: Int, size: Int, inner: Int,
                _ out: UnsafeMutableRawPointer, indices: UnsafeMutablePointer<Int64>?) {
        switch dtype {
        case .float32: reduceTyped(op, src.assumingMemoryBound(to: Float.self), outer, size, inner, out, indices)
        case .float64: reduceTyped(op, src.assumingMemoryBound(to: Double.self), outer, size, inner, out, indices)
        case .int32: reduceTyped(op, src.assumingMemoryBound(to: Int32.self), outer, size, inner, out, indices)
        case .int64: reduceTyped(op, src.assumingMemoryBound(to: Int64.self), outer, size, inner, out, indices)
        case .bool: reduceTyped(op, src.assumingMemoryBound(to: UInt8.self), outer, size, inner, out, indices)
        }
    }

    private func reduceTyped<T: KernelScalar>(_ op: ReduceOp, _ s: UnsafePointer<T>, _ outer: Int, _ size: Int, _ inner: Int,
                                              _ out: UnsafeMutableRawPointer, _ indices: UnsafeMutablePointer<Int64>?) {
        switch op {
        case .sum:
            if T.self == Float.self {
                sumFloat(UnsafeRawPointer(s).assumingMemoryBound(to: Float.self), outer, size, inner, out.assumingMemoryBound(to: Float.self))
            } else if T.self == Double.self {
                sumDouble(UnsafeRawPointer(s).assumingMemoryBound(to: Double.self), outer, size, inner, out.assumingMemoryBound(to: Double.self))
            } else {
                sumInteger(s, outer, size, inner, out.assumingMemoryBound(to: Int64.self))
            }
        case .max, .min, .argmax, .argmin:
            let wantMax = op == .max || op == .argmax
            let values: UnsafeMutablePointer<T>? = (op == .max || op == .min) ? out.assumingMemoryBound(to: T.self) : nil
            let idx: UnsafeMutablePointer<Int64>? = (op == .argmax || op == .argmin) ? out.assumingMemoryBound(to: Int64.self) : indices
            Threading.parallelFor(outer, minChunk: max(1, grain / max(1, size * inner))) { o0, o1 in
                for o in o0..<o1 {
                    for i in 0..<inner {
                        let base = s + o * size * inner + i
                        var best = base[0], bestIdx = 0
                        var bestIsNaN = best != best
                        if !bestIsNaN {
                            for j in 1..<max(size, 1) {
                                let v = base[j * inner]
                                if v != v { best = v; bestIdx = j; bestIsNaN = true; break }
                                if wantMax ? (v > best) : (v < best) { best = v; bestIdx = j }
                            }
                        }
                        values?[o * inner + i] = best
                        idx?[o * inner + i] = Int64(bestIdx)
                    }
                }
            }
        }
    }

    /// Row sums accumulate 32 float lanes per block of 4096 elements, then add block sums in
    /// float64: close to pairwise accuracy at memory speed.
    private func sumFloat(_ s: UnsafePointer<Float>, _ outer: Int, _ size: Int, _ inner: Int, _ o: UnsafeMutablePointer<Float>) {
        if inner == 1 {
            if outer == 1 && size >= grain * 2 && Threading.threadCount > 1 {
                let chunks = min(Threading.threadCount, size / grain)
                var partial = [Double](repeating: 0, count: chunks)
                partial.withUnsafeMutableBufferPointer { p in
                    let pp = p.baseAddress!
                    let per = (size + chunks - 1) / chunks
                    Threading.parallelFor(chunks, minChunk: 1) { c0, c1 in
                        for c in c0..<c1 {
                            let st = c * per, en = min(size, st + per)
                            pp[c] = st < en ? rowSumFloat(s + st, en - st) : 0
                        }
                    }
                }
                o[0] = Float(partial.reduce(0, +))
                return
            }
            Threading.parallelFor(outer, minChunk: max(1, grain / max(size, 1))) { a, b in
                for r in a..<b { o[r] = Float(rowSumFloat(s + r * size, size)) }
            }
            return
        }
        Threading.parallelFor(outer, minChunk: max(1, grain / max(size * inner, 1))) { a, b in
            for r in a..<b {
                let dst = o + r * inner
                let base = s + r * size * inner
                for i in 0..<inner { dst[i] = base[i] }
                for j in 1..<max(size, 1) {
                    let row = base + j * inner
                    for i in 0..<inner { dst[i] += row[i] }
                }
                if size == 0 { for i in 0..<inner { dst[i] = 0 } }
            }
        }
    }

    private func rowSumFloat(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        var total = 0.0
        var start = 0
        let block = 4096
        while start < n {
            let len = min(block, n - start)
            let q = p + start
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var i = 0
            let raw = UnsafeRawPointer(q)
            while i + 32 <= len {
                a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                a1 += raw.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
                a2 += raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD8<Float>.self)
                a3 += raw.loadUnaligned(fromByteOffset: (i + 24) * 4, as: SIMD8<Float>.self)
                i += 32
            }
            var tail: Float = 0
            while i < len { tail += q[i]; i += 1 }
            let v = (a0 + a1) + (a2 + a3)
            total += Double(v.sum()) + Double(tail)
            start += len
        }
        return total
    }

    private func sumDouble(_ s: UnsafePointer<Double>, _ outer: Int, _ size: Int, _ inner: Int, _ o: UnsafeMutablePointer<Double>) {
        Threading.parallelFor(outer, minChunk: max(1, grain / max(size * inner, 1))) { a, b in
            for r in a..<b {
                let base = s + r * size * inner
                let dst = o + r * inner
                if inner == 1 {
                    var a0 = SIMD4<Double>(), a1 = SIMD4<Double>()
                    var i = 0
                    let raw = UnsafeRawPointer(base)
                    while i + 8 <= size {
                        a0 += raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
                        a1 += raw.loadUnaligned(fromByteOffset: (i + 4) * 8, as: SIMD4<Double>.self)
                        i += 8
                    }
                    var t = 0.0
                    while i < size { t += base[i]; i += 1 }
                    dst[0] = (a0 + a1).sum() + t
                } else {
                    for i in 0..<inner { dst[i] = 0 }
                    for j in 0..<size {
                        let row = base + j * inner
                        for i in 0..<inner { dst[i] += row[i] }
                    }
                }
            }
        }
    }

    private func sumInteger<T: KernelScalar>(_ s: UnsafePointer<T>, _ outer: Int, _ size: Int, _ inner: Int, _ o: UnsafeMutablePointer<Int64>) {
        for r in 0..<outer {
            for i in 0..<inner {
                var acc: Int64 = 0
                for j in 0..<size { acc &+= Int64(s[(r * size + j) * inner + i].kernelDouble) }
                o[r * inner + i] = acc
            }
        }
    }

    // MARK: GEMM

    package func gemm(dtype: DType, batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
              _ a: UnsafeRawPointer, lda: Int, strideA: Int, _ b: UnsafeRawPointer, ldb: Int, strideB: Int,
              beta: Double, _ c: UnsafeMutableRawPointer, ldc: Int, strideC: Int) {
        // Many small products: one per thread at a time, each on the built-in single-threaded
        // kernel (a system BLAS may serialise concurrent calls).
        if batch >= 2 && Threading.threadCount > 1 && m * n * k < (1 << 20) && (dtype == .float32 || dtype == .float64) {
            Threading.parallelFor(batch, minChunk: 1) { b0, b1 in
                for i in b0..<b1 {
                    if dtype == .float32 {
                        let A = a.assumingMemoryBound(to: Float.self), B = b.assumingMemoryBound(to: Float.self), C = c.assumingMemoryBound(to: Float.self)
                        nk_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), Float(alpha), A + i * strideA, Int64(lda),
                                 B + i * strideB, Int64(ldb), Float(beta), C + i * strideC, Int64(ldc))
                    } else {
                        let A = a.assumingMemoryBound(to: Double.self), B = b.assumingMemoryBound(to: Double.self), C = c.assumingMemoryBound(to: Double.self)
                        nk_dgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha, A + i * strideA, Int64(lda),
                                 B + i * strideB, Int64(ldb), beta, C + i * strideC, Int64(ldc))
                    }
                }
            }
            return
        }
        switch dtype {
        case .float32:
            let A = a.assumingMemoryBound(to: Float.self), B = b.assumingMemoryBound(to: Float.self), C = c.assumingMemoryBound(to: Float.self)
            for i in 0..<batch {
                Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: Float(alpha), a: A + i * strideA, lda: lda,
                           b: B + i * strideB, ldb: ldb, beta: Float(beta), c: C + i * strideC, ldc: ldc)
            }
        case .float64:
            let A = a.assumingMemoryBound(to: Double.self), B = b.assumingMemoryBound(to: Double.self), C = c.assumingMemoryBound(to: Double.self)
            for i in 0..<batch {
                Gemm.dgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: A + i * strideA, lda: lda,
                           b: B + i * strideB, ldb: ldb, beta: beta, c: C + i * strideC, ldc: ldc)
            }
        default:
            fail("matmul: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }

    // MARK: gather / scatter

    package func gather(elemSize: Int, _ src: UnsafeRawPointer, outer: Int, srcSize: Int, inner: Int,
                index: UnsafePointer<Int64>, idxSize: Int, shared: Bool, _ out: UnsafeMutableRawPointer) {
        func go<T>(_ s: UnsafePointer<T>, _ o: UnsafeMutablePointer<T>) {
            for r in 0..<outer {
                for j in 0..<idxSize {
                    let orow = o + (r * idxSize + j) * inner
                    if shared {
                        let srow = s + (r * srcSize + Int(index[j])) * inner
                        for i in 0..<inner { orow[i] = srow[i] }
                    } else {
                        let irow = index + (r * idxSize + j) * inner
                        let sbase = s + r * srcSize * inner
                        for i in 0..<inner { orow[i] = sbase[Int(irow[i]) * inner + i] }
                    }
                }
            }
        }
        switch elemSize {
        case 1: go(src.assumingMemoryBound(to: UInt8.self), out.assumingMemoryBound(to: UInt8.self))
        case 4: go(src.assumingMemoryBound(to: UInt32.self), out.assumingMemoryBound(to: UInt32.self))
        default: go(src.assumingMemoryBound(to: UInt64.self), out.assumingMemoryBound(to: UInt64.self))
        }
    }

    package func scatterAdd(dtype: DType, _ src: UnsafeRawPointer, outer: Int, idxSize: Int, inner: Int,
                    index: UnsafePointer<Int64>, shared: Bool, _ dst: UnsafeMutableRawPointer, dstSize: Int) {
        func go<T>(_ s: UnsafePointer<T>, _ d: UnsafeMutablePointer<T>, _ add: (T, T) -> T) {
            for r in 0..<outer {
                for j in 0..<idxSize {
                    let srow = s + (r * idxSize + j) * inner
                    if shared {
                        let drow = d + (r * dstSize + Int(index[j])) * inner
                        for i in 0..<inner { drow[i] = add(drow[i], srow[i]) }
                    } else {
                        let irow = index + (r * idxSize + j) * inner
                        let dbase = d + r * dstSize * inner
                        for i in 0..<inner {
                            let p = Int(irow[i]) * inner + i
                            dbase[p] = add(dbase[p], srow[i])
                        }
                    }
                }
            }
        }
        switch dtype {
        case .float32: go(src.assumingMemoryBound(to: Float.self), dst.assumingMemoryBound(to: Float.self), +)
        case .float64: go(src.assumingMemoryBound(to: Double.self), dst.assumingMemoryBound(to: Double.self), +)
        case .int32: go(src.assumingMemoryBound(to: Int32.self), dst.assumingMemoryBound(to: Int32.self), &+)
        case .int64: go(src.assumingMemoryBound(to: Int64.self), dst.assumingMemoryBound(to: Int64.self), &+)
        case .bool: go(src.assumingMemoryBound(to: UInt8.self), dst.assumingMemoryBound(to: UInt8.self), |)
        }
    }
}

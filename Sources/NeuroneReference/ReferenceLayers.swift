import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reference backend's layer ops, each written from its definition with float64 sums: the
/// convolution as its six nested loops, linear as row-by-column dot products, attention as
/// scores, a softmax and a weighted sum per (sample, head), the optimiser updates as their
/// formulas. Activations are not fused (`fusesActivation` is false): the tensor layer applies them
/// as their own ops.
extension ReferenceBackend {
    package func supportsConv2d(_ p: Conv2dProblem) -> Bool { p.dtype.isFloatingPoint }

    package func fusesActivation(dtype: DType) -> Bool { false }

    package func conv2d(_ p: Conv2dProblem, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?, activation: FusedActivation?,
                        out: DeviceBuffer) -> AnyObject? {
        let g = p.geometry, dt = p.dtype
        let xs = Elements(x, dt), ws = Elements(weight, dt), y = Elements(out, dt)
        for n in 0..<p.batch {
            for o in 0..<p.outChannels {
                for oh in 0..<g.outH {
                    for ow in 0..<g.outW {
                        var acc = bias.map { Elements($0, dt)[o] } ?? 0
                        forEachTap(p, oh, ow) { c, i, j, at in
                            acc += xs[((n * p.channels + c) * p.height) * p.width + at] * ws[((o * p.channels + c) * g.kernelH + i) * g.kernelW + j]
                        }
                        let to = ((n * p.outChannels + o) * g.outH + oh) * g.outW + ow
                        y[to] = activation.map { Self.unaryFloat($0.unaryOp, acc, dtype: dt) } ?? acc
                    }
                }
            }
        }
        return nil
    }

    package func conv2dBackward(_ p: Conv2dProblem, saved: AnyObject?, x: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer?,
                                activation: FusedActivation?, gradOut: DeviceBuffer, dx: DeviceBuffer?, dweight: DeviceBuffer?,
                                dbias: DeviceBuffer?) {
        let g = p.geometry, dt = p.dtype
        let xs = Elements(x, dt), ws = Elements(weight, dt), go = Elements(gradOut, dt)
        let yCount = p.batch * p.outChannels * g.outH * g.outW
        // the gradient before the activation, from the saved output
        var gy = [Double](repeating: 0, count: yCount)
        for i in 0..<yCount {
            guard let a = activation, let y = output.map({ Elements($0, dt)[i] }) else { gy[i] = go[i]; continue }
            gy[i] = Self.activationGradient(a, go[i], saved: y)
        }
        var gx = [Double](repeating: 0, count: dx == nil ? 0 : p.batch * p.channels * p.height * p.width)
        var gw = [Double](repeating: 0, count: dweight == nil ? 0 : p.outChannels * p.channels * g.kernelH * g.kernelW)
        var gb = [Double](repeating: 0, count: dbias == nil ? 0 : p.outChannels)
        for n in 0..<p.batch {
            for o in 0..<p.outChannels {
                for oh in 0..<g.outH {
                    for ow in 0..<g.outW {
                        let gv = gy[((n * p.outChannels + o) * g.outH + oh) * g.outW + ow]
                        if dbias != nil { gb[o] += gv }
                        forEachTap(p, oh, ow) { c, i, j, at in
                            let xi = ((n * p.channels + c) * p.height) * p.width + at, wi = ((o * p.channels + c) * g.kernelH + i) * g.kernelW + j
                            if dx != nil { gx[xi] += gv * ws[wi] }
                            if dweight != nil { gw[wi] += gv * xs[xi] }
                        }
                    }
                }
            }
        }
        if let d = dx { let e = Elements(d, dt); for i in 0..<gx.count { e[i] = gx[i] } }
        if let d = dweight { let e = Elements(d, dt); for i in 0..<gw.count { e[i] = gw[i] } }
        if let d = dbias { let e = Elements(d, dt); for i in 0..<gb.count { e[i] = gb[i] } }
    }

    /// Calls `body(c, i, j, y·W + x)` for every tap of output (oh, ow) that falls inside the input.
    private func forEachTap(_ p: Conv2dProblem, _ oh: Int, _ ow: Int, _ body: (Int, Int, Int, Int) -> Void) {
        let g = p.geometry
        for c in 0..<p.channels {
            for i in 0..<g.kernelH {
                let y = oh * g.strideH - g.padH + i * g.dilationH
                guard y >= 0 && y < p.height else { continue }
                for j in 0..<g.kernelW {
                    let x = ow * g.strideW - g.padW + j * g.dilationW
                    guard x >= 0 && x < p.width else { continue }
                    body(c, i, j, y * p.width + x)
                }
            }
        }
    }

    package func linear(dtype: DType, rows: Int, inFeatures: Int, outFeatures: Int, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?,
                        activation: FusedActivation?, out: DeviceBuffer) {
        let xs = Elements(x, dtype), ws = Elements(weight, dtype), y = Elements(out, dtype)
        for r in 0..<rows {
            for o in 0..<outFeatures {
                var acc = bias.map { Elements($0, dtype)[o] } ?? 0
                for k in 0..<inFeatures { acc += xs[r * inFeatures + k] * ws[o * inFeatures + k] }
                y[r * outFeatures + o] = activation.map { Self.unaryFloat($0.unaryOp, acc, dtype: dtype) } ?? acc
            }
        }
    }

    package func linearWeightGradient(dtype: DType, rows: Int, inFeatures: Int, outFeatures: Int, gradOut: DeviceBuffer, x: DeviceBuffer,
                                      into dweight: DeviceBuffer, bias dbias: DeviceBuffer?, activation: FusedActivation?, output: DeviceBuffer?) {
        let xs = Elements(x, dtype), dw = Elements(dweight, dtype)
        // g = gradOut · f′(y) when the forward's activation is given, computed here in full first
        let gOut = Elements(gradOut, dtype)
        var g = (0..<(rows * outFeatures)).map { gOut[$0] }
        if let activation {
            precondition(output != nil, "linearWeightGradient: an activation needs the forward's output")
            let y = Elements(output!, dtype)
            for i in g.indices { g[i] = Self.activationGradient(activation, g[i], saved: y[i]) }
        }
        for o in 0..<outFeatures {
            for k in 0..<inFeatures {
                var acc = 0.0
                for r in 0..<rows { acc += g[r * outFeatures + o] * xs[r * inFeatures + k] }
                dw[o * inFeatures + k] = acc
            }
        }
        if let dbias {
            let db = Elements(dbias, dtype)
            for o in 0..<outFeatures {
                var acc = 0.0
                for r in 0..<rows { acc += g[r * outFeatures + o] }
                db[o] = acc
            }
        }
    }

    package func activate(_ activation: FusedActivation, dtype: DType, _ x: DeviceBuffer, count: Int) {
        let e = Elements(x, dtype)
        for i in 0..<count { e[i] = Self.unaryFloat(activation.unaryOp, e[i], dtype: dtype) }
    }

    // MARK: attention

    package func attention(_ p: AttentionProblem, q: StridedRows, k: StridedRows, v: StridedRows, mask: DeviceBuffer?, maskBlockStride: Int,
                           dropout: DeviceBuffer?, probabilities: DeviceBuffer?, out: DeviceBuffer) {
        let (dt, l, s, d) = (p.dtype, p.queries, p.keys, p.headDim)
        let e = p.heads * d, scale = 1 / Double(d).squareRoot()
        let (qe, ke, ve, oe) = (Elements(q.buffer, dt), Elements(k.buffer, dt), Elements(v.buffer, dt), Elements(out, dt))
        for n in 0..<p.batch {
            for h in 0..<p.heads {
                let b = n * p.heads + h
                for i in 0..<l {
                    // scores of query i, then its softmax (the row's maximum subtracted first)
                    var scores = [Double](repeating: 0, count: s)
                    for j in 0..<s {
                        var dot = 0.0
                        for t in 0..<d { dot += qe[n * q.batchStride + i * q.rowStride + h * d + t] * ke[n * k.batchStride + j * k.rowStride + h * d + t] }
                        scores[j] = dot * scale + (mask.map { Elements($0, dt)[b * maskBlockStride + i * s + j] } ?? 0)
                    }
                    let top = scores.max() ?? 0
                    var total = 0.0
                    for j in 0..<s { scores[j] = exp(scores[j] - top); total += scores[j] }
                    for j in 0..<s { scores[j] /= total }
                    if let pb = probabilities { let pe = Elements(pb, dt); for j in 0..<s { pe[(b * l + i) * s + j] = scores[j] } }
                    // dropout: O = (P ⊙ multipliers)·V, P kept whole
                    if let db = dropout { let de = Elements(db, dt); for j in 0..<s { scores[j] *= de[(b * l + i) * s + j] } }
                    for t in 0..<d {
                        var acc = 0.0
                        for j in 0..<s { acc += scores[j] * ve[n * v.batchStride + j * v.rowStride + h * d + t] }
                        oe[(n * l + i) * e + h * d + t] = acc
                    }
                }
            }
        }
    }

    /// With P the saved probabilities, M the dropout multipliers (all 1 without dropout) and dO
    /// the output's gradient, per (sample, head): dV = (P ⊙ M)ᵀ·dO, dP = (dO·Vᵀ) ⊙ M,
    /// dS = P ⊙ (dP − rowsum(P ⊙ dP)), dQ = dS·K/√D, dK = dSᵀ·Q/√D.
    package func attentionBackward(_ p: AttentionProblem, q: StridedRows, k: StridedRows, v: StridedRows, probabilities: DeviceBuffer,
                                   dropout: DeviceBuffer?, gradOut: DeviceBuffer, gq: StridedRows, gk: StridedRows, gv: StridedRows) {
        let (dt, l, s, d) = (p.dtype, p.queries, p.keys, p.headDim)
        let e = p.heads * d, scale = 1 / Double(d).squareRoot()
        let (qe, ke, ve, pe, go) = (Elements(q.buffer, dt), Elements(k.buffer, dt), Elements(v.buffer, dt), Elements(probabilities, dt), Elements(gradOut, dt))
        let (gqe, gke, gve) = (Elements(gq.buffer, dt), Elements(gk.buffer, dt), Elements(gv.buffer, dt))
        for n in 0..<p.batch {
            for h in 0..<p.heads {
                let b = n * p.heads + h
                func qv(_ i: Int, _ t: Int) -> Double { qe[n * q.batchStride + i * q.rowStride + h * d + t] }
                func kv(_ j: Int, _ t: Int) -> Double { ke[n * k.batchStride + j * k.rowStride + h * d + t] }
                func vv(_ j: Int, _ t: Int) -> Double { ve[n * v.batchStride + j * v.rowStride + h * d + t] }
                func pv(_ i: Int, _ j: Int) -> Double { pe[(b * l + i) * s + j] }
                let de = dropout.map { Elements($0, dt) }
                func mv(_ i: Int, _ j: Int) -> Double { de.map { $0[(b * l + i) * s + j] } ?? 1 }
                func gov(_ i: Int, _ t: Int) -> Double { go[(n * l + i) * e + h * d + t] }
                var ds = [Double](repeating: 0, count: l * s)
                for i in 0..<l {
                    var dp = [Double](repeating: 0, count: s)
                    for j in 0..<s { for t in 0..<d { dp[j] += gov(i, t) * vv(j, t) }; dp[j] *= mv(i, j) }
                    var rowDot = 0.0
                    for j in 0..<s { rowDot += pv(i, j) * dp[j] }
                    for j in 0..<s { ds[i * s + j] = pv(i, j) * (dp[j] - rowDot) }
                }
                for i in 0..<l {
                    for t in 0..<d {
                        var acc = 0.0
                        for j in 0..<s { acc += ds[i * s + j] * kv(j, t) }
                        gqe[n * gq.batchStride + i * gq.rowStride + h * d + t] = acc * scale
                    }
                }
                for j in 0..<s {
                    for t in 0..<d {
                        var dk = 0.0, dv = 0.0
                        for i in 0..<l { dk += ds[i * s + j] * qv(i, t); dv += pv(i, j) * mv(i, j) * gov(i, t) }
                        gke[n * gk.batchStride + j * gk.rowStride + h * d + t] = dk * scale
                        gve[n * gv.batchStride + j * gv.rowStride + h * d + t] = dv
                    }
                }
            }
        }
    }

    /// The projections by `linear`, the attention by `attention`, through host buffers of the
    /// tensor's dtype.
    package func selfAttention(_ p: AttentionProblem, x: DeviceBuffer, inWeight: DeviceBuffer, inBias: DeviceBuffer?, outWeight: DeviceBuffer,
                               outBias: DeviceBuffer?, mask: DeviceBuffer?, out: DeviceBuffer) {
        let (dt, n, l) = (p.dtype, p.batch, p.queries)
        let e = p.heads * p.headDim, es = dt.byteSize
        let qkv = DeviceBuffer(storage: Storage(hostByteCount: n * l * 3 * e * es, device: .reference), byteOffset: 0)
        let ctx = DeviceBuffer(storage: Storage(hostByteCount: n * l * e * es, device: .reference), byteOffset: 0)
        linear(dtype: dt, rows: n * l, inFeatures: e, outFeatures: 3 * e, x: x, weight: inWeight, bias: inBias, activation: nil, out: qkv)
        attention(p, q: StridedRows(buffer: qkv, batchStride: l * 3 * e, rowStride: 3 * e),
                  k: StridedRows(buffer: qkv + e * es, batchStride: l * 3 * e, rowStride: 3 * e),
                  v: StridedRows(buffer: qkv + 2 * e * es, batchStride: l * 3 * e, rowStride: 3 * e),
                  mask: mask, maskBlockStride: 0, dropout: nil, probabilities: nil, out: ctx)
        linear(dtype: dt, rows: n * l, inFeatures: e, outFeatures: e, x: ctx, weight: outWeight, bias: outBias, activation: nil, out: out)
    }

    // MARK: optimiser updates

    /// The update in the parameter's own dtype, operation by operation, as the tensor-op
    /// formulation in NeuroneOptim computes it.
    package func optimizerUpdate(_ rule: OptimizerUpdateRule, dtype: DType, count: Int, parameter: DeviceBuffer, gradient: DeviceBuffer,
                                 states: [DeviceBuffer]) {
        switch dtype {
        case .float32: update(rule, Float.self, count, parameter, gradient, states)
        case .float64: update(rule, Double.self, count, parameter, gradient, states)
        default: fail("optimizer update: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }

    private func update<T: BinaryFloatingPoint>(_ rule: OptimizerUpdateRule, _: T.Type, _ count: Int, _ parameter: DeviceBuffer,
                                                _ gradient: DeviceBuffer, _ states: [DeviceBuffer]) {
        func ptr(_ b: DeviceBuffer) -> UnsafeMutablePointer<T> { (b.storage.address + b.byteOffset).assumingMemoryBound(to: T.self) }
        let p = ptr(parameter), g = ptr(gradient), s = states.map(ptr)
        for i in 0..<count {
            switch rule {
            case let .sgd(lr, wd, maximize):
                var gi = maximize ? -g[i] : g[i]
                if wd != 0 { gi = gi + p[i] * T(wd) }
                p[i] = p[i] - gi * T(lr)
            case let .sgdMomentum(momentum, dampening, lr, wd, nesterov, maximize, first):
                var gi = maximize ? -g[i] : g[i]
                if wd != 0 { gi = gi + p[i] * T(wd) }
                let b = first ? gi : s[0][i] * T(momentum) + gi * (1 - T(dampening))
                s[0][i] = b
                p[i] = p[i] - (nesterov ? gi + b * T(momentum) : b) * T(lr)
            case let .adadelta(rho, eps, lr, wd):
                var gi = g[i]
                if wd != 0 { gi = gi + p[i] * T(wd) }
                s[0][i] = s[0][i] * T(rho) + gi * gi * (1 - T(rho))
                let delta = (s[1][i] + T(eps)).squareRoot() / (s[0][i] + T(eps)).squareRoot() * gi
                s[1][i] = s[1][i] * T(rho) + delta * delta * (1 - T(rho))
                p[i] = p[i] - delta * T(lr)
            }
        }
    }
}

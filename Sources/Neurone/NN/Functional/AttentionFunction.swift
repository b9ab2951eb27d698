import CNeuroneKernels

extension Tensor {
    /// Multi-head scaled dot-product attention as one fused operation: for each sample n and head
    /// h, P = softmax(Q·Kᵀ/√D + mask) and O = P·V, where Q, K, V are head h's D = E/heads columns
    /// of `q` [N, L, E], `k` and `v` [N, S, E]. The heads are read in place (any batch and row
    /// strides, contiguous last dim), so no permute or copy is made; the backward pass computes
    /// the gradients of q, k and v from the saved P in the same way.
    /// - Parameters:
    ///   - mask: additive, [L, S] (every sample and head) or [N·heads, L, S]; −∞ hides a key.
    ///   - needProbabilities: false when P is not wanted: unless autograd records (the backward
    ///     pass needs P), each block's P then stays in a scratch buffer and an empty [0] tensor is
    ///     returned in its place.
    /// - Returns: O [N, L, E] (heads side by side, as `MultiheadAttention` feeds its output
    ///   projection) and P [N, heads, L, S].
    public static func scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, heads: Int, mask: Tensor? = nil,
                                                 needProbabilities: Bool = true) -> (output: Tensor, probabilities: Tensor) {
        attention(q: q, k: k, v: v, packed: nil, heads: heads, mask: mask, needProbabilities: needProbabilities)
    }

    /// Self-attention on a packed projection `qkv` [N, L, 3E] (Q, K, V its column blocks, as
    /// `MultiheadAttention` computes them in one product): the same as
    /// `scaledDotProductAttention` on the three views, but autograd sees one input, and the
    /// backward pass writes dQ, dK, dV straight into one [N, L, 3E] gradient (no zero-filled
    /// gradients per view to copy and add).
    static func packedSelfAttention(qkv: Tensor, heads: Int, mask: Tensor?, needProbabilities: Bool) -> (output: Tensor, probabilities: Tensor) {
        check(qkv.rank == 3 && qkv.shape[2] % 3 == 0, "packedSelfAttention: qkv must be [N, L, 3E], got \(describeShape(qkv.shape))")
        let x = withNoGrad { qkv.contiguousCopyIfNeeded() }, e = qkv.shape[2] / 3
        let (q, k, v) = withNoGrad { (x.narrow(dim: 2, start: 0, length: e), x.narrow(dim: 2, start: e, length: e), x.narrow(dim: 2, start: 2 * e, length: e)) }
        return attention(q: q, k: k, v: v, packed: qkv, heads: heads, mask: mask, needProbabilities: needProbabilities)
    }

    /// The forward and backward passes of both: with `packed`, q, k, v are no-grad views of it and
    /// the gradient goes to `packed` as one tensor.
    private static func attention(q: Tensor, k: Tensor, v: Tensor, packed: Tensor?, heads: Int, mask: Tensor?,
                                  needProbabilities: Bool) -> (output: Tensor, probabilities: Tensor) {
        check(q.rank == 3 && k.rank == 3 && v.rank == 3,
              "scaledDotProductAttention: q, k, v must be [N, L, E], [N, S, E], [N, S, E], got \(describeShape(q.shape)), \(describeShape(k.shape)), \(describeShape(v.shape))")
        let (n, l, e, s) = (q.shape[0], q.shape[1], q.shape[2], k.shape[1])
        check(k.shape == [n, s, e] && v.shape == [n, s, e],
              "scaledDotProductAttention: k and v must be [\(n), S, \(e)] with the same S, got \(describeShape(k.shape)) and \(describeShape(v.shape))")
        check(heads > 0 && e % heads == 0, "scaledDotProductAttention: E = \(e) is not divisible by \(heads) heads")
        check(q.dtype == k.dtype && k.dtype == v.dtype && (q.dtype == .float32 || q.dtype == .float64),
              "scaledDotProductAttention: q, k, v must all be float32 or all float64, got \(q.dtype), \(k.dtype), \(v.dtype)")
        let dt = q.dtype, h = heads, d = e / heads
        var maskStride = 0
        var m: Tensor? = nil
        if let mk = mask {
            check(mk.shape == [l, s] || mk.shape == [n * h, l, s],
                  "scaledDotProductAttention: the mask must be [\(l), \(s)] or [\(n * h), \(l), \(s)], got \(describeShape(mk.shape))")
            m = mk.to(dt).contiguousCopyIfNeeded()
            maskStride = mk.rank == 3 ? l * s : 0
        }
        /// The tensor itself when its last dim is contiguous, else a contiguous copy.
        func rows(_ t: Tensor) -> Tensor { t.strides[2] == 1 || t.shape[2] == 1 ? t : t.contiguousCopy() }
        let (qr, kr, vr) = (rows(q), rows(k), rows(v))
        let recording = GradMode.enabled && (packed.map { $0._requiresGrad } ?? (q._requiresGrad || k._requiresGrad || v._requiresGrad))
        let keep = needProbabilities || recording
        let out = Tensor.empty([n, l, e], dtype: dt), probs = Tensor.empty(keep ? [n, h, l, s] : [0], dtype: dt)
        let es = dt.byteSize, scale = 1 / Double(d).squareRoot(), sp = (s + 7) / 8 * 8
        let blocks = n * h, tasks = Swift.max(1, Swift.min(Threading.threadCount, blocks))
        Threading.parallelFor(tasks, minChunk: 1) { t0, t1 in
            for t in t0..<t1 {
                let work = Tensor.empty([attentionWorkCount(l: l, s: s, d: d)], dtype: dt)
                for b in (blocks * t / tasks)..<(blocks * (t + 1) / tasks) {
                    let (ni, hi) = (b / h, b % h)
                    let qp = qr.data + (ni * qr.strides[0] + hi * d) * es, kp = kr.data + (ni * kr.strides[0] + hi * d) * es
                    let vp = vr.data + (ni * vr.strides[0] + hi * d) * es, op = out.data + (ni * l * e + hi * d) * es
                    let pp = keep ? probs.data + b * l * s * es : nil, mp = m.map { $0.data + b * maskStride * es }
                    attentionBlock(dt, l: l, s: s, d: d, scale: scale, q: qp, qs: qr.strides[1], k: kp, ks: kr.strides[1], v: vp, vs: vr.strides[1],
                                   mask: mp, p: pp, o: op, os: e, work: work.data)
                }
            }
        }
        guard recording else { return (out, probs) }
        let (qs, ks, vs, ps) = (qr.detach(), kr.detach(), vr.detach(), probs.detach())
        let output = out.recording("ScaledDotProductAttentionBackward", packed.map { [$0] } ?? [q, k, v]) { grad in
            let go = grad.contiguousCopyIfNeeded()
            // Gradients of q, k, v: three tensors, or the column blocks of one [N, L, 3E] tensor.
            let gPacked = packed != nil ? Tensor.empty([n, l, 3 * e], dtype: dt) : nil
            let gq = gPacked ?? Tensor.empty([n, l, e], dtype: dt), gk = gPacked ?? Tensor.empty([n, s, e], dtype: dt)
            let gv = gPacked ?? Tensor.empty([n, s, e], dtype: dt)
            let gRow = gPacked != nil ? 3 * e : e, (gkOff, gvOff) = gPacked != nil ? (e, 2 * e) : (0, 0)
            Threading.parallelFor(tasks, minChunk: 1) { t0, t1 in
                for t in t0..<t1 {
                    let work = Tensor.empty([(d + l + 1) * sp + 32], dtype: dt)
                    for b in (blocks * t / tasks)..<(blocks * (t + 1) / tasks) {
                        let (ni, hi) = (b / h, b % h)
                        let qp = qs.data + (ni * qs.strides[0] + hi * d) * es, kp = ks.data + (ni * ks.strides[0] + hi * d) * es
                        let vp = vs.data + (ni * vs.strides[0] + hi * d) * es, pp = ps.data + b * l * s * es
                        let gop = go.data + (ni * l * e + hi * d) * es, gqp = gq.data + (ni * l * gRow + hi * d) * es
                        let gkp = gk.data + (ni * s * gRow + gkOff + hi * d) * es, gvp = gv.data + (ni * s * gRow + gvOff + hi * d) * es
                        if dt == .float32 {
                            nk_attention_bwd_f32(Int64(l), Int64(s), Int64(d), Float(scale), qp.assumingMemoryBound(to: Float.self), Int64(qs.strides[1]),
                                                 kp.assumingMemoryBound(to: Float.self), Int64(ks.strides[1]), vp.assumingMemoryBound(to: Float.self), Int64(vs.strides[1]),
                                                 pp.assumingMemoryBound(to: Float.self), gop.assumingMemoryBound(to: Float.self), Int64(e),
                                                 gqp.assumingMemoryBound(to: Float.self), Int64(gRow), gkp.assumingMemoryBound(to: Float.self), Int64(gRow),
                                                 gvp.assumingMemoryBound(to: Float.self), Int64(gRow), work.data.assumingMemoryBound(to: Float.self))
                        } else {
                            nk_attention_bwd_f64(Int64(l), Int64(s), Int64(d), scale, qp.assumingMemoryBound(to: Double.self), Int64(qs.strides[1]),
                                                 kp.assumingMemoryBound(to: Double.self), Int64(ks.strides[1]), vp.assumingMemoryBound(to: Double.self), Int64(vs.strides[1]),
                                                 pp.assumingMemoryBound(to: Double.self), gop.assumingMemoryBound(to: Double.self), Int64(e),
                                                 gqp.assumingMemoryBound(to: Double.self), Int64(gRow), gkp.assumingMemoryBound(to: Double.self), Int64(gRow),
                                                 gvp.assumingMemoryBound(to: Double.self), Int64(gRow), work.data.assumingMemoryBound(to: Double.self))
                        }
                    }
                }
            }
            if let g = gPacked { return [g] }
            return [q._requiresGrad ? gq : nil, k._requiresGrad ? gk : nil, v._requiresGrad ? gv : nil]
        }
        return (output, probs)
    }

    /// Values of scratch one forward block needs (nk_attention_fwd_f32): (D + L)·roundUp(S, 8) + L·S + 192.
    static func attentionWorkCount(l: Int, s: Int, d: Int) -> Int { (d + l) * ((s + 7) / 8 * 8) + l * s + 192 }

    /// One (sample, head) block of the forward kernel (see nk_attention_fwd_f32): row strides in
    /// elements, `p` receives the probabilities [L, S] (nil: not wanted), `work` holds
    /// `attentionWorkCount` values.
    static func attentionBlock(_ dt: DType, l: Int, s: Int, d: Int, scale: Double, q: UnsafeRawPointer, qs: Int,
                               k: UnsafeRawPointer, ks: Int, v: UnsafeRawPointer, vs: Int, mask: UnsafeRawPointer?,
                               p: UnsafeMutableRawPointer?, o: UnsafeMutableRawPointer, os: Int, work: UnsafeMutableRawPointer) {
        if dt == .float32 {
            nk_attention_fwd_f32(Int64(l), Int64(s), Int64(d), Float(scale), q.assumingMemoryBound(to: Float.self), Int64(qs),
                                 k.assumingMemoryBound(to: Float.self), Int64(ks), v.assumingMemoryBound(to: Float.self), Int64(vs),
                                 mask?.assumingMemoryBound(to: Float.self), p?.assumingMemoryBound(to: Float.self),
                                 o.assumingMemoryBound(to: Float.self), Int64(os), work.assumingMemoryBound(to: Float.self))
        } else {
            nk_attention_fwd_f64(Int64(l), Int64(s), Int64(d), scale, q.assumingMemoryBound(to: Double.self), Int64(qs),
                                 k.assumingMemoryBound(to: Double.self), Int64(ks), v.assumingMemoryBound(to: Double.self), Int64(vs),
                                 mask?.assumingMemoryBound(to: Double.self), p?.assumingMemoryBound(to: Double.self),
                                 o.assumingMemoryBound(to: Double.self), Int64(os), work.assumingMemoryBound(to: Double.self))
        }
    }

    /// Multi-head self-attention without autograd, in chunks of samples: per chunk of about 256
    /// token rows, qkv = x·W_inᵀ + b_in, the attention blocks of its samples and heads, and
    /// out = ctx·W_outᵀ + b_out, all in per-thread buffers that stay in cache (the whole-batch
    /// path streams the [N, L, 3E] projection through memory three times). Chunks are spread over
    /// the threads, each GEMM single-threaded. `x` [N, L, E] contiguous; `mask` nil or [L, L].
    /// Used by `MultiheadAttention` in inference; the same arithmetic as the unchunked path.
    static func chunkedSelfAttention(x: Tensor, inWeight: Tensor, inBias: Tensor?, outWeight: Tensor, outBias: Tensor?,
                                     heads: Int, mask: Tensor?) -> Tensor {
        let (n, l, e) = (x.shape[0], x.shape[1], x.shape[2])
        let dt = x.dtype, es = dt.byteSize, d = e / heads, scale = 1 / Double(d).squareRoot()
        let (wi, wo) = (inWeight.contiguousCopyIfNeeded(), outWeight.contiguousCopyIfNeeded())
        let (bi, bo) = (inBias?.contiguousCopyIfNeeded(), outBias?.contiguousCopyIfNeeded())
        let m = mask?.to(dt).contiguousCopyIfNeeded()
        let out = Tensor.empty([n, l, e], dtype: dt)
        // At most about 256 rows per chunk; the number of chunks a multiple of the threads and
        // the samples spread evenly over them (64 samples of 28 tokens: 8 chunks of 8).
        let maxChunk = Swift.max(1, 256 / Swift.max(1, l)), tasks = Swift.max(1, Swift.min(Threading.threadCount, n))
        let chunks = ((n + maxChunk - 1) / maxChunk + tasks - 1) / tasks * tasks, chunk = (n + chunks - 1) / chunks
        let be = x.backend
        /// rows of `dst` [rows, cols] = src [rows, k] · wᵀ + b.
        // packed once for all chunks when the packed linear kernel takes these products
        let (pi, po) = usesPackedLinear(dt, inFeatures: e)
            ? (packLinearWeight(wi.data, outFeatures: 3 * e, inFeatures: e), packLinearWeight(wo.data, outFeatures: e, inFeatures: e)) : (nil, nil)
        func project(_ src: UnsafeRawPointer, rows: Int, k: Int, _ w: Tensor, _ packed: Tensor?, _ b: Tensor?, cols: Int, into dst: UnsafeMutableRawPointer) {
            linearRows(be, dt, src, rows: rows, inFeatures: k, weight: w.data, packed: packed, bias: b?.data, outFeatures: cols, into: dst)
        }
        Threading.parallelFor(tasks, minChunk: 1) { t0, t1 in
            for t in t0..<t1 {
                let qkv = Tensor.empty([chunk * l, 3 * e], dtype: dt), ctx = Tensor.empty([chunk * l, e], dtype: dt)
                let work = Tensor.empty([attentionWorkCount(l: l, s: l, d: d)], dtype: dt)
                for c in (chunks * t / tasks)..<(chunks * (t + 1) / tasks) {
                    let s0 = n * c / chunks, ms = n * (c + 1) / chunks - s0, rows = ms * l
                    project(x.data + s0 * l * e * es, rows: rows, k: e, wi, pi, bi, cols: 3 * e, into: qkv.data)
                    for si in 0..<ms {
                        for hi in 0..<heads {
                            let base = qkv.data + (si * l * 3 * e + hi * d) * es
                            attentionBlock(dt, l: l, s: l, d: d, scale: scale, q: base, qs: 3 * e, k: base + e * es, ks: 3 * e,
                                           v: base + 2 * e * es, vs: 3 * e, mask: m?.data, p: nil,
                                           o: ctx.data + (si * l * e + hi * d) * es, os: e, work: work.data)
                        }
                    }
                    project(ctx.data, rows: rows, k: e, wo, po, bo, cols: e, into: out.data + s0 * l * e * es)
                }
            }
        }
        return out
    }
}

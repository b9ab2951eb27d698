import NeuroneDevice
import NeuroneTensor

extension Tensor {
    /// Multi-head scaled dot-product attention as one fused operation: for each sample n and head
    /// h, P = softmax(Q·Kᵀ/√D + mask) and O = P·V, where Q, K, V are head h's D = E/heads columns
    /// of `q` [N, L, E], `k` and `v` [N, S, E]. The heads are read in place (any batch and row
    /// strides, contiguous last dim), so no permute or copy is made; the backward pass computes
    /// the gradients of q, k and v from the saved P in the same way.
    /// - Parameters:
    ///   - mask: additive, [L, S] (every sample and head) or [N·heads, L, S]; −∞ hides a key.
    ///   - dropoutMask: dropout on the probabilities (PyTorch's `dropout_p` with its mask drawn
    ///     by the caller): [N, heads, L, S] multipliers, 0 for a dropped probability and 1/(1 − p)
    ///     for a kept one (what `Tensor.dropout` multiplies by); then O = (P ⊙ dropoutMask)·V, and
    ///     the returned P is the undropped one. The mask is a constant: no gradient flows to it.
    ///   - needProbabilities: false when P is not wanted: unless autograd records (the backward
    ///     pass needs P), each block's P then stays in a scratch buffer and an empty [0] tensor is
    ///     returned in its place.
    /// - Returns: O [N, L, E] (heads side by side, as `MultiheadAttention` feeds its output
    ///   projection) and P [N, heads, L, S].
    public static func scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, heads: Int, mask: Tensor? = nil, dropoutMask: Tensor? = nil,
                                                 needProbabilities: Bool = true) -> (output: Tensor, probabilities: Tensor) {
        attention(q: q, k: k, v: v, packed: nil, heads: heads, mask: mask, dropoutMask: dropoutMask, needProbabilities: needProbabilities)
    }

    /// Self-attention on a packed projection `qkv` [N, L, 3E] (Q, K, V its column blocks, as
    /// `MultiheadAttention` computes them in one product): the same as
    /// `scaledDotProductAttention` on the three views, but autograd sees one input, and the
    /// backward pass writes dQ, dK, dV straight into one [N, L, 3E] gradient (no zero-filled
    /// gradients per view to copy and add).
    static func packedSelfAttention(qkv: Tensor, heads: Int, mask: Tensor?, dropoutMask: Tensor? = nil,
                                    needProbabilities: Bool) -> (output: Tensor, probabilities: Tensor) {
        check(qkv.rank == 3 && qkv.shape[2] % 3 == 0, "packedSelfAttention: qkv must be [N, L, 3E], got \(describeShape(qkv.shape))")
        let x = withNoGrad { qkv.contiguousCopyIfNeeded() }, e = qkv.shape[2] / 3
        let (q, k, v) = withNoGrad { (x.narrow(dim: 2, start: 0, length: e), x.narrow(dim: 2, start: e, length: e), x.narrow(dim: 2, start: 2 * e, length: e)) }
        return attention(q: q, k: k, v: v, packed: qkv, heads: heads, mask: mask, dropoutMask: dropoutMask, needProbabilities: needProbabilities)
    }

    /// The forward and backward passes of both: with `packed`, q, k, v are no-grad views of it and
    /// the gradient goes to `packed` as one tensor.
    private static func attention(q: Tensor, k: Tensor, v: Tensor, packed: Tensor?, heads: Int, mask: Tensor?, dropoutMask: Tensor?,
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
        let drop = dropoutMask.map { dm in
            check(dm.shape == [n, h, l, s], "scaledDotProductAttention: the dropout mask must be [\(n), \(h), \(l), \(s)], got \(describeShape(dm.shape))")
            return withNoGrad { dm.to(dt).contiguousCopyIfNeeded() }
        }
        /// The tensor itself when its last dim is contiguous, else a contiguous copy.
        func rows(_ t: Tensor) -> Tensor { t.strides[2] == 1 || t.shape[2] == 1 ? t : t.contiguousCopy() }
        let (qr, kr, vr) = (rows(q), rows(k), rows(v))
        let recording = GradMode.enabled && (packed.map { $0._requiresGrad } ?? (q._requiresGrad || k._requiresGrad || v._requiresGrad))
        let keep = needProbabilities || recording
        let device = Tensor.commonDevice("scaledDotProductAttention", q, k, v, m, drop)
        let out = Tensor.empty([n, l, e], dtype: dt, device: device), probs = Tensor.empty(keep ? [n, h, l, s] : [0], dtype: dt, device: device)
        let problem = AttentionProblem(dtype: dt, batch: n, queries: l, keys: s, heads: h, headDim: d)
        func operand(_ t: Tensor) -> StridedRows { StridedRows(buffer: t.buffer, batchStride: t.strides[0], rowStride: t.strides[1]) }
        q.backend.attention(problem, q: operand(qr), k: operand(kr), v: operand(vr), mask: m?.buffer, maskBlockStride: maskStride,
                            dropout: drop?.buffer, probabilities: keep ? probs.buffer : nil, out: out.buffer)
        guard recording else { return (out, probs) }
        let (qs, ks, vs, ps) = (qr.detach(), kr.detach(), vr.detach(), probs.detach())
        let output = out.recording("ScaledDotProductAttentionBackward", packed.map { [$0] } ?? [q, k, v]) { grad in
            let go = grad.contiguousCopyIfNeeded()
            // Gradients of q, k, v: three tensors, or the column blocks of one [N, L, 3E] tensor.
            let gPacked = packed != nil ? Tensor.empty([n, l, 3 * e], dtype: dt, device: device) : nil
            let gq = gPacked ?? Tensor.empty([n, l, e], dtype: dt, device: device), gk = gPacked ?? Tensor.empty([n, s, e], dtype: dt, device: device)
            let gv = gPacked ?? Tensor.empty([n, s, e], dtype: dt, device: device)
            let gRow = gPacked != nil ? 3 * e : e, (gkOff, gvOff) = gPacked != nil ? (e, 2 * e) : (0, 0)
            let es = dt.byteSize
            go.backend.attentionBackward(problem, q: operand(qs), k: operand(ks), v: operand(vs), probabilities: ps.buffer,
                                         dropout: drop?.buffer, gradOut: go.buffer,
                                         gq: StridedRows(buffer: gq.buffer, batchStride: l * gRow, rowStride: gRow),
                                         gk: StridedRows(buffer: gk.buffer + gkOff * es, batchStride: s * gRow, rowStride: gRow),
                                         gv: StridedRows(buffer: gv.buffer + gvOff * es, batchStride: s * gRow, rowStride: gRow))
            if let g = gPacked { return [g] }
            return [q._requiresGrad ? gq : nil, k._requiresGrad ? gk : nil, v._requiresGrad ? gv : nil]
        }
        return (output, probs)
    }

    /// Multi-head self-attention without autograd (`Backend.selfAttention`: on the CPU in
    /// cache-sized chunks of samples). `x` [N, L, E] contiguous; `mask` nil or [L, L]. Used by
    /// `MultiheadAttention` in inference; the same arithmetic as the unchunked path.
    static func chunkedSelfAttention(x: Tensor, inWeight: Tensor, inBias: Tensor?, outWeight: Tensor, outBias: Tensor?,
                                     heads: Int, mask: Tensor?) -> Tensor {
        let (n, l, e) = (x.shape[0], x.shape[1], x.shape[2])
        let (wi, wo) = (inWeight.contiguousCopyIfNeeded(), outWeight.contiguousCopyIfNeeded())
        let (bi, bo) = (inBias?.contiguousCopyIfNeeded(), outBias?.contiguousCopyIfNeeded())
        let m = mask?.to(x.dtype).contiguousCopyIfNeeded()
        let device = Tensor.commonDevice("multiheadAttention", x, wi, wo, bi, bo)
        _ = Tensor.commonDevice("multiheadAttention", x, m)
        let out = Tensor.empty([n, l, e], dtype: x.dtype, device: device)
        x.backend.selfAttention(AttentionProblem(dtype: x.dtype, batch: n, queries: l, keys: l, heads: heads, headDim: e / heads),
                                x: x.buffer, inWeight: wi.buffer, inBias: bi?.buffer, outWeight: wo.buffer, outBias: bo?.buffer,
                                mask: m?.buffer, out: out.buffer)
        return out
    }
}

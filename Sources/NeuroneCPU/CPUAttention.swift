import NeuroneDevice
import CNeuroneKernels

/// The CPU's multi-head attention: attention.c's fused kernels per (sample, head) block, blocks
/// spread over the threads, each thread with its own scratch.
extension CPUBackend {
    package func attention(_ p: AttentionProblem, q: StridedRows, k: StridedRows, v: StridedRows, mask: DeviceBuffer?, maskBlockStride: Int,
                   dropout: DeviceBuffer?, probabilities: DeviceBuffer?, out: DeviceBuffer) {
        let (dt, n, l, s, h, d) = (p.dtype, p.batch, p.queries, p.keys, p.heads, p.headDim)
        let e = h * d, es = dt.byteSize, scale = 1 / Double(d).squareRoot()
        let (qd, kd, vd, od) = (q.buffer.pointer, k.buffer.pointer, v.buffer.pointer, out.pointer)
        let probs = probabilities?.pointer, m = mask?.pointer, dr = dropout?.pointer
        let blocks = n * h, tasks = Swift.max(1, Swift.min(Threading.threadCount, blocks))
        Threading.parallelFor(tasks, minChunk: 1) { t0, t1 in
            for t in t0..<t1 {
                let work = self.scratch(Self.attentionWorkCount(l: l, s: s, d: d), dt)
                for b in (blocks * t / tasks)..<(blocks * (t + 1) / tasks) {
                    let (ni, hi) = (b / h, b % h)
                    let qp = qd + (ni * q.batchStride + hi * d) * es, kp = kd + (ni * k.batchStride + hi * d) * es
                    let vp = vd + (ni * v.batchStride + hi * d) * es, op = od + (ni * l * e + hi * d) * es
                    let pp = probs.map { $0 + b * l * s * es }, mp = m.map { $0 + b * maskBlockStride * es }
                    Self.attentionBlock(dt, l: l, s: s, d: d, scale: scale, q: qp, qs: q.rowStride, k: kp, ks: k.rowStride, v: vp, vs: v.rowStride,
                                        mask: mp, dropout: dr.map { $0 + b * l * s * es }, p: pp, o: op, os: e, work: work.address)
                }
                withExtendedLifetime(work) {}
            }
        }
    }

    package func attentionBackward(_ p: AttentionProblem, q: StridedRows, k: StridedRows, v: StridedRows, probabilities: DeviceBuffer,
                           dropout: DeviceBuffer?, gradOut: DeviceBuffer, gq: StridedRows, gk: StridedRows, gv: StridedRows) {
        let (dt, n, l, s, h, d) = (p.dtype, p.batch, p.queries, p.keys, p.heads, p.headDim)
        let e = h * d, es = dt.byteSize, scale = 1 / Double(d).squareRoot()
        let (qd, kd, vd, pd, god) = (q.buffer.pointer, k.buffer.pointer, v.buffer.pointer, probabilities.pointer, gradOut.pointer)
        let (gqd, gkd, gvd) = (gq.buffer.pointer, gk.buffer.pointer, gv.buffer.pointer)
        let dr = dropout?.pointer
        let blocks = n * h, tasks = Swift.max(1, Swift.min(Threading.threadCount, blocks))
        Threading.parallelFor(tasks, minChunk: 1) { t0, t1 in
            for t in t0..<t1 {
                let work = self.scratch(Self.attentionBackwardWorkCount(l: l, s: s, d: d), dt)
                for b in (blocks * t / tasks)..<(blocks * (t + 1) / tasks) {
                    let (ni, hi) = (b / h, b % h)
                    let qp = qd + (ni * q.batchStride + hi * d) * es, kp = kd + (ni * k.batchStride + hi * d) * es
                    let vp = vd + (ni * v.batchStride + hi * d) * es, pp = pd + b * l * s * es, dp = dr.map { $0 + b * l * s * es }
                    let gop = god + (ni * l * e + hi * d) * es, gqp = gqd + (ni * gq.batchStride + hi * d) * es
                    let gkp = gkd + (ni * gk.batchStride + hi * d) * es, gvp = gvd + (ni * gv.batchStride + hi * d) * es
                    if dt == .float32 {
                        nk_attention_bwd_f32(Int64(l), Int64(s), Int64(d), Float(scale), qp.assumingMemoryBound(to: Float.self), Int64(q.rowStride),
                                             kp.assumingMemoryBound(to: Float.self), Int64(k.rowStride), vp.assumingMemoryBound(to: Float.self), Int64(v.rowStride),
                                             pp.assumingMemoryBound(to: Float.self), dp?.assumingMemoryBound(to: Float.self),
                                             gop.assumingMemoryBound(to: Float.self), Int64(e),
                                             gqp.assumingMemoryBound(to: Float.self), Int64(gq.rowStride), gkp.assumingMemoryBound(to: Float.self), Int64(gk.rowStride),
                                             gvp.assumingMemoryBound(to: Float.self), Int64(gv.rowStride), work.address.assumingMemoryBound(to: Float.self))
                    } else {
                        nk_attention_bwd_f64(Int64(l), Int64(s), Int64(d), scale, qp.assumingMemoryBound(to: Double.self), Int64(q.rowStride),
                                             kp.assumingMemoryBound(to: Double.self), Int64(k.rowStride), vp.assumingMemoryBound(to: Double.self), Int64(v.rowStride),
                                             pp.assumingMemoryBound(to: Double.self), dp?.assumingMemoryBound(to: Double.self),
                                             gop.assumingMemoryBound(to: Double.self), Int64(e),
                                             gqp.assumingMemoryBound(to: Double.self), Int64(gq.rowStride), gkp.assumingMemoryBound(to: Double.self), Int64(gk.rowStride),
                                             gvp.assumingMemoryBound(to: Double.self), Int64(gv.rowStride), work.address.assumingMemoryBound(to: Double.self))
                    }
                }
                withExtendedLifetime(work) {}
            }
        }
    }

    /// Values of scratch one forward block needs (nk_attention_fwd_f32): (D + L + 4)·roundUp(S, 16) + L·S + 192.
    static func attentionWorkCount(l: Int, s: Int, d: Int) -> Int { (d + l + 4) * ((s + 15) / 16 * 16) + l * s + 192 }
    /// Values of scratch one backward block needs (nk_attention_bwd_f32): (D + 2·L + 8)·roundUp(S, 16) + 64.
    static func attentionBackwardWorkCount(l: Int, s: Int, d: Int) -> Int { (d + 2 * l + 8) * ((s + 15) / 16 * 16) + 64 }

    /// One (sample, head) block of the forward kernel (see nk_attention_fwd_f32): row strides in
    /// elements, `dropout` nil or the block's [L, S] multipliers, `p` receives the probabilities
    /// [L, S] (nil: not wanted), `work` holds `attentionWorkCount` values.
    static func attentionBlock(_ dt: DType, l: Int, s: Int, d: Int, scale: Double, q: UnsafeRawPointer, qs: Int,
                               k: UnsafeRawPointer, ks: Int, v: UnsafeRawPointer, vs: Int, mask: UnsafeRawPointer?, dropout: UnsafeRawPointer? = nil,
                               p: UnsafeMutableRawPointer?, o: UnsafeMutableRawPointer, os: Int, work: UnsafeMutableRawPointer) {
        if dt == .float32 {
            nk_attention_fwd_f32(Int64(l), Int64(s), Int64(d), Float(scale), q.assumingMemoryBound(to: Float.self), Int64(qs),
                                 k.assumingMemoryBound(to: Float.self), Int64(ks), v.assumingMemoryBound(to: Float.self), Int64(vs),
                                 mask?.assumingMemoryBound(to: Float.self), dropout?.assumingMemoryBound(to: Float.self), p?.assumingMemoryBound(to: Float.self),
                                 o.assumingMemoryBound(to: Float.self), Int64(os), work.assumingMemoryBound(to: Float.self))
        } else {
            nk_attention_fwd_f64(Int64(l), Int64(s), Int64(d), scale, q.assumingMemoryBound(to: Double.self), Int64(qs),
                                 k.assumingMemoryBound(to: Double.self), Int64(ks), v.assumingMemoryBound(to: Double.self), Int64(vs),
                                 mask?.assumingMemoryBound(to: Double.self), dropout?.assumingMemoryBound(to: Double.self), p?.assumingMemoryBound(to: Double.self),
                                 o.assumingMemoryBound(to: Double.self), Int64(os), work.assumingMemoryBound(to: Double.self))
        }
    }

    /// Multi-head self-attention without autograd, in chunks of samples: per chunk of about 256
    /// token rows, qkv = x·W_inᵀ + b_in, the attention blocks of its samples and heads, and
    /// out = ctx·W_outᵀ + b_out, all in per-thread buffers that stay in cache (the whole-batch
    /// path streams the [N, L, 3E] projection through memory three times). Chunks are spread over
    /// the threads, each GEMM single-threaded. The same arithmetic as the unchunked path.
    package func selfAttention(_ p: AttentionProblem, x: DeviceBuffer, inWeight: DeviceBuffer, inBias: DeviceBuffer?, outWeight: DeviceBuffer,
                       outBias: DeviceBuffer?, mask: DeviceBuffer?, out: DeviceBuffer) {
        let (dt, n, l, heads, d) = (p.dtype, p.batch, p.queries, p.heads, p.headDim)
        let e = heads * d, es = dt.byteSize, scale = 1 / Double(d).squareRoot()
        let (xd, wi, wo, od) = (UnsafeRawPointer(x.pointer), UnsafeRawPointer(inWeight.pointer), UnsafeRawPointer(outWeight.pointer), out.pointer)
        let bi = inBias.map { UnsafeRawPointer($0.pointer) }, bo = outBias.map { UnsafeRawPointer($0.pointer) }
        let m = mask.map { UnsafeRawPointer($0.pointer) }
        // At most about 256 rows per chunk; the number of chunks a multiple of the threads and
        // the samples spread evenly over them (64 samples of 28 tokens: 8 chunks of 8).
        let maxChunk = Swift.max(1, 256 / Swift.max(1, l)), tasks = Swift.max(1, Swift.min(Threading.threadCount, n))
        let chunks = ((n + maxChunk - 1) / maxChunk + tasks - 1) / tasks * tasks, chunk = (n + chunks - 1) / chunks
        // packed once for all chunks when the packed linear kernel takes these products
        let (pi, po) = Self.usesPackedLinear(dt, inFeatures: e)
            ? (Self.packLinearWeight(wi, outFeatures: 3 * e, inFeatures: e), Self.packLinearWeight(wo, outFeatures: e, inFeatures: e)) : (nil, nil)
        Threading.parallelFor(tasks, minChunk: 1) { t0, t1 in
            for t in t0..<t1 {
                let qkv = self.scratch(chunk * l * 3 * e, dt), ctx = self.scratch(chunk * l * e, dt)
                let work = self.scratch(Self.attentionWorkCount(l: l, s: l, d: d), dt)
                for c in (chunks * t / tasks)..<(chunks * (t + 1) / tasks) {
                    let s0 = n * c / chunks, ms = n * (c + 1) / chunks - s0, rows = ms * l
                    self.linearRows(dt, xd + s0 * l * e * es, rows: rows, inFeatures: e, weight: wi, packed: pi, bias: bi, outFeatures: 3 * e,
                                    into: qkv.address)
                    for si in 0..<ms {
                        for hi in 0..<heads {
                            let base = qkv.address + (si * l * 3 * e + hi * d) * es
                            Self.attentionBlock(dt, l: l, s: l, d: d, scale: scale, q: base, qs: 3 * e, k: base + e * es, ks: 3 * e,
                                                v: base + 2 * e * es, vs: 3 * e, mask: m, p: nil,
                                                o: ctx.address + (si * l * e + hi * d) * es, os: e, work: work.address)
                        }
                    }
                    self.linearRows(dt, UnsafeRawPointer(ctx.address), rows: rows, inFeatures: e, weight: wo, packed: po, bias: bo, outFeatures: e,
                                    into: od + s0 * l * e * es)
                }
                withExtendedLifetime((qkv, ctx, work)) {}
            }
        }
        withExtendedLifetime((pi, po)) {}
    }
}

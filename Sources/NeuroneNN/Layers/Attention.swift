import NeuroneDevice
import NeuroneTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Multi-head scaled dot-product attention like `torch.nn.MultiheadAttention` (query, key and
/// value of the same embedding size): softmax(Q·Kᵀ/√d + mask)·V per head, then an output
/// projection. State names match PyTorch: in_proj_weight [3E, E], in_proj_bias [3E],
/// out_proj.weight, out_proj.bias.
///
/// Inputs are [L, N, E] (or [N, L, E] with `batchFirst`, or unbatched [L, E]).
public final class MultiheadAttention: Module {
    @Parameter("in_proj_weight") public var inProjWeight: Tensor
    @OptionalParameter("in_proj_bias") public var inProjBias: Tensor?
    /// The output projection (state name `out_proj`).
    public let outProj: Linear
    /// The `embedDim`, `numHeads`, `dropout`, `batchFirst` given at creation.
    public let embedDim: Int, numHeads: Int, dropout: Double, batchFirst: Bool
    let generator: Generator?

    /// A `MultiheadAttention`; omitted arguments take `torch.nn.MultiheadAttention`'s defaults.
    public init(embedDim: Int, numHeads: Int, dropout: Double = 0, bias: Bool = true, batchFirst: Bool = false,
                dtype: DType = .float32, generator: Generator? = nil) {
        check(embedDim > 0 && numHeads > 0 && embedDim % numHeads == 0,
              "MultiheadAttention: embed_dim (\(embedDim)) must be divisible by num_heads (\(numHeads))")
        check(dropout >= 0 && dropout <= 1, "MultiheadAttention: dropout must be in [0, 1], got \(dropout)")
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.dropout = dropout
        self.batchFirst = batchFirst
        self.generator = generator
        self.outProj = Linear(embedDim, embedDim, bias: bias, dtype: dtype, generator: generator)
        super.init()
        // PyTorch: xavier_uniform_ on in_proj_weight, zero biases.
        let w = Tensor.zeros([3 * embedDim, embedDim], dtype: dtype)
        Init.xavierUniform(w, generator: generator)
        inProjWeight = w
        inProjBias = bias ? Tensor.zeros([3 * embedDim], dtype: dtype) : nil
        if let b = outProj.bias { Init.zeros(b) }
    }

    public override var namedChildren: [(String, Module)] { [("out_proj", outProj)] }

    /// One row in summaries, its output projection included.
    public override var summarizedAsOneLayer: Bool { true }

    /// Self-attention: query = key = value = x. Returns the attended output only (the fused
    /// path: no attention weights are kept).
    public override func forward(_ x: Tensor) -> Tensor { callAsFunction(query: x, key: x, value: x, needWeights: false).output }

    /// Attention of `query` over `key`/`value`.
    /// - Parameters:
    ///   - keyPaddingMask: [N, S] (or [S]) bool, true where a key is padding and must be ignored.
    ///   - attnMask: [L, S] or [N·heads, L, S]; bool (true = not allowed) or float (added to the scores).
    ///   - needWeights: whether the attention weights are wanted (PyTorch's `need_weights`); when
    ///     false `weights` is an empty tensor of shape [0].
    /// - Returns: the output, shaped like `query`, and the attention weights [N, L, S]
    ///   (averaged over heads, or [N, heads, L, S] when `averageAttnWeights` is false).
    ///
    /// Float32 and float64 run the fused kernel of `Tensor.scaledDotProductAttention` (heads read
    /// in place, one pass per sample and head; in training, dropout on the attention weights goes
    /// into it as a mask drawn as `Tensor.dropout` draws it) unless the weights must carry
    /// gradients (they are wanted while autograd records); then the composite ops below run.
    public func callAsFunction(query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor? = nil, attnMask: Tensor? = nil,
                               averageAttnWeights: Bool = true, needWeights: Bool = true) -> (output: Tensor, weights: Tensor) {
        let unbatched = query.rank == 2
        check(query.rank == key.rank && key.rank == value.rank && (query.rank == 2 || query.rank == 3),
              "MultiheadAttention: query, key and value must all be 2-D (unbatched) or 3-D, got \(describeShape(query.shape)), \(describeShape(key.shape)), \(describeShape(value.shape))")
        // Bring everything to [N, T, E].
        func batched(_ t: Tensor) -> Tensor { unbatched ? t.unsqueeze(0) : (batchFirst ? t : t.transpose(0, 1)) }
        let q = batched(query), k = batched(key), v = batched(value)
        let (n, l, e) = (q.shape[0], q.shape[1], q.shape[2])
        let s = k.shape[1]
        check(e == embedDim && k.shape[2] == embedDim && v.shape[2] == embedDim,
              "MultiheadAttention: embedding size must be \(embedDim), got query \(describeShape(query.shape)), key \(describeShape(key.shape)), value \(describeShape(value.shape))")
        check(k.shape[0] == n && v.shape[0] == n && v.shape[1] == s,
              "MultiheadAttention: key \(describeShape(key.shape)) and value \(describeShape(value.shape)) must share batch and length, and match the query's batch")
        let h = numHeads, d = embedDim / numHeads
        // the layer's own four tensors, named (parameters() reflects over the module: 3 % of a
        // training step of the attention model at batch 64)
        let own: [Tensor?] = [inProjWeight, inProjBias, outProj.weight, outProj.bias]
        let recording = GradMode.enabled && ([query, key, value] + own.compactMap { $0 }).contains { $0._requiresGrad }
        if !(needWeights && recording) && (query.dtype == .float32 || query.dtype == .float64) {
            return fusedAttention(q, k, v, query: query, key: key, value: value, keyPaddingMask: keyPaddingMask, attnMask: attnMask,
                                  averageAttnWeights: averageAttnWeights, needWeights: needWeights, unbatched: unbatched, recording: recording)
        }
        let ws = inProjWeight.chunk(3, dim: 0)
        let bs = inProjBias?.chunk(3, dim: 0)
        func heads(_ t: Tensor, _ i: Int, _ len: Int) -> Tensor {
            t.linear(weight: ws[i], bias: bs?[i]).reshape([n, len, h, d]).permute(0, 2, 1, 3)   // [N, H, T, D]
        }
        let qh = heads(q, 0, l), kh = heads(k, 1, s), vh = heads(v, 2, s)
        var scores = qh.matmul(kh.transpose(-2, -1)) * (1 / Double(d).squareRoot())              // [N, H, L, S]
        if let m = additiveMask(attnMask: attnMask, keyPaddingMask: keyPaddingMask, n: n, l: l, s: s, unbatched: unbatched, dtype: scores.dtype) {
            scores = scores + m.reshape(m.rank == 3 ? [n, h, l, s] : [1, 1, l, s])
        }
        var attn = scores.softmax(dim: -1)
        let weights = averageAttnWeights ? attn.mean(dim: 1) : attn
        if dropout > 0 && isTraining { attn = attn.dropout(p: dropout, generator: generator) }
        let ctx = attn.matmul(vh).permute(0, 2, 1, 3).reshape([n, l, e])                         // [N, L, E]
        var out = outProj(ctx)
        out = unbatched ? out.squeeze(0) : (batchFirst ? out : out.transpose(0, 1))
        return (out, unbatched ? weights.squeeze(0) : weights)
    }

    /// The fused path of `callAsFunction`: one input projection for self-attention (q, k, v read as
    /// column blocks of it), the masks folded into one additive mask, in training with dropout the
    /// dropout mask for the attention weights, the fused kernel, the output projection.
    private func fusedAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, query: Tensor, key: Tensor, value: Tensor,
                                keyPaddingMask: Tensor?, attnMask: Tensor?, averageAttnWeights: Bool, needWeights: Bool,
                                unbatched: Bool, recording: Bool) -> (output: Tensor, weights: Tensor) {
        let (n, l, s, h) = (q.shape[0], q.shape[1], k.shape[1], numHeads)
        let dropping = dropout > 0 && isTraining
        if query === key && key === value && !needWeights && !recording && !dropping && keyPaddingMask == nil && (attnMask == nil || attnMask!.rank == 2) {
            // Inference on self-attention: projections and attention in cache-sized chunks of samples.
            let mask = additiveMask(attnMask: attnMask, keyPaddingMask: nil, n: n, l: l, s: s, unbatched: unbatched, dtype: q.dtype)
            let x = withNoGrad { q.contiguousCopyIfNeeded() }
            var out = Tensor.chunkedSelfAttention(x: x, inWeight: inProjWeight, inBias: inProjBias, outWeight: outProj.weight,
                                                  outBias: outProj.bias, heads: h, mask: mask)
            out = unbatched ? out.squeeze(0) : (batchFirst ? out : out.transpose(0, 1))
            return (out, Tensor.empty([0], dtype: q.dtype, device: q.device))
        }
        let mask = additiveMask(attnMask: attnMask, keyPaddingMask: keyPaddingMask, n: n, l: l, s: s, unbatched: unbatched, dtype: q.dtype)
        // the multipliers `attn.dropout(p:generator:)` of the composite path would draw: the same
        // generator, shape and draw, so both paths drop the same weights
        let drop: Tensor? = !dropping ? nil : dropout >= 1
            ? Tensor.zeros([n, h, l, s], dtype: q.dtype, device: q.device)
            : Tensor.dropoutMask([n, h, l, s], keep: 1 - dropout, dtype: q.dtype, generator: generator, device: q.device)
        let ctx: Tensor, probs: Tensor
        if query === key && key === value {
            // One projection [N, L, 3E]; the kernel reads Q, K, V as its column blocks and its
            // backward pass returns one gradient for it.
            let qkv = q.linear(weight: inProjWeight, bias: inProjBias)
            (ctx, probs) = Tensor.packedSelfAttention(qkv: qkv, heads: h, mask: mask, dropoutMask: drop, needProbabilities: needWeights)
        } else {
            let ws = inProjWeight.chunk(3, dim: 0), bs = inProjBias?.chunk(3, dim: 0)
            let (qp, kp, vp) = (q.linear(weight: ws[0], bias: bs?[0]), k.linear(weight: ws[1], bias: bs?[1]), v.linear(weight: ws[2], bias: bs?[2]))
            (ctx, probs) = Tensor.scaledDotProductAttention(q: qp, k: kp, v: vp, heads: h, mask: mask, dropoutMask: drop, needProbabilities: needWeights)
        }
        var out = outProj(ctx)
        out = unbatched ? out.squeeze(0) : (batchFirst ? out : out.transpose(0, 1))
        guard needWeights else { return (out, Tensor.empty([0], dtype: q.dtype, device: q.device)) }
        let weights = averageAttnWeights ? probs.mean(dim: 1) : probs
        return (out, unbatched ? weights.squeeze(0) : weights)
    }

    /// The attention mask and the key-padding mask, checked and folded into one additive mask
    /// (−∞ where a key is hidden): [L, S] when only a 2-D attn_mask is given, else [N·H, L, S];
    /// nil when there is neither.
    private func additiveMask(attnMask: Tensor?, keyPaddingMask: Tensor?, n: Int, l: Int, s: Int, unbatched: Bool, dtype: DType) -> Tensor? {
        let h = numHeads
        var mask: Tensor? = nil
        if let m = attnMask {
            if m.rank == 2 {
                check(m.shape == [l, s], "MultiheadAttention: a 2-D attn_mask must be [\(l), \(s)], got \(describeShape(m.shape))")
            } else {
                check(m.shape == [n * h, l, s], "MultiheadAttention: a 3-D attn_mask must be [\(n * h), \(l), \(s)], got \(describeShape(m.shape))")
            }
            mask = m.dtype == .bool ? Tensor.zeros(m.shape, dtype: dtype, device: m.device).maskedFill(m, -.infinity) : m.to(dtype)
        }
        if let p = keyPaddingMask {
            let pm = unbatched ? p.reshape([1, s]) : p
            check(pm.shape == [n, s], "MultiheadAttention: key_padding_mask must be [\(n), \(s)], got \(describeShape(p.shape))")
            let hide = (pm.dtype == .bool ? pm : pm .!= 0.0).reshape([n, 1, 1, s]).expand([n, h, l, s])
            let base = (mask ?? Tensor.zeros([l, s], dtype: dtype, device: pm.device)).reshape(mask?.rank == 3 ? [n, h, l, s] : [1, 1, l, s]).expand([n, h, l, s])
            mask = base.maskedFill(hide, -.infinity).reshape([n * h, l, s])
        }
        return mask
    }

    public override var extraDescription: String { "embed_dim=\(embedDim), num_heads=\(numHeads), batch_first=\(batchFirst)" }
}

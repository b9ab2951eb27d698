import NeuroneDevice
import NeuroneTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The feed-forward activation of a Transformer layer.
public enum TransformerActivation: String, Sendable {
    /// max(x, 0), and the exact (erf) GELU, as PyTorch's "relu" and "gelu".
    case relu, gelu
    func apply(_ x: Tensor) -> Tensor { self == .relu ? x.relu() : x.gelu() }
}

/// One encoder layer of the Transformer, like `torch.nn.TransformerEncoderLayer`: self-attention
/// and a feed-forward block, each with dropout, a residual connection and LayerNorm — after the
/// residual (post-norm, the default and the original paper's) or before the block (`normFirst`).
/// Submodule names as PyTorch's: `self_attn`, `linear1`, `linear2`, `norm1`, `norm2` (and the
/// dropouts), so state dicts interchange.
public final class TransformerEncoderLayer: Module {
    /// The self-attention (`self_attn`).
    public let selfAttn: MultiheadAttention
    /// The feed-forward block: dModel → dimFeedforward → dModel.
    public let linear1: Linear, linear2: Linear
    /// LayerNorm of the attention block (`norm1`) and of the feed-forward block (`norm2`).
    public let norm1: LayerNorm, norm2: LayerNorm
    let dropout: Dropout, dropout1: Dropout, dropout2: Dropout
    /// The options given at creation.
    public let normFirst: Bool, activation: TransformerActivation, batchFirst: Bool

    /// A layer of `dModel` features and `nhead` heads; omitted arguments take PyTorch's defaults
    /// (feed-forward 2048, dropout 0.1, relu, post-norm, sequence first).
    public init(dModel: Int, nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1, activation: TransformerActivation = .relu,
                layerNormEps: Double = 1e-5, batchFirst: Bool = false, normFirst: Bool = false, bias: Bool = true,
                dtype: DType = .float32, generator: Generator? = nil) {
        check(dimFeedforward > 0, "TransformerEncoderLayer: dim_feedforward must be positive, got \(dimFeedforward)")
        selfAttn = MultiheadAttention(embedDim: dModel, numHeads: nhead, dropout: dropout, bias: bias, batchFirst: batchFirst, dtype: dtype, generator: generator)
        linear1 = Linear(dModel, dimFeedforward, bias: bias, dtype: dtype, generator: generator)
        linear2 = Linear(dimFeedforward, dModel, bias: bias, dtype: dtype, generator: generator)
        norm1 = LayerNorm([dModel], eps: layerNormEps, bias: bias, dtype: dtype)
        norm2 = LayerNorm([dModel], eps: layerNormEps, bias: bias, dtype: dtype)
        self.dropout = Dropout(dropout, generator: generator)
        dropout1 = Dropout(dropout, generator: generator)
        dropout2 = Dropout(dropout, generator: generator)
        (self.normFirst, self.activation, self.batchFirst) = (normFirst, activation, batchFirst)
        super.init()
    }

    public override var namedChildren: [(String, Module)] {
        [("self_attn", selfAttn), ("linear1", linear1), ("dropout", dropout), ("linear2", linear2),
         ("norm1", norm1), ("norm2", norm2), ("dropout1", dropout1), ("dropout2", dropout2)]
    }

    public override func forward(_ src: Tensor) -> Tensor { callAsFunction(src, mask: nil, keyPaddingMask: nil) }

    /// - Parameters:
    ///   - src: [T, N, E] ([N, T, E] batch first, or unbatched [T, E]).
    ///   - mask: [T, T] (or [N·heads, T, T]); bool (true = not allowed) or float (added to the
    ///     scores) — `Tensor.causalMask(T)` for a causal layer.
    ///   - keyPaddingMask: [N, T] bool, true where a position is padding.
    public func callAsFunction(_ src: Tensor, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil) -> Tensor {
        func sa(_ x: Tensor) -> Tensor {
            dropout1(selfAttn.traced(x) { selfAttn(query: x, key: x, value: x, keyPaddingMask: keyPaddingMask, attnMask: mask, needWeights: false).output })
        }
        func ff(_ x: Tensor) -> Tensor { dropout2(linear2(dropout(activation.apply(linear1(x))))) }
        if normFirst {
            let x = src + sa(norm1(src))
            return x + ff(norm2(x))
        }
        let x = norm1(src + sa(src))
        return norm2(x + ff(x))
    }
}

/// A stack of encoder layers, like `torch.nn.TransformerEncoder`: `layers.0`…`layers.(N−1)`, then
/// the optional final `norm` (as pre-norm stacks use).
public final class TransformerEncoder: Module {
    /// The layers, applied in order (`layers.0`, `layers.1`…).
    public let layers: [TransformerEncoderLayer]
    /// The LayerNorm after the last layer, if any (`norm`).
    public let norm: LayerNorm?

    /// Whether `forward(_:)` masks each position's attention to itself and the positions before it
    /// (`Tensor.causalMask`), as PyTorch's `is_causal=True` with that mask: a language model's
    /// encoder, whose output at position t may not see the characters after t.
    public let isCausal: Bool

    /// `numLayers` layers made by `makeLayer` (PyTorch deep-copies one layer; here each is made
    /// afresh, so each draws its own initial weights); `isCausal`: `forward` applies the causal mask.
    public init(numLayers: Int, norm: LayerNorm? = nil, isCausal: Bool = false, makeLayer: () -> TransformerEncoderLayer) {
        check(numLayers > 0, "TransformerEncoder: num_layers must be positive, got \(numLayers)")
        layers = (0..<numLayers).map { _ in makeLayer() }
        self.norm = norm
        self.isCausal = isCausal
        super.init()
    }

    public override var namedChildren: [(String, Module)] {
        layers.enumerated().map { ("layers.\($0.offset)", $0.element as Module) } + (norm.map { [("norm", $0 as Module)] } ?? [])
    }

    /// The layers in turn, with the causal mask when `isCausal`.
    public override func forward(_ src: Tensor) -> Tensor {
        guard isCausal else { return callAsFunction(src, mask: nil, keyPaddingMask: nil) }
        let steps = src.rank == 3 && layers[0].batchFirst ? src.shape[1] : src.shape[0]
        return callAsFunction(src, mask: Tensor.causalMask(steps, dtype: src.dtype, device: src.device), keyPaddingMask: nil)
    }

    /// The layers in turn, each with the same masks, then `norm`.
    public func callAsFunction(_ src: Tensor, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil) -> Tensor {
        var x = src
        for layer in layers { x = layer(x, mask: mask, keyPaddingMask: keyPaddingMask) }
        return norm.map { $0(x) } ?? x
    }
}

/// One decoder layer, like `torch.nn.TransformerDecoderLayer`: self-attention on the target,
/// attention over the encoder's output (`memory`), a feed-forward block; post- or pre-norm. Names:
/// `self_attn`, `multihead_attn`, `linear1`, `linear2`, `norm1`…`norm3`.
public final class TransformerDecoderLayer: Module {
    /// The self-attention on the target (`self_attn`) and the attention over the memory (`multihead_attn`).
    public let selfAttn: MultiheadAttention, multiheadAttn: MultiheadAttention
    /// The feed-forward block: dModel → dimFeedforward → dModel.
    public let linear1: Linear, linear2: Linear
    /// LayerNorm of the self-attention, cross-attention and feed-forward blocks.
    public let norm1: LayerNorm, norm2: LayerNorm, norm3: LayerNorm
    let dropout: Dropout, dropout1: Dropout, dropout2: Dropout, dropout3: Dropout
    /// The options given at creation.
    public let normFirst: Bool, activation: TransformerActivation, batchFirst: Bool

    /// A decoder layer; omitted arguments take PyTorch's defaults.
    public init(dModel: Int, nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1, activation: TransformerActivation = .relu,
                layerNormEps: Double = 1e-5, batchFirst: Bool = false, normFirst: Bool = false, bias: Bool = true,
                dtype: DType = .float32, generator: Generator? = nil) {
        check(dimFeedforward > 0, "TransformerDecoderLayer: dim_feedforward must be positive, got \(dimFeedforward)")
        selfAttn = MultiheadAttention(embedDim: dModel, numHeads: nhead, dropout: dropout, bias: bias, batchFirst: batchFirst, dtype: dtype, generator: generator)
        multiheadAttn = MultiheadAttention(embedDim: dModel, numHeads: nhead, dropout: dropout, bias: bias, batchFirst: batchFirst, dtype: dtype, generator: generator)
        linear1 = Linear(dModel, dimFeedforward, bias: bias, dtype: dtype, generator: generator)
        linear2 = Linear(dimFeedforward, dModel, bias: bias, dtype: dtype, generator: generator)
        norm1 = LayerNorm([dModel], eps: layerNormEps, bias: bias, dtype: dtype)
        norm2 = LayerNorm([dModel], eps: layerNormEps, bias: bias, dtype: dtype)
        norm3 = LayerNorm([dModel], eps: layerNormEps, bias: bias, dtype: dtype)
        self.dropout = Dropout(dropout, generator: generator)
        (dropout1, dropout2, dropout3) = (Dropout(dropout, generator: generator), Dropout(dropout, generator: generator), Dropout(dropout, generator: generator))
        (self.normFirst, self.activation, self.batchFirst) = (normFirst, activation, batchFirst)
        super.init()
    }

    public override var namedChildren: [(String, Module)] {
        [("self_attn", selfAttn), ("multihead_attn", multiheadAttn), ("linear1", linear1), ("dropout", dropout), ("linear2", linear2),
         ("norm1", norm1), ("norm2", norm2), ("norm3", norm3), ("dropout1", dropout1), ("dropout2", dropout2), ("dropout3", dropout3)]
    }

    /// Without a memory a decoder layer cannot run: use `callAsFunction(_:memory:…)`.
    public override func forward(_ tgt: Tensor) -> Tensor {
        fail("TransformerDecoderLayer needs the encoder's output: call it as layer(tgt, memory: memory)")
    }

    /// - Parameters:
    ///   - tgt: [T, N, E] (batch first [N, T, E]); memory: [S, N, E] ([N, S, E]).
    ///   - tgtMask: [T, T], e.g. `Tensor.causalMask(T)`; memoryMask: [T, S]; the key-padding masks
    ///     [N, T] and [N, S].
    public func callAsFunction(_ tgt: Tensor, memory: Tensor, tgtMask: Tensor? = nil, memoryMask: Tensor? = nil,
                               tgtKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil) -> Tensor {
        func sa(_ x: Tensor) -> Tensor {
            dropout1(selfAttn.traced(x) { selfAttn(query: x, key: x, value: x, keyPaddingMask: tgtKeyPaddingMask, attnMask: tgtMask, needWeights: false).output })
        }
        func mha(_ x: Tensor) -> Tensor {
            dropout2(multiheadAttn.traced(x) {
                multiheadAttn(query: x, key: memory, value: memory, keyPaddingMask: memoryKeyPaddingMask, attnMask: memoryMask, needWeights: false).output
            })
        }
        func ff(_ x: Tensor) -> Tensor { dropout3(linear2(dropout(activation.apply(linear1(x))))) }
        if normFirst {
            var x = tgt + sa(norm1(tgt))
            x = x + mha(norm2(x))
            return x + ff(norm3(x))
        }
        var x = norm1(tgt + sa(tgt))
        x = norm2(x + mha(x))
        return norm3(x + ff(x))
    }
}

extension Tensor {
    /// PyTorch's `nn.Transformer.generate_square_subsequent_mask(size)`: [size, size] float, 0 on
    /// and below the diagonal and −∞ above it, so that position i attends to positions ≤ i.
    public static func causalMask(_ size: Int, dtype: DType = .float32, device: Device = .default) -> Tensor {
        check(size > 0, "causalMask: size must be positive, got \(size)")
        var values = [Double](repeating: 0, count: size * size)
        for i in 0..<size { for j in (i + 1)..<Swift.max(i + 1, size) { values[i * size + j] = -.infinity } }
        return Tensor(values, shape: [size, size], dtype: dtype, device: device)
    }
}

/// Adds the sinusoidal position encoding of "Attention Is All You Need" to a batch-first
/// sequence [N, T, E] (or [T, E]): PE[t, 2i] = sin(t / 10000^(2i/E)), PE[t, 2i+1] = cos(…), for t
/// < `maxLength`; a buffer `pe` [maxLength, E], not trained. Then dropout, as the PyTorch
/// tutorial's `PositionalEncoding`.
public final class SinusoidalPositionalEncoding: Module {
    /// The table [maxLength, dModel] (a buffer: saved, not trained).
    @Buffer("pe") public var pe: Tensor
    let dropout: Dropout
    /// The sizes given at creation.
    public let dModel: Int, maxLength: Int

    /// The table for `maxLength` positions of `dModel` features, and dropout `dropout` after the sum.
    public init(dModel: Int, maxLength: Int = 5000, dropout: Double = 0, dtype: DType = .float32, generator: Generator? = nil) {
        check(dModel > 0 && maxLength > 0, "SinusoidalPositionalEncoding: d_model and max_len must be positive, got \(dModel), \(maxLength)")
        (self.dModel, self.maxLength) = (dModel, maxLength)
        self.dropout = Dropout(dropout, generator: generator)
        var values = [Double](repeating: 0, count: maxLength * dModel)
        for t in 0..<maxLength {
            for i in stride(from: 0, to: dModel, by: 2) {
                let angle = Double(t) * exp(-log(10000.0) * Double(i) / Double(dModel))
                values[t * dModel + i] = sin(angle)
                if i + 1 < dModel { values[t * dModel + i + 1] = cos(angle) }
            }
        }
        super.init()
        pe = Tensor(values, shape: [maxLength, dModel], dtype: dtype)
    }

    public override var namedChildren: [(String, Module)] { [("dropout", dropout)] }

    /// One row in summaries.
    public override var summarizedAsOneLayer: Bool { true }

    public override func forward(_ x: Tensor) -> Tensor {
        let t = x.shape[x.rank - 2]
        check(x.rank >= 2 && x.shape[x.rank - 1] == dModel && t <= maxLength,
              "SinusoidalPositionalEncoding: expected [N, T, \(dModel)] or [T, \(dModel)] with T ≤ \(maxLength), got \(describeShape(x.shape))")
        return dropout(x + pe.narrow(dim: 0, start: 0, length: t))
    }
}

/// A learned position encoding added to a batch-first sequence [N, T, E] (or [T, E]): an
/// `Embedding` of `maxLength` positions (state name `embedding.weight`), as BERT and GPT-2 use.
public final class LearnedPositionalEncoding: Module {
    /// One row per position, drawn N(0, 1) as `Embedding`'s.
    public let embedding: Embedding
    /// `maxLength` positions of `dModel` features.
    public init(dModel: Int, maxLength: Int, dtype: DType = .float32, generator: Generator? = nil) {
        embedding = Embedding(maxLength, dModel, dtype: dtype, generator: generator)
        super.init()
    }
    public override func forward(_ x: Tensor) -> Tensor {
        let t = x.shape[x.rank - 2], w = embedding.weight
        check(x.rank >= 2 && x.shape[x.rank - 1] == w.shape[1] && t <= w.shape[0],
              "LearnedPositionalEncoding: expected [N, T, \(w.shape[1])] or [T, \(w.shape[1])] with T ≤ \(w.shape[0]), got \(describeShape(x.shape))")
        return x + w.narrow(dim: 0, start: 0, length: t)
    }
}

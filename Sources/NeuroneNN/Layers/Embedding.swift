import NeuroneDevice
import NeuroneTensor

/// A lookup table of `numEmbeddings` vectors of size `embeddingDim`, initialised N(0, 1);
/// the `paddingIdx` row starts at zero and receives no gradient.
public final class Embedding: Module {
    @Parameter public var weight: Tensor
    /// The `numEmbeddings`, `embeddingDim`, `paddingIdx` given at creation.
    public let numEmbeddings: Int, embeddingDim: Int, paddingIdx: Int?

    /// A `Embedding`; omitted arguments take `torch.nn.Embedding`'s defaults.
    public init(_ numEmbeddings: Int, _ embeddingDim: Int, paddingIdx: Int? = nil, dtype: DType = .float32, generator: Generator? = nil) {
        check(numEmbeddings > 0 && embeddingDim > 0, "Embedding: sizes must be positive, got \(numEmbeddings)×\(embeddingDim)")
        if let p = paddingIdx { check(p >= -numEmbeddings && p < numEmbeddings, "Embedding: padding_idx \(p) must be within num_embeddings (\(numEmbeddings))") }
        self.numEmbeddings = numEmbeddings
        self.embeddingDim = embeddingDim
        self.paddingIdx = paddingIdx.map { $0 < 0 ? $0 + numEmbeddings : $0 }
        let w = Tensor.randn([numEmbeddings, embeddingDim], dtype: dtype, generator: generator)
        if let p = self.paddingIdx { withNoGrad { w.select(dim: 0, index: p).zero() } }
        self.weight = w
        super.init()
    }

    public override func forward(_ indices: Tensor) -> Tensor {
        check(indices.dtype == .int64 || indices.dtype == .int32, "Embedding: indices must be int64 or int32, got \(indices.dtype)")
        let rows = weight.indexSelect(dim: 0, index: indices.reshape([-1])).reshape(indices.shape + [embeddingDim])
        guard let p = paddingIdx else { return rows }
        let keep = (indices .!= Tensor(p)).unsqueeze(-1).to(weight.dtype)
        return rows * keep + rows.detach() * (1.0 - keep)
    }

    public override var expectedInputDType: DType? { .int64 }

    public override var extraDescription: String { "\(numEmbeddings), \(embeddingDim)" + (paddingIdx.map { ", padding_idx=\($0)" } ?? "") }
}

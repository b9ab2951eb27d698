import NeuroneDevice
import NeuroneTensor

/// Batch normalisation over the channel dim (1): in training the batch mean and (biased)
/// variance normalise the input and update the running statistics with `momentum` (the
/// running variance uses the unbiased estimate); in evaluation the running statistics are used.
/// State names match PyTorch: weight, bias, running_mean, running_var, num_batches_tracked.
public class BatchNorm: Module {
    @OptionalParameter public var weight: Tensor?
    @OptionalParameter public var bias: Tensor?
    @Buffer("running_mean") public var runningMean: Tensor
    @Buffer("running_var") public var runningVar: Tensor
    @Buffer("num_batches_tracked") public var numBatchesTracked: Tensor
    /// The `numFeatures` given at creation.
    public let numFeatures: Int
    /// The `eps` given at creation.
    public let eps: Double
    /// Weight of the new batch statistics in the running ones; nil gives a cumulative average.
    public let momentum: Double?
    let expectedRanks: [Int]

    init(_ numFeatures: Int, eps: Double, momentum: Double?, affine: Bool, dtype: DType, expectedRanks: [Int]) {
        check(numFeatures > 0, "BatchNorm: numFeatures must be positive, got \(numFeatures)")
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.expectedRanks = expectedRanks
        self.weight = affine ? Tensor.ones([numFeatures], dtype: dtype) : nil
        self.bias = affine ? Tensor.zeros([numFeatures], dtype: dtype) : nil
        super.init()
        self.runningMean = Tensor.zeros([numFeatures], dtype: dtype)
        self.runningVar = Tensor.ones([numFeatures], dtype: dtype)
        self.numBatchesTracked = Tensor.zeros([], dtype: .int64)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        check(expectedRanks.contains(x.rank),
              "\(typeName): expected a \(expectedRanks.map { "\($0)-D" }.joined(separator: " or ")) input, got shape \(describeShape(x.shape))")
        check(x.shape[1] == numFeatures, "\(typeName)(\(numFeatures)): input of shape \(describeShape(x.shape)) has \(x.shape[1]) channels in dim 1")
        let dims = [0] + Array(2..<x.rank)
        let statShape = [1, numFeatures] + [Int](repeating: 1, count: x.rank - 2)
        let mean: Tensor, variance: Tensor
        if isTraining {
            let n = x.count / numFeatures
            check(n > 1, "\(typeName): expected more than 1 value per channel when training, got input of shape \(describeShape(x.shape))")
            mean = x.mean(dims: dims, keepDim: true)
            variance = x.variance(dims: dims, correction: 0, keepDim: true)
            withNoGrad {
                numBatchesTracked.copy(from: numBatchesTracked + 1)
                let m = momentum ?? 1 / Double(numBatchesTracked.item())
                let unbiased = variance.reshape([numFeatures]) * (Double(n) / Double(n - 1))
                runningMean.copy(from: runningMean * (1 - m) + mean.reshape([numFeatures]) * m)
                runningVar.copy(from: runningVar * (1 - m) + unbiased * m)
            }
        } else {
            mean = runningMean.reshape(statShape)
            variance = runningVar.reshape(statShape)
        }
        var y = (x - mean) / (variance + eps).sqrt()
        if let w = weight { y = y * w.reshape(statShape) }
        if let b = bias { y = y + b.reshape(statShape) }
        return y
    }

    public override var extraDescription: String { "\(numFeatures), eps=\(eps), momentum=\(momentum.map { "\($0)" } ?? "None"), affine=\(weight != nil ? "True" : "False")" }
}

/// Batch normalisation of [N, C] or [N, C, L] inputs.
public final class BatchNorm1d: BatchNorm {
    /// A `BatchNorm1d`; omitted arguments take `torch.nn.BatchNorm1d`'s defaults.
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true, dtype: DType = .float32) {
        super.init(numFeatures, eps: eps, momentum: momentum, affine: affine, dtype: dtype, expectedRanks: [2, 3])
    }
}

/// Batch normalisation of [N, C, H, W] inputs.
public final class BatchNorm2d: BatchNorm {
    /// A `BatchNorm2d`; omitted arguments take `torch.nn.BatchNorm2d`'s defaults.
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true, dtype: DType = .float32) {
        super.init(numFeatures, eps: eps, momentum: momentum, affine: affine, dtype: dtype, expectedRanks: [4])
    }
}

/// Layer normalisation over the trailing `normalizedShape` dims (biased variance), with an
/// elementwise affine transform, like `torch.nn.LayerNorm`.
public final class LayerNorm: Module {
    @OptionalParameter public var weight: Tensor?
    @OptionalParameter public var bias: Tensor?
    /// The `normalizedShape` given at creation.
    public let normalizedShape: [Int]
    /// The `eps` given at creation.
    public let eps: Double

    /// A `LayerNorm`; omitted arguments take `torch.nn.LayerNorm`'s defaults.
    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true, dtype: DType = .float32) {
        check(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 }, "LayerNorm: normalized shape must be non-empty and positive, got \(normalizedShape)")
        self.normalizedShape = normalizedShape
        self.eps = eps
        self.weight = elementwiseAffine ? Tensor.ones(normalizedShape, dtype: dtype) : nil
        self.bias = elementwiseAffine && bias ? Tensor.zeros(normalizedShape, dtype: dtype) : nil
        super.init()
    }

    /// A `LayerNorm`; omitted arguments take `torch.nn.LayerNorm`'s defaults.
    public convenience init(_ features: Int, eps: Double = 1e-5) { self.init([features], eps: eps) }

    public override func forward(_ x: Tensor) -> Tensor {
        let k = normalizedShape.count
        check(x.rank >= k && Array(x.shape.suffix(k)) == normalizedShape,
              "LayerNorm(\(normalizedShape)): input of shape \(describeShape(x.shape)) does not end with the normalized shape")
        let dims = Array((x.rank - k)..<x.rank)
        let mean = x.mean(dims: dims, keepDim: true)
        let variance = x.variance(dims: dims, correction: 0, keepDim: true)
        var y = (x - mean) / (variance + eps).sqrt()
        if let w = weight { y = y * w }
        if let b = bias { y = y + b }
        return y
    }

    public override var extraDescription: String { "\(normalizedShape), eps=\(eps), elementwise_affine=\(weight != nil ? "True" : "False")" }
}

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

    public override var extraDescription: String { "\(numEmbeddings), \(embeddingDim)" + (paddingIdx.map { ", padding_idx=\($0)" } ?? "") }
}

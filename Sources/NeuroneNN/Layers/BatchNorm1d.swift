import NeuroneDevice
import NeuroneTensor

/// Batch normalisation of [N, C] or [N, C, L] inputs.
public final class BatchNorm1d: BatchNorm {
    /// A `BatchNorm1d`; omitted arguments take `torch.nn.BatchNorm1d`'s defaults.
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true, dtype: DType = .float32) {
        super.init(numFeatures, eps: eps, momentum: momentum, affine: affine, dtype: dtype, expectedRanks: [2, 3])
    }
}

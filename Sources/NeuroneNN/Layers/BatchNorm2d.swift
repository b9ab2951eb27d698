import NeuroneDevice
import NeuroneTensor

/// Batch normalisation of [N, C, H, W] inputs.
public final class BatchNorm2d: BatchNorm {
    /// A `BatchNorm2d`; omitted arguments take `torch.nn.BatchNorm2d`'s defaults.
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true, dtype: DType = .float32) {
        super.init(numFeatures, eps: eps, momentum: momentum, affine: affine, dtype: dtype, expectedRanks: [4])
    }
}

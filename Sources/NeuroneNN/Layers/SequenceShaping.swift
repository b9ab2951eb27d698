import NeuroneDevice
import NeuroneTensor

/// Reads images as sequences, row by row: [N, C, H, W] → [N, H, C·W] (H steps of C·W features),
/// the way a recurrent or attention model reads an MNIST digit; PyTorch:
/// `x.permute(0, 2, 1, 3).reshape(N, H, C * W)`. Spec name `rows`.
public final class ImageRows: Module {
    /// The layer (no parameters).
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor {
        check(input.rank == 4, "ImageRows: expected images [N, C, H, W], got \(describeShape(input.shape))")
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        return (c == 1 ? input : input.permute(0, 2, 1, 3)).reshape([n, h, c * w])
    }
    public override var typeName: String { "Rows" }
}

/// The last time step of a batch-first sequence: [N, T, F] → [N, F], PyTorch's `out[:, -1, :]`
/// (Keras' `return_sequences=False`): what a classifier reads after a recurrent layer. Spec name
/// `last`.
public final class LastStep: Module {
    /// The layer (no parameters).
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor {
        check(input.rank == 3 && input.shape[1] > 0, "LastStep: expected a sequence [N, T, F] with T ≥ 1, got \(describeShape(input.shape))")
        return input.select(dim: 1, index: input.shape[1] - 1)
    }
    public override var typeName: String { "Last" }
}

/// The mean over the time steps of a batch-first sequence: [N, T, F] → [N, F], as a classifier
/// reads a Transformer encoder's output (`x.mean(dim=1)` in PyTorch). Spec name `mean`.
public final class SequenceMean: Module {
    /// The layer (no parameters).
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor {
        check(input.rank == 3, "SequenceMean: expected a sequence [N, T, F], got \(describeShape(input.shape))")
        return input.mean(dim: 1)
    }
    public override var typeName: String { "Mean" }
}

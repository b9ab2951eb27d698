import NeuroneDevice
import NeuroneTensor

/// A small self-attention classifier for 1×28×28 images (COURSE.md §12: self-attention followed by a
/// hidden layer), the transformer-style model of the speed comparisons: each image row is a token,
/// X = embed(rows) [N, 28, 64]; A = softmax(QKᵀ/√16)·V over 4 heads (`attn`, batch first);
/// the tokens' mean → dense 128, ReLU → dense 10 (logits). Attribute names as in the PyTorch
/// version of bench/torch_reference.py, so state dicts interchange.
public final class AttentionClassifier: Module {
    /// Token embedding, 28 → 64.
    public let embed: Linear
    /// Self-attention, 64 features, 4 heads.
    public let attn: MultiheadAttention
    /// Hidden layer, 64 → 128.
    public let fc1: Linear
    /// Output layer, 128 → 10.
    public let fc2: Linear

    /// The network with PyTorch's default initialisation, drawn from `generator`.
    public init(generator: Generator? = nil) {
        embed = Linear(28, 64, generator: generator)
        attn = MultiheadAttention(embedDim: 64, numHeads: 4, batchFirst: true, generator: generator)
        fc1 = Linear(64, 128, generator: generator)
        fc2 = Linear(128, 10, generator: generator)
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        check(x.rank == 4 && Array(x.shape.dropFirst()) == [1, 28, 28],
              "AttentionClassifier: expected input [N, 1, 28, 28], got \(describeShape(x.shape))")
        let tokens = embed(x.reshape([x.shape[0], 28, 28]))
        let attended = attn(tokens)
        return fc2(fc1(attended.mean(dim: 1), activation: .relu))
    }
}

import NeuroneDevice
import NeuroneTensor

/// The network of PyTorch's reference MNIST example (examples/mnist/main.py), with its attribute
/// names, so that its state dicts interchange with that example's checkpoints:
/// conv 3×3 → 32, ReLU, conv 3×3 → 64, ReLU, max-pool 2, dropout 0.25, flatten, dense 128, ReLU,
/// dropout 0.5, dense 10, log-softmax. Input 1×28×28.
public final class MnistCNN: Module {
    /// conv 1→32, 3×3.
    public let conv1: Conv2d
    /// conv 32→64, 3×3.
    public let conv2: Conv2d
    /// dropout 0.25 after pooling.
    public let dropout1: Dropout
    /// dropout 0.5 after fc1.
    public let dropout2: Dropout
    /// dense 9216→128.
    public let fc1: Linear
    /// dense 128→10.
    public let fc2: Linear

    /// The network with PyTorch's default initialisation, drawn from `generator`.
    public init(generator: Generator? = nil) {
        conv1 = Conv2d(1, 32, kernelSize: 3, generator: generator)
        conv2 = Conv2d(32, 64, kernelSize: 3, generator: generator)
        dropout1 = Dropout(0.25, generator: generator)
        dropout2 = Dropout(0.5, generator: generator)
        fc1 = Linear(9216, 128, generator: generator)
        fc2 = Linear(128, 10, generator: generator)
        super.init()
    }

    /// Its forward ends with log-softmax.
    public override var declaredOutputKind: OutputKind? { .logProbabilities }

    public override func forward(_ x: Tensor) -> Tensor {
        check(x.rank == 4 && Array(x.shape.dropFirst()) == [1, 28, 28],
              "MnistCNN: expected input [N, 1, 28, 28], got \(describeShape(x.shape))")
        var h = conv1(x, activation: .relu)
        h = conv2(h, activation: .relu).maxPool2d(kernel: [2])
        h = dropout1(h).flatten(startDim: 1)
        h = dropout2(fc1(h, activation: .relu))
        return fc2(h).logSoftmax(dim: 1)
    }
}

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

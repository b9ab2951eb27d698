import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Multiplies the learning rate by γ every `stepSize` epochs (the MNIST example uses StepLR(1, 0.7)).
public final class StepLR: EpochLRScheduler {
    /// Epochs between two multiplications by `gamma`.
    public let stepSize: Int
    /// The factor applied every `stepSize` epochs.
    public let gamma: Double

    /// A step schedule on `optimizer`'s current rates.
    public init(_ optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1) {
        check(stepSize > 0, "StepLR: step size must be positive, got \(stepSize)")
        self.stepSize = stepSize
        self.gamma = gamma
        super.init(optimizer)
    }

    override func rate(base: Double, epoch: Int) -> Double { base * pow(gamma, Double(epoch / stepSize)) }
}

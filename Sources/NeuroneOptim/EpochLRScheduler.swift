import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A schedule that sets every group's rate from its initial rate and the epoch count; subclasses
/// give the formula.
public class EpochLRScheduler: LRScheduler {
    let optimizer: Optimizer
    /// Each group's learning rate when the schedule was created.
    public let baseLearningRates: [Double]
    /// Epochs completed (calls to `step()`).
    public private(set) var epoch = 0

    init(_ optimizer: Optimizer) {
        self.optimizer = optimizer
        self.baseLearningRates = optimizer.learningRates
    }

    /// The rate for a group whose initial rate is `base`, after `epoch` epochs.
    func rate(base: Double, epoch: Int) -> Double { base }

    /// Advances one epoch and sets every group's rate.
    public func step() {
        epoch += 1
        optimizer.learningRates = baseLearningRates.map { rate(base: $0, epoch: epoch) }
    }

    /// The current learning rate of each group.
    public var learningRates: [Double] { optimizer.learningRates }
}

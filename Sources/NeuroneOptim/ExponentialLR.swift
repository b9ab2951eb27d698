import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Multiplies the learning rate by γ every epoch.
public final class ExponentialLR: EpochLRScheduler {
    /// The factor applied every epoch.
    public let gamma: Double

    /// An exponential schedule on `optimizer`'s current rates.
    public init(_ optimizer: Optimizer, gamma: Double) {
        self.gamma = gamma
        super.init(optimizer)
    }

    override func rate(base: Double, epoch: Int) -> Double { base * pow(gamma, Double(epoch)) }
}

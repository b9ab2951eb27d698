import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cosine annealing from the initial rate to `etaMin` over `tMax` epochs:
/// η = η_min + (η₀ − η_min)(1 + cos(π·t/T_max))/2 (continuing periodically past T_max, as PyTorch does).
public final class CosineAnnealingLR: EpochLRScheduler {
    /// The half-period of the cosine, in epochs.
    public let tMax: Int
    /// The lowest rate.
    public let etaMin: Double

    /// A cosine schedule on `optimizer`'s current rates.
    public init(_ optimizer: Optimizer, tMax: Int, etaMin: Double = 0) {
        check(tMax > 0, "CosineAnnealingLR: T_max must be positive, got \(tMax)")
        self.tMax = tMax
        self.etaMin = etaMin
        super.init(optimizer)
    }

    override func rate(base: Double, epoch: Int) -> Double {
        etaMin + (base - etaMin) * (1 + cos(Double.pi * Double(epoch) / Double(tMax))) / 2
    }
}

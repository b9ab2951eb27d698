import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Divides the learning rate by 1/factor when a monitored metric has stopped improving for
/// `patience` epochs, as `torch.optim.lr_scheduler.ReduceLROnPlateau` (relative threshold).
public final class ReduceLROnPlateau {
    /// Whether a lower (`.min`, a loss) or higher (`.max`, an accuracy) metric is better.
    public enum Mode: Sendable { case min, max }
    let optimizer: Optimizer
    /// The settings, as in PyTorch: direction, factor applied to the rate, epochs without
    /// improvement tolerated, relative improvement threshold, epochs of cooldown after a
    /// reduction, lowest rate, and the smallest change worth making.
    public let mode: Mode, factor: Double, patience: Int, threshold: Double, cooldown: Int, minLR: Double, eps: Double
    /// The best metric seen so far.
    public private(set) var best: Double
    /// Epochs since the metric last improved.
    public private(set) var badEpochs = 0
    private var cooldownCounter = 0

    /// A plateau schedule on `optimizer`'s rates.
    public init(_ optimizer: Optimizer, mode: Mode = .min, factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4,
                cooldown: Int = 0, minLR: Double = 0, eps: Double = 1e-8) {
        check(factor < 1 && factor >= 0, "ReduceLROnPlateau: factor should be < 1.0, got \(factor)")
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.cooldown = cooldown
        self.minLR = minLR
        self.eps = eps
        self.best = mode == .min ? .infinity : -.infinity
    }

    /// Records this epoch's metric (e.g. the validation loss) and lowers the rate if needed.
    public func step(_ metric: Double) {
        let better = mode == .min ? metric < best * (1 - threshold) : metric > best * (1 + threshold)
        if better { best = metric; badEpochs = 0 } else { badEpochs += 1 }
        if cooldownCounter > 0 { cooldownCounter -= 1; badEpochs = 0 }
        if badEpochs > patience {
            optimizer.learningRates = optimizer.learningRates.map { old in
                let new = Swift.max(old * factor, minLR)
                return old - new > eps ? new : old
            }
            cooldownCounter = cooldown
            badEpochs = 0
        }
    }

    /// The current learning rate of each group.
    public var learningRates: [Double] { optimizer.learningRates }
}

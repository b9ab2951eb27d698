import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Learning-rate schedules, as in `torch.optim.lr_scheduler`: call `step()` once per epoch after
/// the optimiser's steps; the schedule sets every group's learning rate from its initial one.
public protocol LRScheduler: AnyObject {
    /// Advances one epoch.
    func step()
    /// The current learning rate of each group.
    var learningRates: [Double] { get }
}

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

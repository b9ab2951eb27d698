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

/// Multiplies the learning rate by γ every `stepSize` epochs (the MNIST example uses StepLR(1, 0.7)).
public final class StepLR: LRScheduler {
    let optimizer: Optimizer
    let baseLRs: [Double]
    public let stepSize: Int, gamma: Double
    public private(set) var epoch = 0

    public init(_ optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1) {
        check(stepSize > 0, "StepLR: step size must be positive, got \(stepSize)")
        self.optimizer = optimizer
        self.baseLRs = optimizer.learningRates
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func step() {
        epoch += 1
        let factor = pow(gamma, Double(epoch / stepSize))
        optimizer.learningRates = baseLRs.map { $0 * factor }
    }

    public var learningRates: [Double] { optimizer.learningRates }
}

/// Multiplies the learning rate by γ every epoch.
public final class ExponentialLR: LRScheduler {
    let optimizer: Optimizer
    let baseLRs: [Double]
    public let gamma: Double
    public private(set) var epoch = 0

    public init(_ optimizer: Optimizer, gamma: Double) {
        self.optimizer = optimizer
        self.baseLRs = optimizer.learningRates
        self.gamma = gamma
    }

    public func step() {
        epoch += 1
        optimizer.learningRates = baseLRs.map { $0 * pow(gamma, Double(epoch)) }
    }

    public var learningRates: [Double] { optimizer.learningRates }
}

/// Cosine annealing from the initial rate to `etaMin` over `tMax` epochs:
/// η = η_min + (η₀ − η_min)(1 + cos(π·t/T_max))/2 (continuing periodically past T_max, as PyTorch does).
public final class CosineAnnealingLR: LRScheduler {
    let optimizer: Optimizer
    let baseLRs: [Double]
    public let tMax: Int, etaMin: Double
    public private(set) var epoch = 0

    public init(_ optimizer: Optimizer, tMax: Int, etaMin: Double = 0) {
        check(tMax > 0, "CosineAnnealingLR: T_max must be positive, got \(tMax)")
        self.optimizer = optimizer
        self.baseLRs = optimizer.learningRates
        self.tMax = tMax
        self.etaMin = etaMin
    }

    public func step() {
        epoch += 1
        optimizer.learningRates = baseLRs.map { etaMin + ($0 - etaMin) * (1 + cos(Double.pi * Double(epoch) / Double(tMax))) / 2 }
    }

    public var learningRates: [Double] { optimizer.learningRates }
}

/// Divides the learning rate by 1/factor when a monitored metric has stopped improving for
/// `patience` epochs, as `torch.optim.lr_scheduler.ReduceLROnPlateau` (relative threshold).
public final class ReduceLROnPlateau {
    public enum Mode: Sendable { case min, max }
    let optimizer: Optimizer
    public let mode: Mode, factor: Double, patience: Int, threshold: Double, cooldown: Int, minLR: Double, eps: Double
    public private(set) var best: Double
    public private(set) var badEpochs = 0
    private var cooldownCounter = 0

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

    public var learningRates: [Double] { optimizer.learningRates }
}

import NeuroneDevice
import NeuroneTensor

/// Penalties added to a loss to regularise a model.
public enum Regularizer {
    /// λ·Σ|w| over the given parameters.
    public static func l1(_ parameters: [Tensor], lambda: Double = 1) -> Tensor {
        check(!parameters.isEmpty, "Regularizer.l1: no parameters given")
        return parameters.map { $0.abs().sum() }.reduce { $0 + $1 }! * lambda
    }

    /// λ·Σw² over the given parameters.
    public static func l2(_ parameters: [Tensor], lambda: Double = 1) -> Tensor {
        check(!parameters.isEmpty, "Regularizer.l2: no parameters given")
        return parameters.map { $0.square().sum() }.reduce { $0 + $1 }! * lambda
    }

    /// The sparse-autoencoder penalty β·Σⱼ KL(ρ ‖ ρ̂ⱼ), where ρ̂ⱼ is unit j's mean activation over
    /// the batch (dim 0) and KL(ρ ‖ ρ̂) = ρ log(ρ/ρ̂) + (1 − ρ) log((1 − ρ)/(1 − ρ̂)).
    /// Activations must lie in (0, 1) (sigmoid units).
    public static func klSparsity(_ activations: Tensor, rho: Double = 0.05, beta: Double = 1) -> Tensor {
        check(rho > 0 && rho < 1, "Regularizer.klSparsity: rho must be in (0, 1), got \(rho)")
        let rhoHat = activations.mean(dim: 0).clamp(min: 1e-12, max: 1 - 1e-12)
        let kl = (rhoHat.reciprocal() * rho).log() * rho + ((1.0 - rhoHat).reciprocal() * (1 - rho)).log() * (1 - rho)
        return kl.sum() * beta
    }
}

extension Array where Element == Tensor {
    fileprivate func reduce(_ f: (Tensor, Tensor) -> Tensor) -> Tensor? {
        guard var acc = first else { return nil }
        for t in dropFirst() { acc = f(acc, t) }
        return acc
    }
}

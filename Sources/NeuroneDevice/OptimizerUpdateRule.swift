/// An optimiser's per-value update, as torch.optim computes it (the same arithmetic, in the same
/// order, as the tensor-op formulation in Optim/).
package enum OptimizerUpdateRule {
    /// p −= lr·(±g + wd·p).
    case sgd(lr: Double, weightDecay: Double, maximize: Bool)
    /// b = first ? g′ : momentum·b + (1 − dampening)·g′ with g′ = ±g + wd·p; p −= lr·(nesterov ? g′ + momentum·b : b). States: [b].
    case sgdMomentum(momentum: Double, dampening: Double, lr: Double, weightDecay: Double, nesterov: Bool, maximize: Bool, first: Bool)
    /// Adadelta (states: square average, accumulated delta).
    case adadelta(rho: Double, eps: Double, lr: Double, weightDecay: Double)
}

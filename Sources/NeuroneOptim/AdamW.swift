import NeuroneDevice
import NeuroneTensor
import NeuroneNN

/// Adam with decoupled weight decay (Loshchilov & Hutter), as `torch.optim.AdamW`:
/// w ← w·(1 − ε·λ) before the Adam step. Default weight decay 0.01.
public final class AdamW: Adam {
    /// An optimiser over one group of parameters.
    public convenience init(_ parameters: [Tensor], lr: Double = 0.001, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                            weightDecay: Double = 0.01, amsgrad: Bool = false, maximize: Bool = false) {
        self.init(groups: [(parameters, Options(lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad, maximize: maximize))],
                  decoupled: true)
    }

    /// An optimiser over several parameter groups with their own settings.
    public convenience init(adamWGroups groups: [(parameters: [Tensor], options: Options)]) { self.init(groups: groups, decoupled: true) }
}

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.
public enum GradientClipping {
    /// Scales all gradients together so that their joint p-norm is at most `maxNorm`; returns the
    /// norm before clipping.
    @discardableResult
    public static func clipNorm(_ parameters: [Tensor], maxNorm: Double, normType: Double = 2) -> Double {
        let grads = parameters.compactMap { $0.grad }
        if grads.isEmpty { return 0 }
        let total: Double = withNoGrad {
            if normType == .infinity { return grads.map { $0.abs().max().item() }.max() ?? 0 }
            let per = grads.map { $0.norm(p: normType).item() }
            return powDouble(per.map { powDouble($0, normType) }.reduce(0, +), 1 / normType)
        }
        let coef = maxNorm / (total + 1e-6)
        if coef < 1 {
            withNoGrad { for p in parameters { if let g = p.grad { p.grad = g * coef } } }
        }
        return total
    }

    /// Clamps every gradient element to [−clipValue, clipValue].
    public static func clipValue(_ parameters: [Tensor], _ clipValue: Double) {
        check(clipValue >= 0, "clipValue: the clip value must be non-negative, got \(clipValue)")
        withNoGrad { for p in parameters { if let g = p.grad { p.grad = g.clamp(min: -clipValue, max: clipValue) } } }
    }
}

import NeuroneDevice
import NeuroneTensor

extension Tensor {
    /// Layer normalisation over the last `normalizedCount` elements of each sample, as one
    /// operation (`Backend.layerNorm`: the row's mean and variance, then the output, in two passes
    /// over the row), PyTorch's `F.layer_norm`: y = (x − μ)/√(σ² + eps)·weight + bias with the
    /// biased variance; weight and bias hold `normalizedCount` values (any shape) or are nil. The
    /// backward pass reads μ and 1/√(σ² + eps) saved per row.
    public func layerNorm(normalizedCount k: Int, weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5) -> Tensor {
        check(dtype == .float32 || dtype == .float64, "layerNorm: float32 or float64 input expected, got \(dtype)")
        check(k > 0 && count % k == 0 && rank >= 1, "layerNorm: \(k) normalized elements do not divide an input of shape \(describeShape(shape))")
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t { check(t.count == k && t.dtype == dtype, "layerNorm: \(name) must hold \(k) values of \(dtype), got \(describeShape(t.shape)) \(t.dtype)") }
        }
        let device = Tensor.commonDevice("layerNorm", self, weight, bias)
        let rows = count / k
        let x = withNoGrad { contiguousCopyIfNeeded() }
        let (w, b) = withNoGrad { (weight?.contiguousCopyIfNeeded(), bias?.contiguousCopyIfNeeded()) }
        let recording = GradMode.enabled && (_requiresGrad || (weight?._requiresGrad ?? false) || (bias?._requiresGrad ?? false))
        let out = Tensor.empty(shape, dtype: dtype, device: device)
        let mean = recording ? Tensor.empty([rows], dtype: dtype, device: device) : nil
        let rstd = recording ? Tensor.empty([rows], dtype: dtype, device: device) : nil
        if rows > 0 {
            backend.layerNorm(dtype: dtype, rows: rows, cols: k, x: x.buffer, weight: w?.buffer, bias: b?.buffer, eps: eps,
                              out: out.buffer, mean: mean?.buffer, rstd: rstd?.buffer)
        }
        guard recording, let mean, let rstd else { return out }
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let (saved, dt, needX) = (x.detach(), dtype, _requiresGrad)
        let needW = weight?._requiresGrad ?? false, needB = bias?._requiresGrad ?? false
        return out.recording("LayerNormBackward", inputs) { grad in
            let g = grad.contiguousCopyIfNeeded()
            let gx = needX ? Tensor.empty(saved.shape, dtype: dt, device: device) : nil
            let gw = needW ? Tensor.empty(weight!.shape, dtype: dt, device: device) : nil
            let gb = needB ? Tensor.empty(bias!.shape, dtype: dt, device: device) : nil
            if rows > 0 {
                g.backend.layerNormBackward(dtype: dt, rows: rows, cols: k, x: saved.buffer, weight: w?.buffer, mean: mean.buffer, rstd: rstd.buffer,
                                            gradOut: g.buffer, gradIn: gx?.buffer, gradWeight: gw?.buffer, gradBias: gb?.buffer)
            } else {
                for t in [gw, gb] { t?.fill(0) }
            }
            var grads: [Tensor?] = [gx]
            if weight != nil { grads.append(gw) }
            if bias != nil { grads.append(gb) }
            return grads
        }
    }
}

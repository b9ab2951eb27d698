import NeuroneDevice
import NeuroneTensor

extension Tensor {
    /// y = x·Wᵀ + b over the last dim (`torch.nn.functional.linear`): input [*, in], weight
    /// [out, in], bias [out]. One product forward (the packed kernel or bias rows + GEMM, see
    /// `Backend.linear`); backward, one GEMM for the input's gradient and, for the weight's, gᵀ·x in
    /// W's own [out, in] layout with no transposed copy (`Backend.linearWeightGradient`, which also
    /// sums the bias's gradient when both are wanted).
    ///
    /// `activation` (Keras's `activation=`) gives `linear(…).relu()` (or `.tanh()`, `.sigmoid()`)
    /// value for value; a device that fuses activations (the CPU, in float32) applies it to each
    /// block of rows right after its product, and its gradient is taken in this backward.
    public func linear(weight: Tensor, bias: Tensor? = nil, activation: FusedActivation? = nil) -> Tensor {
        check(weight.rank == 2, "linear: weight must be 2-D [out, in], got \(describeShape(weight.shape))")
        let (outF, inF) = (weight.shape[0], weight.shape[1])
        check(rank >= 1 && shape[rank - 1] == inF,
              "linear: input of shape \(describeShape(shape)) has \(rank == 0 ? 0 : shape[rank - 1]) features in its last dim, weight \(describeShape(weight.shape)) expects \(inF)")
        check(dtype == weight.dtype, "linear: input dtype \(dtype) and weight dtype \(weight.dtype) differ")
        check(dtype.isFloatingPoint, "linear: dtype \(dtype) is not supported (float32 or float64 expected)")
        if let a = activation, !backend.fusesActivation(dtype: dtype) { return a.apply(linear(weight: weight, bias: bias)) }
        if let b = bias { check(b.shape == [outF] && b.dtype == dtype, "linear: bias must be [\(outF)] of dtype \(dtype), got \(describeShape(b.shape)) \(b.dtype)") }
        let rows = count / Swift.max(inF, 1)
        let x2 = withNoGrad { self.contiguousCopyIfNeeded().reshape([rows, inF]) }
        let w = weight.contiguousCopyIfNeeded()
        let device = Tensor.commonDevice("linear", x2, w, bias)
        let out = Tensor.empty(Array(shape.dropLast()) + [outF], dtype: dtype, device: device)
        if out.count > 0 {
            let bc = bias?.contiguousCopyIfNeeded()
            backend.linear(dtype: dtype, rows: rows, inFeatures: inF, outFeatures: outF, x: x2.buffer, weight: w.buffer, bias: bc?.buffer,
                           activation: activation, out: out.buffer)
        }
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        guard GradMode.enabled, inputs.contains(where: { $0._requiresGrad }) else { return out }
        let xd = x2.detach(), wd = w.detach(), inShape = shape, dt = dtype
        let needX = _requiresGrad, needW = weight._requiresGrad, needB = bias?._requiresGrad ?? false
        let ySaved: Tensor? = activation == nil ? nil : out.detach()
        return out.recording("Linear\(activation?.nodeName ?? "")Backward", inputs) { gOut in
            // Where only the weight's (and bias's) gradient reads g (a network's first layer), the
            // device takes the activation's gradient as it reads g, no tensor of g·f′ made.
            let fused = activation != nil && !needX && needW
            let g = fused ? gOut : activation.map { $0.gradient(gOut, output: ySaved!) } ?? gOut
            let g2 = g.contiguousCopyIfNeeded().reshape([rows, outF])
            var grads: [Tensor?] = []
            if needX {
                let gx = Tensor.empty([rows, inF], dtype: dt, device: device)
                gx.backend.gemm(dtype: dt, batch: 1, transA: false, transB: false, m: rows, n: inF, k: outF, alpha: 1,
                                g2.buffer, lda: outF, strideA: 0, wd.buffer, ldb: inF, strideB: 0, beta: 0, gx.buffer, ldc: inF, strideC: 0)
                grads.append(gx.reshape(inShape))
            } else { grads.append(nil) }
            // the bias's gradient from the weight's pass when both are wanted (one read of g)
            let gb = needW && needB && rows > 0 ? Tensor.empty([outF], dtype: dt, device: device) : nil
            if needW {
                let gw = Tensor.empty([outF, inF], dtype: dt, device: device)
                gw.backend.linearWeightGradient(dtype: dt, rows: rows, inFeatures: inF, outFeatures: outF, gradOut: g2.buffer, x: xd.buffer,
                                                into: gw.buffer, bias: gb?.buffer, activation: fused ? activation : nil,
                                                output: fused ? ySaved!.buffer : nil)
                grads.append(gw)
            } else { grads.append(nil) }
            if bias != nil { grads.append(needB ? gb ?? g2.sum(dim: 0) : nil) }
            return grads
        }
    }
}

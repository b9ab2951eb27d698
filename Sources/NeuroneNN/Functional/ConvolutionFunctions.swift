import NeuroneDevice
import NeuroneTensor

/// Padding of a convolution: explicit sizes per side, or "same"/"valid" as in PyTorch.
public enum ConvPadding: Equatable, Sendable, ExpressibleByIntegerLiteral {
    /// The same padding on both sides of each spatial dim (height, width).
    case explicit([Int])
    /// Output size equals input size (stride 1 only); odd totals put the extra on the right.
    case same
    /// No padding.
    case valid

    /// The same padding on every side: `padding: 1`.
    public init(integerLiteral value: Int) { self = .explicit([value]) }
}

extension Tensor {
    /// Output size of a sliding window along one dim (PyTorch's formula, with ceil mode).
    package static func windowOutput(_ size: Int, kernel: Int, stride: Int, pad: Int, dilation: Int, ceilMode: Bool) -> Int {
        let span = size + 2 * pad - dilation * (kernel - 1) - 1
        if span < 0 { return 0 }
        var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
        // The last window must start inside the input or the left padding.
        if ceilMode && (out - 1) * stride >= size + pad { out -= 1 }
        return out
    }

    /// Output size of a transposed convolution along one dim (PyTorch's ConvTranspose formula):
    /// (size − 1)·stride − 2·pad + dilation·(kernel − 1) + outputPadding + 1. With every argument at
    /// most 2³¹ − 1 (what specs and ONNX import allow) it cannot overflow; it may be ≤ 0.
    package static func transposedWindowOutput(_ size: Int, kernel: Int, stride: Int, pad: Int, dilation: Int, outputPadding: Int) -> Int {
        let spread = (size - 1) * stride + dilation * (kernel - 1)
        return spread - 2 * pad + outputPadding + 1
    }

    /// im2col as a differentiable op: [N, C, H, W] → [N, C·kh·kw, outH·outW] (torch.nn.functional.unfold).
    func unfold2d(_ g: WindowGeometry) -> Tensor {
        let x = contiguousCopyIfNeeded()
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let out = Tensor.empty([n, c * g.kernelH * g.kernelW, g.outH * g.outW], dtype: dtype, device: device)
        if out.count > 0 { backend.im2col(dtype: dtype, x.buffer, batch: n, channels: c, height: h, width: w, geometry: g, out.buffer, sampleStride: nil, rowStride: nil) }
        if !Tensor.needsGrad(self) { return out }
        let inShape = shape, dt = dtype
        return out.recording("Im2ColBackward", [self]) { grad in
            let gc = grad.contiguousCopyIfNeeded()
            let dx = Tensor.zeros(inShape, dtype: dt, device: grad.device)
            if gc.count > 0 { dx.backend.col2im(dtype: dt, gc.buffer, batch: n, channels: c, height: h, width: w, geometry: g, dx.buffer, sampleStride: nil, rowStride: nil) }
            return [dx]
        }
    }

    /// 2-D convolution (cross-correlation, as in every deep-learning framework) like
    /// `torch.nn.functional.conv2d`: input [N, C, H, W] (or [C, H, W]), weight [O, C/groups, kh, kw],
    /// bias [O]. With groups = 1, the device's own convolution when it has one for the problem
    /// (`Backend.conv2d`; on the CPU a single-GEMM or a direct path); otherwise im2col followed by
    /// one matrix product per group.
    ///
    /// `activation` (Keras's `activation=`) gives `conv2d(…).relu()` (or `.tanh()`, `.sigmoid()`)
    /// value for value; a device that fuses activations (the CPU, in float32) applies it to each
    /// block of the output while it is in cache and takes its gradient in the convolution's backward.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: [Int] = [1], padding: ConvPadding = .explicit([0]),
                       dilation: [Int] = [1], groups: Int = 1, activation: FusedActivation? = nil) -> Tensor {
        if rank == 3 {
            return unsqueeze(0).conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
                                       activation: activation).squeeze(0)
        }
        check(rank == 4, "conv2d: expected a 3-D or 4-D input [N, C, H, W], got shape \(describeShape(shape))")
        check(weight.rank == 4, "conv2d: weight must be 4-D [out, in/groups, kh, kw], got \(describeShape(weight.shape))")
        check(dtype == weight.dtype, "conv2d: input dtype \(dtype) and weight dtype \(weight.dtype) differ")
        let pair = { (v: [Int], what: String) -> (Int, Int) in
            check(v.count == 1 || v.count == 2, "conv2d: \(what) must have 1 or 2 values, got \(v)")
            return (v[0], v.count == 2 ? v[1] : v[0])
        }
        let (sh, sw) = pair(stride, "stride"), (dh, dw) = pair(dilation, "dilation")
        check(sh > 0 && sw > 0, "conv2d: stride must be positive, got \(stride)")
        check(dh > 0 && dw > 0, "conv2d: dilation must be positive, got \(dilation)")
        check(groups > 0, "conv2d: groups must be positive, got \(groups)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (o, cg, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        check(c % groups == 0 && o % groups == 0, "conv2d: in_channels (\(c)) and out_channels (\(o)) must be divisible by groups (\(groups))")
        check(cg * groups == c,
              "conv2d: weight of shape \(describeShape(weight.shape)) with groups=\(groups) expects input to have \(cg * groups) channels, but got \(c) channels (input shape \(describeShape(shape)))")
        if let b = bias { check(b.shape == [o], "conv2d: bias must have shape [\(o)], got \(describeShape(b.shape))") }
        var input = self
        var (ph, pw) = (0, 0)
        switch padding {
        case .valid: break
        case .explicit(let p): (ph, pw) = pair(p, "padding"); check(ph >= 0 && pw >= 0, "conv2d: padding must be non-negative, got \(p)")
        case .same:
            check(sh == 1 && sw == 1, "conv2d: padding='same' is not supported for strided convolutions (stride \(stride))")
            let th = dh * (kh - 1), tw = dw * (kw - 1)
            (ph, pw) = (th / 2, tw / 2)
            if th % 2 == 1 || tw % 2 == 1 { input = input.pad([0, tw % 2, 0, th % 2]) }
        }
        let hIn = input.shape[2], wIn = input.shape[3]
        let effH = dh * (kh - 1) + 1, effW = dw * (kw - 1) + 1
        check(hIn + 2 * ph >= effH && wIn + 2 * pw >= effW,
              "conv2d: kernel size (\(kh)×\(kw), dilated \(effH)×\(effW)) can't be greater than the padded input size (\(hIn + 2 * ph)×\(wIn + 2 * pw)); input shape \(describeShape(shape)), padding \(ph),\(pw)")
        let oh = Tensor.windowOutput(hIn, kernel: kh, stride: sh, pad: ph, dilation: dh, ceilMode: false)
        let ow = Tensor.windowOutput(wIn, kernel: kw, stride: sw, pad: pw, dilation: dw, ceilMode: false)
        let g = WindowGeometry(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padH: ph, padW: pw,
                               dilationH: dh, dilationW: dw, outH: oh, outW: ow)
        // The device's own convolution when it has one for this problem; otherwise im2col and a
        // matrix product per group.
        let fused = backend.fusesActivation(dtype: dtype) ? activation : nil
        let problem = Conv2dProblem(dtype: dtype, batch: n, channels: c, height: hIn, width: wIn, outChannels: o, geometry: g)
        if groups == 1 && backend.supportsConv2d(problem) {
            let y = input.deviceConv2d(problem, weight: weight, bias: bias, activation: fused)
            return fused == nil ? activation?.apply(y) ?? y : y
        }
        let cols = input.unfold2d(g)                                   // [N, C·kh·kw, L]
        let k = cg * kh * kw, l = oh * ow
        var y: Tensor
        if groups == 1 {
            y = weight.reshape([o, k]).matmul(cols)                    // [N, O, L]
        } else {
            let wg = weight.reshape([groups, o / groups, k])
            y = wg.matmul(cols.reshape([n, groups, k, l])).reshape([n, o, l])
        }
        y = y.reshape([n, o, oh, ow])
        if let b = bias { y = y + b.reshape([o, 1, 1]) }
        _ = w; _ = h
        return activation?.apply(y) ?? y
    }

    /// The device's convolution (`Backend.conv2d`) of self [N, C, H, W] with groups = 1, and its
    /// gradients: the activation, when given, is fused by the device and its gradient taken in the
    /// device's backward from the saved output.
    func deviceConv2d(_ p: Conv2dProblem, weight: Tensor, bias: Tensor?, activation act: FusedActivation?) -> Tensor {
        let x = contiguousCopyIfNeeded(), wt = weight.contiguousCopyIfNeeded(), bc = bias?.contiguousCopyIfNeeded()
        let g = p.geometry
        let device = Tensor.commonDevice("conv2d", x, wt, bc)
        let y = Tensor.empty([p.batch, p.outChannels, g.outH, g.outW], dtype: dtype, device: device)
        let saved = backend.conv2d(p, x: x.buffer, weight: wt.buffer, bias: bc?.buffer, activation: act, out: y.buffer)
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        guard GradMode.enabled, inputs.contains(where: { $0._requiresGrad }) else { return y }
        let xSaved = x.detach(), wSaved = wt.detach(), inShape = shape, dt = dtype
        let needX = _requiresGrad, needW = weight._requiresGrad, needB = bias?._requiresGrad ?? false
        let ySaved: Tensor? = act == nil ? nil : y.detach()
        return y.recording("Convolution\(act?.nodeName ?? "")Backward", inputs) { gradOut in
            let gc = gradOut.contiguousCopyIfNeeded()
            let dx: Tensor? = needX ? Tensor.empty(inShape, dtype: dt, device: device) : nil
            let dw: Tensor? = needW ? Tensor.empty(weight.shape, dtype: dt, device: device) : nil
            let db: Tensor? = bias != nil && needB ? Tensor.empty([p.outChannels], dtype: dt, device: device) : nil
            gc.backend.conv2dBackward(p, saved: saved, x: xSaved.buffer, weight: wSaved.buffer, output: ySaved?.buffer, activation: act,
                                      gradOut: gc.buffer, dx: dx?.buffer, dweight: dw?.buffer, dbias: db?.buffer)
            var grads: [Tensor?] = [dx, dw]
            if bias != nil { grads.append(db) }
            return grads
        }
    }

    /// 1-D convolution: input [N, C, L] (or [C, L]), weight [O, C/groups, k].
    public func conv1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: ConvPadding = .explicit([0]),
                       dilation: Int = 1, groups: Int = 1) -> Tensor {
        if rank == 2 { return unsqueeze(0).conv1d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups).squeeze(0) }
        check(rank == 3, "conv1d: expected a 2-D or 3-D input [N, C, L], got shape \(describeShape(shape))")
        check(weight.rank == 3, "conv1d: weight must be 3-D [out, in/groups, k], got \(describeShape(weight.shape))")
        let pad2: ConvPadding
        switch padding {
        case .explicit(let p):
            check(p.count == 1, "conv1d: padding must be one value, got \(p)")
            pad2 = .explicit([0, p[0]])
        default: pad2 = padding
        }
        return unsqueeze(2).conv2d(weight: weight.unsqueeze(2), bias: bias, stride: [1, stride], padding: pad2,
                                   dilation: [1, dilation], groups: groups).squeeze(2)
    }
}

extension Tensor {
    /// Transposed 2-D convolution (the gradient of `conv2d` with respect to its input), like
    /// `torch.nn.functional.conv_transpose2d`: input [N, Cin, H, W] (or [Cin, H, W]), weight
    /// [Cin, Cout/groups, kh, kw]; output size (H − 1)·stride − 2·padding + dilation·(k − 1) +
    /// outputPadding + 1. Computed as one GEMM per group followed by col2im.
    public func convTranspose2d(weight: Tensor, bias: Tensor? = nil, stride: [Int] = [1], padding: [Int] = [0],
                                outputPadding: [Int] = [0], dilation: [Int] = [1], groups: Int = 1) -> Tensor {
        if rank == 3 {
            return unsqueeze(0).convTranspose2d(weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding,
                                                dilation: dilation, groups: groups).squeeze(0)
        }
        check(rank == 4, "convTranspose2d: expected a 3-D or 4-D input [N, C, H, W], got shape \(describeShape(shape))")
        check(weight.rank == 4, "convTranspose2d: weight must be 4-D [in, out/groups, kh, kw], got \(describeShape(weight.shape))")
        check(dtype == weight.dtype && dtype.isFloatingPoint, "convTranspose2d: input (\(dtype)) and weight (\(weight.dtype)) must share a floating-point dtype")
        let pair = { (v: [Int], what: String) -> (Int, Int) in
            check(v.count == 1 || v.count == 2, "convTranspose2d: \(what) must have 1 or 2 values, got \(v)")
            return (v[0], v.count == 2 ? v[1] : v[0])
        }
        let (sh, sw) = pair(stride, "stride"), (ph, pw) = pair(padding, "padding")
        let (oph, opw) = pair(outputPadding, "output padding"), (dh, dw) = pair(dilation, "dilation")
        check(sh > 0 && sw > 0 && dh > 0 && dw > 0 && ph >= 0 && pw >= 0, "convTranspose2d: stride and dilation must be positive and padding non-negative")
        check(oph >= 0 && opw >= 0 && (oph < sh || oph < dh) && (opw < sw || opw < dw),
              "convTranspose2d: output padding must be smaller than either stride or dilation, got output padding \(outputPadding), stride \(stride), dilation \(dilation)")
        let (n, cin, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (cinW, coutG, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        check(groups > 0 && cin % groups == 0, "convTranspose2d: in_channels (\(cin)) must be divisible by groups (\(groups))")
        check(cinW == cin, "convTranspose2d: weight of shape \(describeShape(weight.shape)) expects \(cinW) input channels, but the input has \(cin) (shape \(describeShape(shape)))")
        let cout = coutG * groups
        if let b = bias { check(b.shape == [cout], "convTranspose2d: bias must have shape [\(cout)], got \(describeShape(b.shape))") }
        let oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
        let ow = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
        check(oh > 0 && ow > 0, "convTranspose2d: output size \(oh)×\(ow) is not positive (input \(describeShape(shape)), kernel \(kh)×\(kw), padding \(padding))")
        if groups > 1 {
            let xs = chunk(groups, dim: 1), ws = weight.chunk(groups, dim: 0)
            let bs = bias?.chunk(groups, dim: 0)
            let parts = (0..<groups).map { gi in
                xs[gi].convTranspose2d(weight: ws[gi], bias: bs?[gi], stride: stride, padding: padding, outputPadding: outputPadding,
                                       dilation: dilation, groups: 1)
            }
            return Tensor.cat(parts, dim: 1)
        }
        // The geometry of the forward convolution this op is the adjoint of: an oh×ow image whose
        // windows produce the h×w input.
        let g = WindowGeometry(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padH: ph, padW: pw,
                               dilationH: dh, dilationW: dw, outH: h, outW: w)
        let k = cout * kh * kw, l = h * w, nl = n * l
        let x2 = withNoGrad { self.permute(1, 0, 2, 3).contiguousCopy() }          // [Cin, N·L]
        let wt = weight.contiguousCopyIfNeeded()                                     // [Cin, K]
        let device = Tensor.commonDevice("convTranspose2d", x2, wt, bias)
        let cols = Tensor.empty([k, nl], dtype: dtype, device: device)
        backend.gemm(dtype: dtype, batch: 1, transA: true, transB: false, m: k, n: nl, k: cin, alpha: 1,
                     wt.buffer, lda: k, strideA: 0, x2.buffer, ldb: nl, strideB: 0, beta: 0, cols.buffer, ldc: nl, strideC: 0)
        var y = Tensor.zeros([n, cout, oh, ow], dtype: dtype, device: device)
        backend.col2im(dtype: dtype, cols.buffer, batch: n, channels: cout, height: oh, width: ow, geometry: g, y.buffer, sampleStride: l, rowStride: nl)
        if let b = bias { y = withNoGrad { y + b.reshape([cout, 1, 1]) } }
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        guard GradMode.enabled, inputs.contains(where: { $0._requiresGrad }) else { return y }
        let xSaved = x2.detach(), wSaved = wt.detach(), dt = dtype
        let needX = _requiresGrad, needW = weight._requiresGrad, needB = bias?._requiresGrad ?? false
        return y.recording("ConvolutionTransposeBackward", inputs) { grad in
            let gc = grad.contiguousCopyIfNeeded()
            let gcols = Tensor.empty([k, nl], dtype: dt, device: device)                              // im2col of the output gradient
            gcols.backend.im2col(dtype: dt, gc.buffer, batch: n, channels: cout, height: oh, width: ow, geometry: g, gcols.buffer,
                                 sampleStride: l, rowStride: nl)
            var grads: [Tensor?] = []
            if needX {
                let gx2 = Tensor.empty([cin, nl], dtype: dt, device: device)
                gx2.backend.gemm(dtype: dt, batch: 1, transA: false, transB: false, m: cin, n: nl, k: k, alpha: 1,
                                 wSaved.buffer, lda: k, strideA: 0, gcols.buffer, ldb: nl, strideB: 0, beta: 0, gx2.buffer, ldc: nl, strideC: 0)
                grads.append(gx2.reshape([cin, n, h, w]).permute(1, 0, 2, 3).contiguousCopy())
            } else { grads.append(nil) }
            if needW {
                let gw = Tensor.empty([cin, k], dtype: dt, device: device)
                gw.backend.gemm(dtype: dt, batch: 1, transA: false, transB: true, m: cin, n: k, k: nl, alpha: 1,
                                xSaved.buffer, lda: nl, strideA: 0, gcols.buffer, ldb: nl, strideB: 0, beta: 0, gw.buffer, ldc: k, strideC: 0)
                grads.append(gw.reshape(weight.shape))
            } else { grads.append(nil) }
            if bias != nil { grads.append(needB ? grad.sum(dims: [0, 2, 3]) : nil) }
            return grads
        }
    }
}

import CNeuroneKernels

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
    static func windowOutput(_ size: Int, kernel: Int, stride: Int, pad: Int, dilation: Int, ceilMode: Bool) -> Int {
        let span = size + 2 * pad - dilation * (kernel - 1) - 1
        if span < 0 { return 0 }
        var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
        // The last window must start inside the input or the left padding.
        if ceilMode && (out - 1) * stride >= size + pad { out -= 1 }
        return out
    }

    /// im2col as a differentiable op: [N, C, H, W] → [N, C·kh·kw, outH·outW] (torch.nn.functional.unfold).
    func unfold2d(_ g: WindowGeometry) -> Tensor {
        let x = contiguousCopyIfNeeded()
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let out = Tensor.empty([n, c * g.kernelH * g.kernelW, g.outH * g.outW], dtype: dtype)
        if out.count > 0 { backend.im2col(dtype: dtype, x.data, batch: n, channels: c, height: h, width: w, geometry: g, out.data, sampleStride: nil, rowStride: nil) }
        if !Tensor.needsGrad(self) { return out }
        let inShape = shape, dt = dtype
        return out.recording("Im2ColBackward", [self]) { grad in
            let gc = grad.contiguousCopyIfNeeded()
            let dx = Tensor.zeros(inShape, dtype: dt)
            if gc.count > 0 { dx.backend.col2im(dtype: dt, gc.data, batch: n, channels: c, height: h, width: w, geometry: g, dx.data, sampleStride: nil, rowStride: nil) }
            return [dx]
        }
    }

    /// 2-D convolution (cross-correlation, as in every deep-learning framework) like
    /// `torch.nn.functional.conv2d`: input [N, C, H, W] (or [C, H, W]), weight [O, C/groups, kh, kw],
    /// bias [O]. Computed as im2col followed by one matrix product per group.
    ///
    /// `activation` (Keras's `activation=`) gives `conv2d(…).relu()` (or `.tanh()`, `.sigmoid()`)
    /// value for value; in float32 the GEMM and direct paths apply it to each block of the output
    /// while it is in cache, and take its gradient in the convolution's backward.
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
        // One GEMM over the whole batch pays off when each column is long enough; for very short
        // columns (few input channels) a product per sample avoids two permuting copies.
        let fused = dtype == .float32 ? activation : nil
        if groups == 1 && cg * kh * kw >= 32 {
            let y = input.conv2dSingleGemm(weight: weight, bias: bias, geometry: g, activation: fused)
            return fused == nil ? activation?.apply(y) ?? y : y
        }
        if groups == 1 && dtype == .float32 && sh == 1 && sw == 1 {
            return input.conv2dDirect(weight: weight, bias: bias, geometry: g, activation: fused)
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

    /// Convolution with groups = 1 as GEMMs over groups of samples, the groups spread over the
    /// threads (each thread: im2col of its samples into its own column buffer, then a
    /// single-threaded GEMM, both in cache). A group holds `nb` samples so that nb·L ≥ 256:
    /// columns [K = C·kh·kw, nb·L], out[O, nb·L] = W[O, K]·cols; with nb = 1 the product goes
    /// straight into y[s] = [O, L], otherwise it is scattered to [nb, O, L]. The bias is written
    /// first and the product added (beta = 1).
    /// Backward, per group: the columns are rebuilt from the saved input (no saved columns),
    /// gW_thread += g[O, nb·L]·colsᵀ (one partial per thread, summed at the end) and
    /// gcols = Wᵀ·g, then col2im into dx.
    /// A fused `activation` (float32 only) is applied to each group's [O, nb·L] product in place
    /// right after its GEMM; backward takes its gradient (from the saved output) per group, with
    /// the bias gradient's row sums in the same pass (per-thread partials), so that no full-size
    /// masked gradient is made (mnist-cnn training at batch 256: peak RSS 294 → 258 MB).
    /// In float32 on AVX2 CPUs (`Tensor.usesPackedConvolution`) the three products take linear.c's
    /// packed kernel instead of the GEMM library (1.18–1.25× OpenBLAS on mnist-cnn's conv2 shapes,
    /// measured in C): the forward's columns are written by im2col straight into 16-column panels
    /// and its tiles start from the bias (no bias pass); gcols = Wᵀ·g takes Wᵀ (transposed once per
    /// backward) times g packed in panels (no clearing pass for beta = 0), in blocks of whole
    /// channels each followed by its col2im while in cache, dx cleared plane by plane just before;
    /// gW takes g's rows times the columns as panels of 16 rows, each panel written from x by
    /// nk_im2col_kpanels_f32 and multiplied at once (no full-size columns built in backward).
    func conv2dSingleGemm(weight: Tensor, bias: Tensor?, geometry g: WindowGeometry, activation act: FusedActivation? = nil) -> Tensor {
        precondition(act == nil || dtype == .float32, "conv2dSingleGemm: a fused activation needs float32")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let o = weight.shape[0]
        let k = c * g.kernelH * g.kernelW, l = g.outH * g.outW
        let es = dtype.byteSize, dt = dtype
        // Samples per GEMM: enough columns for an efficient product, columns within about 1 MB.
        let nb = Swift.max(1, Swift.min(n, (255 + l) / Swift.max(1, l), (1 << 20) / Swift.max(1, k * l * es)))
        let groupCount = (n + nb - 1) / nb
        let x = contiguousCopyIfNeeded()
        let wt = weight.contiguousCopyIfNeeded()
        let y = Tensor.empty([n, o, g.outH, g.outW], dtype: dtype)
        let bc = bias?.contiguousCopyIfNeeded()
        let be = backend
        let tasks = Swift.min(Threading.threadCount, groupCount)
        let packed = Tensor.usesPackedConvolution(dt)
        // im2col geometry (nk_im2col_panels_f32 ignores the two strides)
        let dims = [c, h, w, g.kernelH, g.kernelW, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.outH, g.outW, 0, 0]
            .map { Int64($0) }
        let panelColumns = (nb * l + 15) / 16 * 16
        // Output rows a multiple of 8 wide: the packed forward's columns in chunks whose panels fit
        // L2 (about 128 KB), each written from x and multiplied at once
        let chunked = packed && g.outW % 8 == 0 && g.kernelH <= 32 && g.kernelW <= 32, chunkColumns = Swift.max(16, 32768 / Swift.max(1, k) / 16 * 16)
        Threading.parallelFor(tasks, minChunk: 1) { t0, t1 in
            for t in t0..<t1 {
                let cols = Tensor.empty([k, packed ? (chunked ? Swift.min(chunkColumns, panelColumns) : panelColumns) : nb * l], dtype: dt)
                let scratch: Tensor? = packed && !chunked ? Tensor.empty([g.kernelH * g.kernelW * nb * l], dtype: dt) : nil
                let out2: Tensor? = nb > 1 ? Tensor.empty([o, nb * l], dtype: dt) : nil
                for grp in (groupCount * t / tasks)..<(groupCount * (t + 1) / tasks) {
                    let s0 = grp * nb, m = Swift.min(nb, n - s0), ml = m * l
                    let target = out2?.data ?? (y.data + s0 * o * l * es)
                    // a relu is applied by the packed kernel to its tiles in registers; others after the product
                    var pendingAct = act
                    if packed {
                        // columns straight into 16-column panels, the product started from the bias
                        let xs = (x.data + s0 * c * h * w * es).assumingMemoryBound(to: Float.self)
                        let pk = cols.data.assumingMemoryBound(to: Float.self)
                        let wp = wt.data.assumingMemoryBound(to: Float.self), yp = target.assumingMemoryBound(to: Float.self)
                        let bp = bc.map { UnsafePointer($0.data.assumingMemoryBound(to: Float.self)) }, relu: Int32 = act == .relu ? 1 : 0
                        if chunked {
                            for q0 in stride(from: 0, to: ml, by: chunkColumns) {
                                let q1 = Swift.min(ml, q0 + chunkColumns)
                                nk_im2col_panels_range_f32(xs, dims, Int64(q0), Int64(q1), pk)
                                nk_gemm_packed_f32(wp, Int64(k), 0, Int64(o), Int64(k), pk, bp, Int64(q1 - q0), yp + q0, Int64(ml), relu)
                            }
                        } else {
                            nk_im2col_panels_f32(xs, dims, Int64(m), scratch!.data.assumingMemoryBound(to: Float.self), pk)  // allocated when packed and not chunked
                            nk_gemm_packed_f32(wp, Int64(k), 0, Int64(o), Int64(k), pk, bp, Int64(ml), yp, Int64(ml), relu)
                        }
                        if act == .relu { pendingAct = nil }
                    } else {
                        be.im2col(dtype: dt, x.data + s0 * c * h * w * es, batch: m, channels: c, height: h, width: w, geometry: g, cols.data,
                                  sampleStride: l, rowStride: ml)
                        if let b = bc {
                            // each output row starts as its bias: one pass for floating point (a
                            // Double holds any float32 exactly), a fill and an add otherwise
                            for oi in 0..<o {
                                let row = target + oi * ml * es
                                switch dt {
                                case .float32: be.fill(row, dtype: dt, count: ml, value: Double(b.data.load(fromByteOffset: oi * es, as: Float.self)))
                                case .float64: be.fill(row, dtype: dt, count: ml, value: b.data.load(fromByteOffset: oi * es, as: Double.self))
                                default:
                                    be.fill(row, dtype: dt, count: ml, value: 0)
                                    be.binary(.add, dtype: dt, row, aStep: 1, b.data + oi * es, bStep: 0, row, count: ml)
                                }
                            }
                        }
                        be.gemm(dtype: dt, batch: 1, transA: false, transB: false, m: o, n: ml, k: k, alpha: 1,
                                wt.data, lda: k, strideA: 0, cols.data, ldb: ml, strideB: 0, beta: bc == nil ? 0 : 1, target, ldc: ml, strideC: 0)
                    }
                    if let a = pendingAct { nk_activation_f32(a.kernelCode, target.assumingMemoryBound(to: Float.self), Int64(o * ml)) }
                    if out2 != nil {
                        Tensor.scatterRows(target, rows: o, chunk: m, length: l, into: y.data + s0 * o * l * es, elemSize: es)
                    }
                }
            }
        }
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        guard GradMode.enabled, inputs.contains(where: { $0._requiresGrad }) else { return y }
        let xSaved = x.detach(), wSaved = wt.detach(), inShape = shape
        let needX = _requiresGrad, needW = weight._requiresGrad, needB = bias?._requiresGrad ?? false
        let ySaved: Tensor? = act == nil ? nil : y.detach()
        return y.recording("Convolution\(act?.nodeName ?? "")Backward", inputs) { gradOut in
            let gc = gradOut.contiguousCopyIfNeeded()
            // A fused activation's gradient (float32) is taken per group in the loop below, with
            // the bias gradient's row sums in the same pass, while the group's gradient is in cache.
            let actCode = act?.kernelCode
            let fusedBias = actCode != nil && needB
            // every group clears its samples' planes of dx just before adding into them
            let dx: Tensor? = needX ? Tensor.empty(inShape, dtype: dt) : nil
            let tasks = Swift.min(Threading.threadCount, groupCount)
            // One weight-gradient (and fused bias-gradient) partial per task, summed below.
            let partials: [Tensor] = needW ? (0..<tasks).map { _ in Tensor.zeros([o, k], dtype: dt) } : []
            let biasPartials: [Tensor] = fusedBias ? (0..<tasks).map { _ in Tensor.zeros([o], dtype: .float32) } : []
            let be = gc.backend
            // the input gradient's product by the packed kernel: Wᵀ [K, O] times g in panels
            let wT: Tensor? = needX && packed ? withNoGrad { wSaved.reshape([o, k]).T.contiguousCopy() } : nil
            // col2im's geometry for a group's gcols [K, m·L] (sample s at column s·L; row stride m·L set per group)
            let backDims = [c, h, w, g.kernelH, g.kernelW, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.outH, g.outW, l, 0]
                .map { Int64($0) }
            Threading.parallelFor(tasks, minChunk: 1) { t0, t1 in
                for t in t0..<t1 {
                    let cols: Tensor? = needW && !packed ? Tensor.empty([k, nb * l], dtype: dt) : nil
                    let gcols: Tensor? = needX ? Tensor.empty([k, nb * l], dtype: dt) : nil
                    let g2: Tensor? = nb > 1 || actCode != nil ? Tensor.empty([o, nb * l], dtype: dt) : nil
                    let y2: Tensor? = nb > 1 && actCode != nil ? Tensor.empty([o, nb * l], dtype: dt) : nil
                    let gPanels: Tensor? = wT != nil ? Tensor.empty([o, panelColumns], dtype: dt) : nil
                    let colsPanels: Tensor? = needW && packed ? Tensor.empty([16, nb * l], dtype: dt) : nil
                    let colsScratch: Tensor? = needW && packed ? Tensor.empty([Int(nk_im2col_kpanels_scratch(dims))], dtype: dt) : nil
                    let gwGroup: Tensor? = needW && packed && groupCount * (t + 1) / tasks - groupCount * t / tasks > 1
                        ? Tensor.empty([o, k], dtype: dt) : nil
                    for grp in (groupCount * t / tasks)..<(groupCount * (t + 1) / tasks) {
                        let s0 = grp * nb, m = Swift.min(nb, n - s0), ml = m * l
                        var gsrc = UnsafeRawPointer(gc.data + s0 * o * l * es)
                        if nb > 1, let g2 = g2 {
                            Tensor.gatherRows(gsrc, rows: o, chunk: m, length: l, into: g2.data, elemSize: es)
                            gsrc = UnsafeRawPointer(g2.data)
                        }
                        if let code = actCode, let g2 = g2, let ys = ySaved {
                            var ysrc = UnsafeRawPointer(ys.data + s0 * o * l * es)
                            if let y2 = y2 {
                                Tensor.gatherRows(ysrc, rows: o, chunk: m, length: l, into: y2.data, elemSize: es)
                                ysrc = UnsafeRawPointer(y2.data)
                            }
                            nk_activation_grad_rows_f32(code, gsrc.assumingMemoryBound(to: Float.self), ysrc.assumingMemoryBound(to: Float.self),
                                                        g2.data.assumingMemoryBound(to: Float.self), Int64(o), Int64(ml),
                                                        fusedBias ? biasPartials[t].data.assumingMemoryBound(to: Float.self) : nil)
                            gsrc = UnsafeRawPointer(g2.data)
                        }
                        if needW {
                            if let cp = colsPanels, let scratch = colsScratch {
                                // gW += g·colsᵀ: cols [K, m·L] as the "weight" of the packed kernel (panels
                                // of 16 of its rows, transposed), g's rows broadcast; each panel written by
                                // im2col from x and multiplied at once, while in cache; the task's first
                                // group writes its partial directly, later ones add theirs
                                let pk = cp.data.assumingMemoryBound(to: Float.self)
                                let first = grp == groupCount * t / tasks
                                let gwPart = first ? nil : gwGroup                // there when the task has several groups
                                let dst = (gwPart?.data ?? partials[t].data).assumingMemoryBound(to: Float.self)
                                let xs = (xSaved.data + s0 * c * h * w * es).assumingMemoryBound(to: Float.self)
                                for kp in 0..<(k + 15) / 16 {
                                    nk_im2col_kpanels_f32(xs, dims, Int64(m), Int64(kp), Int64(kp + 1), scratch.data.assumingMemoryBound(to: Float.self), pk)
                                    nk_gemm_packed_f32(gsrc.assumingMemoryBound(to: Float.self), Int64(ml), 0, Int64(o), Int64(ml), pk, nil,
                                                       Int64(Swift.min(16, k - 16 * kp)), dst + 16 * kp, Int64(k), 0)
                                }
                                if let part = gwPart {
                                    be.binary(.add, dtype: dt, partials[t].data, aStep: 1, part.data, bStep: 1, partials[t].data, count: o * k)
                                }
                            } else if let cols = cols {
                                be.im2col(dtype: dt, xSaved.data + s0 * c * h * w * es, batch: m, channels: c, height: h, width: w, geometry: g,
                                          cols.data, sampleStride: l, rowStride: ml)
                                be.gemm(dtype: dt, batch: 1, transA: false, transB: true, m: o, n: k, k: ml, alpha: 1,
                                        gsrc, lda: ml, strideA: 0, cols.data, ldb: ml, strideB: 0, beta: 1, partials[t].data, ldc: k, strideC: 0)
                            }
                        }
                        if let dx = dx, let gcols = gcols {
                            let dxGroup = dx.data + s0 * c * h * w * es
                            if let wT = wT, let gp = gPanels {
                                let pk = gp.data.assumingMemoryBound(to: Float.self)
                                nk_pack_panels16_f32(gsrc.assumingMemoryBound(to: Float.self), Int64(ml), Int64(o), Int64(ml), pk)
                                // gcols = Wᵀ·g by blocks of whole channels (about 48 rows), each block's
                                // col2im right after its product, while its rows are in cache; each
                                // input plane cleared just before its sums
                                let gcp = gcols.data.assumingMemoryBound(to: Float.self), dxp = dxGroup.assumingMemoryBound(to: Float.self)
                                let kk = g.kernelH * g.kernelW, perBlock = Swift.max(1, 48 / kk)
                                var colDims = backDims
                                colDims[14] = Int64(ml)
                                for c0 in stride(from: 0, to: c, by: perBlock) {
                                    let c1 = Swift.min(c, c0 + perBlock)
                                    nk_gemm_packed_f32(wT.data.assumingMemoryBound(to: Float.self), Int64(o), Int64(c0 * kk), Int64(c1 * kk),
                                                       Int64(o), pk, nil, Int64(ml), gcp, Int64(ml), 0)
                                    for sm in 0..<m {
                                        let p0 = sm * c + c0, p1 = sm * c + c1
                                        (dxp + p0 * h * w).update(repeating: 0, count: (p1 - p0) * h * w)
                                        nk_col2im_f32(gcp, colDims, dxp, Int64(p0), Int64(p1))
                                    }
                                }
                            } else {
                                be.gemm(dtype: dt, batch: 1, transA: true, transB: false, m: k, n: ml, k: o, alpha: 1,
                                        wSaved.data, lda: k, strideA: 0, gsrc, ldb: ml, strideB: 0, beta: 0, gcols.data, ldc: ml, strideC: 0)
                                be.fill(dxGroup, dtype: dt, count: m * c * h * w, value: 0)
                                be.col2im(dtype: dt, gcols.data, batch: m, channels: c, height: h, width: w, geometry: g,
                                          dxGroup, sampleStride: l, rowStride: ml)
                            }
                        }
                    }
                }
            }
            let gw: Tensor? = needW ? (partials.first ?? Tensor.zeros([o, k], dtype: dt)) : nil
            if let total = gw { for p in partials.dropFirst() { be.binary(.add, dtype: dt, total.data, aStep: 1, p.data, bStep: 1, total.data, count: o * k) } }
            var grads: [Tensor?] = [dx, gw.map { $0.reshape(weight.shape) }]
            if bias != nil {
                if !needB {
                    grads.append(nil)
                } else if fusedBias {
                    let gb = biasPartials.first ?? Tensor.zeros([o], dtype: .float32)
                    for p in biasPartials.dropFirst() { be.binary(.add, dtype: dt, gb.data, aStep: 1, p.data, bStep: 1, gb.data, count: o) }
                    grads.append(gb)
                } else {
                    grads.append(gradOut.sum(dims: [0, 2, 3]))
                }
            }
            return grads
        }
    }

    /// Direct convolution for short columns (C·kh·kw < 32, stride 1, float32, groups = 1): the C
    /// kernels in conv_direct.c work on a padded copy of the input with "wide rows", one
    /// contiguous multiply-add per tap, with no im2col and no GEMM packing. A fused `activation`
    /// is applied to each work item's output planes as they are written.
    func conv2dDirect(weight: Tensor, bias: Tensor?, geometry g: WindowGeometry, activation act: FusedActivation? = nil) -> Tensor {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let hp = h + 2 * g.padH, wp = w + 2 * g.padW
        let dims: [Int64] = [n, c, hp, wp, o, kh, kw, g.dilationH, g.dilationW, g.outH, g.outW].map { Int64($0) }
        let xpad = withNoGrad { (g.padH > 0 || g.padW > 0) ? self.pad([g.padW, g.padW, g.padH, g.padH]) : self.contiguousCopyIfNeeded() }
        let wt = weight.contiguousCopyIfNeeded(), bc = bias?.contiguousCopyIfNeeded()
        let y = Tensor.empty([n, o, g.outH, g.outW], dtype: .float32)
        let xp = xpad.data.assumingMemoryBound(to: Float.self), wptr = wt.data.assumingMemoryBound(to: Float.self)
        let bp = bc.map { UnsafePointer($0.data.assumingMemoryBound(to: Float.self)) }
        let yp = y.data.assumingMemoryBound(to: Float.self)
        let items = Int(nk_conv2d_direct_items(dims)), itemWork = g.outH * wp * c * kh * kw * o * n / Swift.max(1, items)
        Threading.parallelFor(items, minChunk: Swift.max(1, 65536 / Swift.max(1, itemWork))) { i0, i1 in
            nk_conv2d_direct_f32(dims, xp, wptr, bp, yp, Int64(i0), Int64(i1), act?.kernelCode ?? -1)
        }
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        guard GradMode.enabled, inputs.contains(where: { $0._requiresGrad }) else { return y }
        let xSaved = xpad.detach(), wSaved = wt.detach()
        let needX = _requiresGrad, needW = weight._requiresGrad, needB = bias?._requiresGrad ?? false
        let ySaved: Tensor? = act == nil ? nil : y.detach()
        return y.recording("Convolution\(act?.nodeName ?? "")Backward", inputs) { gradOut in
            let grad = act.map { $0.gradient(gradOut, output: ySaved!) } ?? gradOut
            let gwide = withNoGrad { wp > g.outW ? grad.pad([0, wp - g.outW]) : grad.contiguousCopyIfNeeded() }
            let gp = gwide.data.assumingMemoryBound(to: Float.self)
            var grads: [Tensor?] = []
            if needX {
                let gxpad = Tensor.zeros([n, c, hp, wp], dtype: .float32)
                let gxp = gxpad.data.assumingMemoryBound(to: Float.self), wsp = wSaved.data.assumingMemoryBound(to: Float.self)
                Threading.parallelFor(n * c, minChunk: Swift.max(1, 65536 / Swift.max(1, g.outH * wp * o * kh * kw))) { p0, p1 in
                    nk_conv2d_direct_bwd_input_f32(dims, gp, wsp, gxp, Int64(p0), Int64(p1))
                }
                grads.append(g.padH > 0 || g.padW > 0
                             ? gxpad.narrowNoGrad(2, g.padH, h).narrowNoGrad(3, g.padW, w).contiguousCopy() : gxpad)
            } else { grads.append(nil) }
            if needW {
                let gw = Tensor.empty(weight.shape, dtype: .float32)
                let gwp = gw.data.assumingMemoryBound(to: Float.self), xsp = xSaved.data.assumingMemoryBound(to: Float.self)
                Threading.parallelFor(Int(nk_conv2d_direct_bwd_weight_items(dims)), minChunk: 1) { i0, i1 in
                    nk_conv2d_direct_bwd_weight_f32(dims, xsp, gp, gwp, Int64(i0), Int64(i1))
                }
                grads.append(gw)
            } else { grads.append(nil) }
            if bias != nil { grads.append(needB ? grad.sum(dims: [0, 2, 3]) : nil) }
            return grads
        }
    }

    /// [rows, chunk·length] → rows of [chunk, rows, length] (the [O, n·L] → [n, O, L] reorder).
    static func scatterRows(_ src: UnsafeRawPointer, rows: Int, chunk: Int, length: Int, into dst: UnsafeMutableRawPointer, elemSize: Int) {
        let bytes = length * elemSize
        Threading.parallelFor(rows * chunk, minChunk: Swift.max(1, 16384 / Swift.max(1, length))) { a, b in
            for idx in a..<b {
                let (r, s) = idx.quotientAndRemainder(dividingBy: chunk)
                (dst + (s * rows + r) * bytes).copyMemory(from: src + (r * chunk + s) * bytes, byteCount: bytes)
            }
        }
    }

    /// The inverse reorder: [chunk, rows, length] → [rows, chunk·length].
    static func gatherRows(_ src: UnsafeRawPointer, rows: Int, chunk: Int, length: Int, into dst: UnsafeMutableRawPointer, elemSize: Int) {
        let bytes = length * elemSize
        Threading.parallelFor(rows * chunk, minChunk: Swift.max(1, 16384 / Swift.max(1, length))) { a, b in
            for idx in a..<b {
                let (r, s) = idx.quotientAndRemainder(dividingBy: chunk)
                (dst + (r * chunk + s) * bytes).copyMemory(from: src + (s * rows + r) * bytes, byteCount: bytes)
            }
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
        let cols = Tensor.empty([k, nl], dtype: dtype)
        backend.gemm(dtype: dtype, batch: 1, transA: true, transB: false, m: k, n: nl, k: cin, alpha: 1,
                     wt.data, lda: k, strideA: 0, x2.data, ldb: nl, strideB: 0, beta: 0, cols.data, ldc: nl, strideC: 0)
        var y = Tensor.zeros([n, cout, oh, ow], dtype: dtype)
        backend.col2im(dtype: dtype, cols.data, batch: n, channels: cout, height: oh, width: ow, geometry: g, y.data, sampleStride: l, rowStride: nl)
        if let b = bias { y = withNoGrad { y + b.reshape([cout, 1, 1]) } }
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        guard GradMode.enabled, inputs.contains(where: { $0._requiresGrad }) else { return y }
        let xSaved = x2.detach(), wSaved = wt.detach(), dt = dtype
        let needX = _requiresGrad, needW = weight._requiresGrad, needB = bias?._requiresGrad ?? false
        return y.recording("ConvolutionTransposeBackward", inputs) { grad in
            let gc = grad.contiguousCopyIfNeeded()
            let gcols = Tensor.empty([k, nl], dtype: dt)                              // im2col of the output gradient
            gcols.backend.im2col(dtype: dt, gc.data, batch: n, channels: cout, height: oh, width: ow, geometry: g, gcols.data,
                                 sampleStride: l, rowStride: nl)
            var grads: [Tensor?] = []
            if needX {
                let gx2 = Tensor.empty([cin, nl], dtype: dt)
                gx2.backend.gemm(dtype: dt, batch: 1, transA: false, transB: false, m: cin, n: nl, k: k, alpha: 1,
                                 wSaved.data, lda: k, strideA: 0, gcols.data, ldb: nl, strideB: 0, beta: 0, gx2.data, ldc: nl, strideC: 0)
                grads.append(gx2.reshape([cin, n, h, w]).permute(1, 0, 2, 3).contiguousCopy())
            } else { grads.append(nil) }
            if needW {
                let gw = Tensor.empty([cin, k], dtype: dt)
                gw.backend.gemm(dtype: dt, batch: 1, transA: false, transB: true, m: cin, n: k, k: nl, alpha: 1,
                                xSaved.data, lda: nl, strideA: 0, gcols.data, ldb: nl, strideB: 0, beta: 0, gw.data, ldc: k, strideC: 0)
                grads.append(gw.reshape(weight.shape))
            } else { grads.append(nil) }
            if bias != nil { grads.append(needB ? grad.sum(dims: [0, 2, 3]) : nil) }
            return grads
        }
    }
}

import NeuroneDevice
import NeuroneTensor

extension Tensor {
    private func poolGeometry(_ op: String, kernel: [Int], stride: [Int]?, padding: [Int], dilation: [Int], ceilMode: Bool) -> WindowGeometry {
        let pair = { (v: [Int], what: String) -> (Int, Int) in
            check(v.count == 1 || v.count == 2, "\(op): \(what) must have 1 or 2 values, got \(v)")
            return (v[0], v.count == 2 ? v[1] : v[0])
        }
        let (kh, kw) = pair(kernel, "kernel size")
        let (sh, sw) = pair(stride ?? kernel, "stride")
        let (ph, pw) = pair(padding, "padding")
        let (dh, dw) = pair(dilation, "dilation")
        check(kh > 0 && kw > 0 && sh > 0 && sw > 0 && dh > 0 && dw > 0, "\(op): kernel size, stride and dilation must be positive")
        check(ph >= 0 && pw >= 0 && ph <= kh / 2 && pw <= kw / 2,
              "\(op): pad should be at most half of the effective kernel size, but got pad=\(padding) and kernel_size=\(kernel)")
        let h = shape[rank - 2], w = shape[rank - 1]
        let oh = Tensor.windowOutput(h, kernel: kh, stride: sh, pad: ph, dilation: dh, ceilMode: ceilMode)
        let ow = Tensor.windowOutput(w, kernel: kw, stride: sw, pad: pw, dilation: dw, ceilMode: ceilMode)
        check(oh > 0 && ow > 0,
              "\(op): output size is too small: input \(describeShape(shape)) with kernel \(kernel), stride \(stride ?? kernel), padding \(padding) gives \(oh)×\(ow)")
        return WindowGeometry(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padH: ph, padW: pw,
                              dilationH: dh, dilationW: dw, outH: oh, outW: ow)
    }

    /// 2-D max pooling over the last two dims of [N, C, H, W] or [C, H, W] (stride defaults to the
    /// kernel size), returning the values and the flat (y·W + x) index of each maximum.
    public func maxPool2dWithIndices(kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0], dilation: [Int] = [1],
                                     ceilMode: Bool = false) -> (values: Tensor, indices: Tensor) {
        let (v, i) = maxPool2dValues(kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode, indices: true)
        return (v, i!)
    }

    /// Max pooling's values, and its indices when asked for or when the backward needs them
    /// (without, the kernel writes no index: less memory traffic in evaluation).
    private func maxPool2dValues(kernel: [Int], stride: [Int]?, padding: [Int], dilation: [Int], ceilMode: Bool,
                                 indices wanted: Bool) -> (Tensor, Tensor?) {
        check(rank == 3 || rank == 4, "maxPool2d: expected a 3-D or 4-D input, got shape \(describeShape(shape))")
        check(dtype.isFloatingPoint, "maxPool2d: dtype \(dtype) is not supported (float32 or float64 expected)")
        let g = poolGeometry("maxPool2d", kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
        let h = shape[rank - 2], w = shape[rank - 1]
        let planes = count / Swift.max(1, h * w)
        let outShape = Array(shape.dropLast(2)) + [g.outH, g.outW]
        let x = contiguousCopyIfNeeded()
        let out = Tensor.empty(outShape, dtype: dtype, device: device)
        let needsGrad = Tensor.needsGrad(self)
        let idx: Tensor? = wanted || needsGrad ? Tensor.empty(outShape, dtype: .int64, device: device) : nil
        if out.count > 0 {
            backend.maxPool2d(dtype: dtype, x.buffer, planes: planes, height: h, width: w, geometry: g, out.buffer,
                              indices: idx?.buffer)
        }
        guard needsGrad, let idx = idx else { return (out, idx) }
        let inShape = shape, dt = dtype
        let v = out.recording("MaxPool2DWithIndicesBackward", [self]) { grad in
            let gc = grad.contiguousCopyIfNeeded()
            // the kernel writes every plane (cleared, then summed into) when there is a gradient to spread
            let dx = gc.count > 0 ? Tensor.empty(inShape, dtype: dt, device: gc.device) : Tensor.zeros(inShape, dtype: dt, device: gc.device)
            if gc.count > 0 {
                dx.backend.maxPool2dBackward(dtype: dt, gc.buffer, indices: idx.buffer, planes: planes, height: h, width: w,
                                             geometry: g, dx.buffer)
            }
            return [dx]
        }
        return (v, idx)
    }

    /// 2-D max pooling (see `maxPool2dWithIndices`).
    public func maxPool2d(kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0], dilation: [Int] = [1], ceilMode: Bool = false) -> Tensor {
        maxPool2dValues(kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode, indices: false).0
    }

    /// 2-D average pooling with PyTorch's padding, ceil-mode and divisor rules.
    public func avgPool2d(kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0], ceilMode: Bool = false,
                          countIncludePad: Bool = true, divisorOverride: Int? = nil) -> Tensor {
        check(rank == 3 || rank == 4, "avgPool2d: expected a 3-D or 4-D input, got shape \(describeShape(shape))")
        check(dtype.isFloatingPoint, "avgPool2d: dtype \(dtype) is not supported (float32 or float64 expected)")
        if let d = divisorOverride { check(d != 0, "avgPool2d: divisor must be not zero") }
        let g = poolGeometry("avgPool2d", kernel: kernel, stride: stride, padding: padding, dilation: [1], ceilMode: ceilMode)
        let h = shape[rank - 2], w = shape[rank - 1]
        let planes = count / Swift.max(1, h * w)
        let x = contiguousCopyIfNeeded()
        let out = Tensor.empty(Array(shape.dropLast(2)) + [g.outH, g.outW], dtype: dtype, device: device)
        if out.count > 0 {
            backend.avgPool2d(dtype: dtype, x.buffer, planes: planes, height: h, width: w, geometry: g, countIncludePad: countIncludePad,
                              divisorOverride: divisorOverride, backward: false, out.buffer)
        }
        if !Tensor.needsGrad(self) { return out }
        let inShape = shape, dt = dtype
        return out.recording("AvgPool2DBackward", [self]) { grad in
            let gc = grad.contiguousCopyIfNeeded()
            // the kernel writes every plane (cleared, then summed into) when there is a gradient to spread
            let dx = gc.count > 0 ? Tensor.empty(inShape, dtype: dt, device: gc.device) : Tensor.zeros(inShape, dtype: dt, device: gc.device)
            if gc.count > 0 {
                dx.backend.avgPool2d(dtype: dt, gc.buffer, planes: planes, height: h, width: w, geometry: g, countIncludePad: countIncludePad,
                                     divisorOverride: divisorOverride, backward: true, dx.buffer)
            }
            return [dx]
        }
    }

    /// Adaptive average pooling to an output of [outH, outW]: output cell i averages input rows
    /// ⌊i·H/outH⌋ ..< ⌈(i+1)·H/outH⌉ (and the same for columns).
    public func adaptiveAvgPool2d(_ outputSize: [Int]) -> Tensor {
        check(rank == 3 || rank == 4, "adaptiveAvgPool2d: expected a 3-D or 4-D input, got shape \(describeShape(shape))")
        check(outputSize.count == 1 || outputSize.count == 2, "adaptiveAvgPool2d: output size must have 1 or 2 values, got \(outputSize)")
        let oh = outputSize[0], ow = outputSize.count == 2 ? outputSize[1] : outputSize[0]
        check(oh > 0 && ow > 0, "adaptiveAvgPool2d: output size must be positive, got \(outputSize)")
        let h = shape[rank - 2], w = shape[rank - 1]
        if h % oh == 0 && w % ow == 0 {
            return avgPool2d(kernel: [h / oh, w / ow])
        }
        var rows: [Tensor] = []
        for i in 0..<oh {
            let h0 = (i * h) / oh, h1 = ((i + 1) * h + oh - 1) / oh
            var cells: [Tensor] = []
            for j in 0..<ow {
                let w0 = (j * w) / ow, w1 = ((j + 1) * w + ow - 1) / ow
                cells.append(narrow(dim: -2, start: h0, length: h1 - h0).narrow(dim: -1, start: w0, length: w1 - w0).mean(dims: [-2, -1]))
            }
            rows.append(Tensor.stack(cells, dim: -1))
        }
        return Tensor.stack(rows, dim: -2)
    }
}

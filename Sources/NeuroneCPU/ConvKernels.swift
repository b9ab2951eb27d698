import NeuroneDevice
import CNeuroneKernels
extension CPUBackend {
    /// Unfolds [N, C, H, W] into columns (im2col), zero outside the input: row r = (c·kh + i)·kw + j
    /// of sample n holds x[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw] at position oh·outW + ow.
    /// The row of (n, r) starts at n·sampleStride + r·rowStride: [N, K, L] when sampleStride = K·L
    /// and rowStride = L (the default), [K, N·L] when sampleStride = L and rowStride = N·L.
    package func im2col(dtype: DType, _ x: UnsafeRawPointer, batch: Int, channels: Int, height: Int, width: Int,
                geometry g: WindowGeometry, _ cols: UnsafeMutableRawPointer, sampleStride: Int? = nil, rowStride: Int? = nil) {
        check(dtype == .float32 || dtype == .float64, "im2col: dtype \(dtype) is not supported (float32 or float64 expected)")
        let l = g.outH * g.outW, kk = g.kernelH * g.kernelW
        let dims = Self.im2colDims(channels: channels, height: height, width: width, geometry: g,
                                   sampleStride: sampleStride ?? channels * kk * l, rowStride: rowStride ?? l)
        let es = Int64(dtype.byteSize)
        Threading.parallelFor(batch * channels, minChunk: Swift.max(1, 4096 / Swift.max(1, kk * l))) { p0, p1 in
            nk_im2col(es, x, dims, cols, Int64(p0), Int64(p1))
        }
    }

    /// The adjoint of `im2col` (col2im): adds every column entry back to the input position it
    /// was read from. `x` must be zeroed by the caller.
    package func col2im(dtype: DType, _ cols: UnsafeRawPointer, batch: Int, channels: Int, height: Int, width: Int,
                geometry g: WindowGeometry, _ x: UnsafeMutableRawPointer, sampleStride: Int? = nil, rowStride: Int? = nil) {
        check(dtype == .float32 || dtype == .float64, "col2im: dtype \(dtype) is not supported (float32 or float64 expected)")
        let l = g.outH * g.outW, kk = g.kernelH * g.kernelW
        let dims = Self.im2colDims(channels: channels, height: height, width: width, geometry: g,
                                   sampleStride: sampleStride ?? channels * kk * l, rowStride: rowStride ?? l)
        Threading.parallelFor(batch * channels, minChunk: Swift.max(1, 4096 / Swift.max(1, kk * l))) { p0, p1 in
            if dtype == .float32 {
                nk_col2im_f32(cols.assumingMemoryBound(to: Float.self), dims, x.assumingMemoryBound(to: Float.self), Int64(p0), Int64(p1))
            } else {
                nk_col2im_f64(cols.assumingMemoryBound(to: Double.self), dims, x.assumingMemoryBound(to: Double.self), Int64(p0), Int64(p1))
            }
        }
    }

    /// The geometry array of nk_im2col / nk_col2im.
    private static func im2colDims(channels: Int, height: Int, width: Int, geometry g: WindowGeometry,
                                   sampleStride: Int, rowStride: Int) -> [Int64] {
        [channels, height, width, g.kernelH, g.kernelW, g.strideH, g.strideW, g.padH, g.padW,
         g.dilationH, g.dilationW, g.outH, g.outW, sampleStride, rowStride].map { Int64($0) }
    }

    /// Max pooling over [planes, H, W] → [planes, outH, outW], with the flat index (y·W + x) of
    /// each maximum (the first on ties; NaN wins). Positions outside the input are skipped.
    package func maxPool2d(dtype: DType, _ x: UnsafeRawPointer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                   _ out: UnsafeMutableRawPointer, indices: UnsafeMutablePointer<Int64>?) {
        func go<T: BinaryFloatingPoint>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>) {
            Threading.parallelFor(planes, minChunk: Swift.max(1, 16384 / Swift.max(1, height * width))) { p0, p1 in
                for p in p0..<p1 {
                    let plane = src + p * height * width
                    for oh in 0..<g.outH {
                        let y0 = oh * g.strideH - g.padH
                        let rowsInside = y0 >= 0 && y0 + (g.kernelH - 1) * g.dilationH < height
                        for ow in 0..<g.outW {
                            let x0 = ow * g.strideW - g.padW
                            if rowsInside && x0 >= 0 && x0 + (g.kernelW - 1) * g.dilationW < width {
                                // Window fully inside the input: no bounds checks.
                                var bestIdx = y0 * width + x0
                                var best = plane[bestIdx]
                                if !best.isNaN {
                                    search: for i in 0..<g.kernelH {
                                        let rowBase = (y0 + i * g.dilationH) * width + x0
                                        for j in 0..<g.kernelW {
                                            let idx = rowBase + j * g.dilationW
                                            let v = plane[idx]
                                            if v > best { best = v; bestIdx = idx }
                                            else if v.isNaN { best = v; bestIdx = idx; break search }
                                        }
                                    }
                                }
                                let o = (p * g.outH + oh) * g.outW + ow
                                dst[o] = best
                                indices?[o] = Int64(bestIdx)
                                continue
                            }
                            var best = -T.infinity, bestIdx = -1
                            for i in 0..<g.kernelH {
                                let y = oh * g.strideH - g.padH + i * g.dilationH
                                if y < 0 || y >= height { continue }
                                for j in 0..<g.kernelW {
                                    let xx = ow * g.strideW - g.padW + j * g.dilationW
                                    if xx < 0 || xx >= width { continue }
                                    let v = plane[y * width + xx]
                                    if bestIdx < 0 || v > best || (v.isNaN && !best.isNaN) {
                                        best = v
                                        bestIdx = y * width + xx
                                    }
                                }
                            }
                            let o = (p * g.outH + oh) * g.outW + ow
                            dst[o] = best
                            indices?[o] = Int64(Swift.max(bestIdx, 0))
                        }
                    }
                }
            }
        }
        if dtype == .float32 && Self.isPlainMaxPool2x2(g, height: height, width: width) {
            maxPool2x2F32(x.assumingMemoryBound(to: Float.self), planes: planes, height: height, width: width, outH: g.outH, outW: g.outW,
                          out.assumingMemoryBound(to: Float.self), indices: indices)
            return
        }
        switch dtype {
        case .float32: go(x.assumingMemoryBound(to: Float.self), out.assumingMemoryBound(to: Float.self))
        case .float64: go(x.assumingMemoryBound(to: Double.self), out.assumingMemoryBound(to: Double.self))
        default: fail("maxPool2d: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }

    /// 2×2 windows at stride 2, no padding or dilation, every window inside the planes (not ceil
    /// mode's partial ones): the geometry of the C kernels nk_maxpool2x2_f32 and its backward.
    static func isPlainMaxPool2x2(_ g: WindowGeometry, height: Int, width: Int) -> Bool {
        g.kernelH == 2 && g.kernelW == 2 && g.strideH == 2 && g.strideW == 2 && g.padH == 0 && g.padW == 0
            && g.dilationH == 1 && g.dilationW == 1 && 2 * g.outH <= height && 2 * g.outW <= width && width < Int(Int32.max)
    }

    /// The common 2×2 stride-2 max pooling, float32: the C kernel nk_maxpool2x2_f32 (pooling.c,
    /// branch-free, vectorised) on each thread's planes.
    private func maxPool2x2F32(_ src: UnsafePointer<Float>, planes: Int, height: Int, width: Int, outH: Int, outW: Int,
                               _ dst: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int64>?) {
        Threading.parallelFor(planes, minChunk: Swift.max(1, 16384 / Swift.max(1, height * width))) { p0, p1 in
            nk_maxpool2x2_f32(src + p0 * height * width, Int64(p1 - p0), Int64(height), Int64(width), Int64(outH), Int64(outW),
                              dst + p0 * outH * outW, indices.map { $0 + p0 * outH * outW })
        }
    }

    /// The adjoint of max pooling: dx[plane, indices[o]] = Σ g[o] over the outputs o of each plane
    /// whose maximum sits there, 0 elsewhere (`dx` is overwritten, each plane cleared just before
    /// its sums while it is in cache). `indices` are those `maxPool2d` wrote for the same geometry:
    /// the common 2×2 stride-2 float32 case, where each index lies in its own window, writes each
    /// plane once in C (nk_maxpool2x2_backward_f32).
    package func maxPool2dBackward(dtype: DType, _ grad: UnsafeRawPointer, indices: UnsafePointer<Int64>, planes: Int, height: Int,
                                   width: Int, geometry g: WindowGeometry, _ dx: UnsafeMutableRawPointer) {
        let outCount = g.outH * g.outW, inCount = height * width
        if dtype == .float32 && Self.isPlainMaxPool2x2(g, height: height, width: width) {
            let src = grad.assumingMemoryBound(to: Float.self), dst = dx.assumingMemoryBound(to: Float.self)
            Threading.parallelFor(planes, minChunk: Swift.max(1, 16384 / Swift.max(1, inCount))) { p0, p1 in
                nk_maxpool2x2_backward_f32(src + p0 * outCount, indices + p0 * outCount, Int64(p1 - p0), Int64(height), Int64(width),
                                           Int64(g.outH), Int64(g.outW), dst + p0 * inCount)
            }
            return
        }
        func go<T: BinaryFloatingPoint>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>) {
            Threading.parallelFor(planes, minChunk: Swift.max(1, 16384 / Swift.max(1, inCount))) { p0, p1 in
                for p in p0..<p1 {
                    let gp = src + p * outCount, ip = indices + p * outCount, dp = dst + p * inCount
                    // each plane cleared just before its sums, while it is in cache (no full-size clearing pass)
                    dp.update(repeating: 0, count: inCount)
                    for o in 0..<outCount { dp[Int(ip[o])] += gp[o] }
                }
            }
        }
        switch dtype {
        case .float32: go(grad.assumingMemoryBound(to: Float.self), dx.assumingMemoryBound(to: Float.self))
        case .float64: go(grad.assumingMemoryBound(to: Double.self), dx.assumingMemoryBound(to: Double.self))
        default: fail("maxPool2d backward: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }

    /// Average pooling with PyTorch's divisor rules: the window is clipped to the padded input
    /// (ceil mode can run past it); the divisor is the clipped window's size when padding counts,
    /// else the number of real input elements in it, unless `divisorOverride` is given.
    /// With `backward`, `x` is the output gradient and `out` the input gradient (overwritten: each
    /// plane is cleared just before its sums).
    package func avgPool2d(dtype: DType, _ x: UnsafeRawPointer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                   countIncludePad: Bool, divisorOverride: Int?, backward: Bool, _ out: UnsafeMutableRawPointer) {
        func go<T: BinaryFloatingPoint>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>) {
            Threading.parallelFor(planes, minChunk: Swift.max(1, 16384 / Swift.max(1, height * width))) { p0, p1 in
                for p in p0..<p1 {
                    if backward { (dst + p * height * width).update(repeating: 0, count: height * width) }
                    for oh in 0..<g.outH {
                        for ow in 0..<g.outW {
                            let (rows, columns, divisor) = g.averagePoolingWindow(oh, ow, height: height, width: width,
                                                                                  countIncludePad: countIncludePad, divisorOverride: divisorOverride)
                            let o = (p * g.outH + oh) * g.outW + ow
                            if backward {
                                let share = src[o] / T(divisor)
                                for y in rows { for xx in columns { dst[(p * height + y) * width + xx] += share } }
                            } else {
                                var s: T = 0
                                for y in rows { for xx in columns { s += src[(p * height + y) * width + xx] } }
                                dst[o] = divisor == 0 ? T.nan : s / T(divisor)
                            }
                        }
                    }
                }
            }
        }
        // Every window inside the input (no padding, and ceil mode adds no partial window).
        let inside = g.padH == 0 && g.padW == 0 && g.dilationH == 1 && g.dilationW == 1
            && (g.outH - 1) * g.strideH + g.kernelH <= height && (g.outW - 1) * g.strideW + g.kernelW <= width
        if dtype == .float32 && inside && divisorOverride != 0 {
            avgPool2dUnpaddedF32(x.assumingMemoryBound(to: Float.self), planes: planes, height: height, width: width, geometry: g,
                                 divisor: divisorOverride ?? g.kernelH * g.kernelW, backward: backward, out.assumingMemoryBound(to: Float.self))
            return
        }
        switch dtype {
        case .float32: go(x.assumingMemoryBound(to: Float.self), out.assumingMemoryBound(to: Float.self))
        case .float64: go(x.assumingMemoryBound(to: Double.self), out.assumingMemoryBound(to: Double.self))
        default: fail("avgPool2d: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }

    /// `avgPool2d` when every window lies inside the input (so every divisor is the same),
    /// float32, non-generic: the common 2×2 stride-2 case of LeNet-style networks.
    private func avgPool2dUnpaddedF32(_ src: UnsafePointer<Float>, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                                      divisor: Int, backward: Bool, _ dst: UnsafeMutablePointer<Float>) {
        let (kh, kw, sh, sw, outH, outW) = (g.kernelH, g.kernelW, g.strideH, g.strideW, g.outH, g.outW)
        let inv = 1 / Float(divisor)
        Threading.parallelFor(planes, minChunk: Swift.max(1, 16384 / Swift.max(1, height * width))) { p0, p1 in
            if kh == 2 && kw == 2 && sh == 2 && sw == 2 {
                // the C loops vectorise (these Swift ones did not: 9.5 % of lenet5 inference, 7 % of its
                // training at batch 256 for the backward)
                if backward {
                    nk_avgpool2x2_backward_f32(src + p0 * outH * outW, Int64(p1 - p0), Int64(height), Int64(width), Int64(outH), Int64(outW),
                                               inv, dst + p0 * height * width)
                } else {
                    nk_avgpool2x2_f32(src + p0 * height * width, Int64(p1 - p0), Int64(height), Int64(width), Int64(outH), Int64(outW), inv,
                                      dst + p0 * outH * outW)
                }
                return
            }
            for p in p0..<p1 {
                let plane = p * height * width, outPlane = p * outH * outW
                if backward { (dst + plane).update(repeating: 0, count: height * width) }
                for oh in 0..<outH {
                    let top = plane + oh * sh * width, o = outPlane + oh * outW
                    if backward && kh == 2 && kw == 2 && sw == 2 {
                        for ow in 0..<outW {
                            let share = src[o + ow] * inv, a = top + 2 * ow
                            dst[a] += share; dst[a + 1] += share; dst[a + width] += share; dst[a + width + 1] += share
                        }
                    } else if backward {
                        for ow in 0..<outW {
                            let share = src[o + ow] * inv, left = top + ow * sw
                            for y in 0..<kh { for xx in 0..<kw { dst[left + y * width + xx] += share } }
                        }
                    } else if kh == 2 && kw == 2 && sw == 2 {
                        for ow in 0..<outW {
                            let a = top + 2 * ow
                            dst[o + ow] = ((src[a] + src[a + 1]) + (src[a + width] + src[a + width + 1])) * inv
                        }
                    } else {
                        for ow in 0..<outW {
                            let left = top + ow * sw
                            var s: Float = 0
                            for y in 0..<kh { for xx in 0..<kw { s += src[left + y * width + xx] } }
                            dst[o + ow] = s * inv
                        }
                    }
                }
            }
        }
    }
}

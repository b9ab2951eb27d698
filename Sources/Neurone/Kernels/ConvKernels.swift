/// Geometry of a 2-D sliding window (convolution or pooling) over an [H, W] plane.
/// Output position (oh, ow) covers input rows oh·strideH − padH + i·dilationH, i < kernelH.
public struct WindowGeometry: Equatable, Sendable {
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var padH: Int, padW: Int
    public var dilationH: Int, dilationW: Int
    public var outH: Int, outW: Int
}

extension CPUBackend {
    /// Unfolds [planes = N·C, H, W] into columns [N, C·kh·kw, outH·outW] (im2col), zero outside
    /// the input. Layout: row (c·kh + i)·kw + j of sample n holds x[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw].
    func im2col(dtype: DType, _ x: UnsafeRawPointer, batch: Int, channels: Int, height: Int, width: Int,
                geometry g: WindowGeometry, _ cols: UnsafeMutableRawPointer) {
        func go<T: BinaryFloatingPoint>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>) {
            let l = g.outH * g.outW, kk = g.kernelH * g.kernelW
            Threading.parallelFor(batch * channels, minChunk: Swift.max(1, 4096 / Swift.max(1, kk * l))) { p0, p1 in
                for plane in p0..<p1 {
                    let inPlane = src + plane * height * width
                    for i in 0..<g.kernelH {
                        for j in 0..<g.kernelW {
                            let row = dst + (plane * kk + i * g.kernelW + j) * l
                            for oh in 0..<g.outH {
                                let y = oh * g.strideH - g.padH + i * g.dilationH
                                let out = row + oh * g.outW
                                if y < 0 || y >= height {
                                    for ow in 0..<g.outW { out[ow] = 0 }
                                    continue
                                }
                                let inRow = inPlane + y * width
                                let x0 = j * g.dilationW - g.padW
                                if g.strideW == 1 && x0 >= 0 && x0 + g.outW <= width {
                                    out.update(from: inRow + x0, count: g.outW)
                                } else {
                                    for ow in 0..<g.outW {
                                        let xx = ow * g.strideW + x0
                                        out[ow] = (xx >= 0 && xx < width) ? inRow[xx] : 0
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        switch dtype {
        case .float32: go(x.assumingMemoryBound(to: Float.self), cols.assumingMemoryBound(to: Float.self))
        case .float64: go(x.assumingMemoryBound(to: Double.self), cols.assumingMemoryBound(to: Double.self))
        default: fail("im2col: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }

    /// The adjoint of `im2col` (col2im): adds every column entry back to the input position it
    /// was read from. `x` must be zeroed by the caller.
    func col2im(dtype: DType, _ cols: UnsafeRawPointer, batch: Int, channels: Int, height: Int, width: Int,
                geometry g: WindowGeometry, _ x: UnsafeMutableRawPointer) {
        func go<T: BinaryFloatingPoint>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>) {
            let l = g.outH * g.outW, kk = g.kernelH * g.kernelW
            Threading.parallelFor(batch * channels, minChunk: Swift.max(1, 4096 / Swift.max(1, kk * l))) { p0, p1 in
                for plane in p0..<p1 {
                    let outPlane = dst + plane * height * width
                    for i in 0..<g.kernelH {
                        for j in 0..<g.kernelW {
                            let row = src + (plane * kk + i * g.kernelW + j) * l
                            for oh in 0..<g.outH {
                                let y = oh * g.strideH - g.padH + i * g.dilationH
                                if y < 0 || y >= height { continue }
                                let colRow = row + oh * g.outW
                                let xRow = outPlane + y * width
                                let x0 = j * g.dilationW - g.padW
                                for ow in 0..<g.outW {
                                    let xx = ow * g.strideW + x0
                                    if xx >= 0 && xx < width { xRow[xx] += colRow[ow] }
                                }
                            }
                        }
                    }
                }
            }
        }
        switch dtype {
        case .float32: go(cols.assumingMemoryBound(to: Float.self), x.assumingMemoryBound(to: Float.self))
        case .float64: go(cols.assumingMemoryBound(to: Double.self), x.assumingMemoryBound(to: Double.self))
        default: fail("col2im: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }

    /// Max pooling over [planes, H, W] → [planes, outH, outW], with the flat index (y·W + x) of
    /// each maximum (the first on ties; NaN wins). Positions outside the input are skipped.
    func maxPool2d(dtype: DType, _ x: UnsafeRawPointer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                   _ out: UnsafeMutableRawPointer, indices: UnsafeMutablePointer<Int64>) {
        func go<T: BinaryFloatingPoint>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>) {
            Threading.parallelFor(planes, minChunk: Swift.max(1, 16384 / Swift.max(1, height * width))) { p0, p1 in
                for p in p0..<p1 {
                    let plane = src + p * height * width
                    for oh in 0..<g.outH {
                        for ow in 0..<g.outW {
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
                            indices[o] = Int64(Swift.max(bestIdx, 0))
                        }
                    }
                }
            }
        }
        switch dtype {
        case .float32: go(x.assumingMemoryBound(to: Float.self), out.assumingMemoryBound(to: Float.self))
        case .float64: go(x.assumingMemoryBound(to: Double.self), out.assumingMemoryBound(to: Double.self))
        default: fail("maxPool2d: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }

    /// Average pooling with PyTorch's divisor rules: the window is clipped to the padded input
    /// (ceil mode can run past it); the divisor is the clipped window's size when padding counts,
    /// else the number of real input elements in it, unless `divisorOverride` is given.
    /// With `backward`, `x` is the output gradient and `out` (zeroed) the input gradient.
    func avgPool2d(dtype: DType, _ x: UnsafeRawPointer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                   countIncludePad: Bool, divisorOverride: Int?, backward: Bool, _ out: UnsafeMutableRawPointer) {
        func go<T: BinaryFloatingPoint>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>) {
            Threading.parallelFor(planes, minChunk: Swift.max(1, 16384 / Swift.max(1, height * width))) { p0, p1 in
                for p in p0..<p1 {
                    for oh in 0..<g.outH {
                        for ow in 0..<g.outW {
                            var h0 = oh * g.strideH - g.padH, w0 = ow * g.strideW - g.padW
                            var h1 = Swift.min(h0 + g.kernelH, height + g.padH), w1 = Swift.min(w0 + g.kernelW, width + g.padW)
                            let poolSize = (h1 - h0) * (w1 - w0)
                            h0 = Swift.max(h0, 0); w0 = Swift.max(w0, 0)
                            h1 = Swift.min(h1, height); w1 = Swift.min(w1, width)
                            let divisor = divisorOverride ?? (countIncludePad ? poolSize : (h1 - h0) * (w1 - w0))
                            let o = (p * g.outH + oh) * g.outW + ow
                            if backward {
                                let share = src[o] / T(divisor)
                                for y in h0..<Swift.max(h0, h1) { for xx in w0..<Swift.max(w0, w1) { dst[(p * height + y) * width + xx] += share } }
                            } else {
                                var s: T = 0
                                for y in h0..<Swift.max(h0, h1) { for xx in w0..<Swift.max(w0, w1) { s += src[(p * height + y) * width + xx] } }
                                dst[o] = divisor == 0 ? T.nan : s / T(divisor)
                            }
                        }
                    }
                }
            }
        }
        switch dtype {
        case .float32: go(x.assumingMemoryBound(to: Float.self), out.assumingMemoryBound(to: Float.self))
        case .float64: go(x.assumingMemoryBound(to: Double.self), out.assumingMemoryBound(to: Double.self))
        default: fail("avgPool2d: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }
}

import NeuroneDevice

/// The reference backend's sliding-window kernels: im2col/col2im and pooling, one output
/// position at a time, straight from the geometry's definition (WindowGeometry): output (oh, ow)
/// covers input rows oh·strideH − padH + i·dilationH and columns ow·strideW − padW + j·dilationW.
extension ReferenceBackend {
    package func im2col(dtype: DType, _ x: DeviceBuffer, batch: Int, channels: Int, height: Int, width: Int,
                        geometry g: WindowGeometry, _ cols: DeviceBuffer, sampleStride: Int?, rowStride: Int?) {
        check(dtype.isFloatingPoint, "im2col: dtype \(dtype) is not supported (float32 or float64 expected)")
        let src = Elements(x, dtype), dst = Elements(cols, dtype)
        forEachColumnEntry(batch: batch, channels: channels, height: height, width: width, geometry: g,
                           sampleStride: sampleStride, rowStride: rowStride) { column, input in
            dst[column] = input.map { src[$0] } ?? 0
        }
    }

    /// The adjoint of `im2col`: every column entry added back to the input position it was read from.
    package func col2im(dtype: DType, _ cols: DeviceBuffer, batch: Int, channels: Int, height: Int, width: Int,
                        geometry g: WindowGeometry, _ x: DeviceBuffer, sampleStride: Int?, rowStride: Int?) {
        check(dtype.isFloatingPoint, "col2im: dtype \(dtype) is not supported (float32 or float64 expected)")
        let src = Elements(cols, dtype), dst = Elements(x, dtype)
        forEachColumnEntry(batch: batch, channels: channels, height: height, width: width, geometry: g,
                           sampleStride: sampleStride, rowStride: rowStride) { column, input in
            if let at = input { dst[at] = dst[at] + src[column] }
        }
    }

    /// Calls `body(column index, input index or nil when the tap falls outside the input)` for
    /// every entry of the columns: row r = (c·kh + i)·kw + j of sample n, position oh·outW + ow,
    /// at n·sampleStride + r·rowStride + position ([N, C·kh·kw, L] by default).
    private func forEachColumnEntry(batch: Int, channels: Int, height: Int, width: Int, geometry g: WindowGeometry,
                                    sampleStride: Int?, rowStride: Int?, _ body: (Int, Int?) -> Void) {
        let l = g.outH * g.outW, k = channels * g.kernelH * g.kernelW
        let ss = sampleStride ?? k * l, rs = rowStride ?? l
        for n in 0..<batch {
            for c in 0..<channels {
                for i in 0..<g.kernelH {
                    for j in 0..<g.kernelW {
                        let row = (c * g.kernelH + i) * g.kernelW + j
                        for oh in 0..<g.outH {
                            for ow in 0..<g.outW {
                                let y = oh * g.strideH - g.padH + i * g.dilationH, xx = ow * g.strideW - g.padW + j * g.dilationW
                                let inside = y >= 0 && y < height && xx >= 0 && xx < width
                                body(n * ss + row * rs + oh * g.outW + ow, inside ? ((n * channels + c) * height + y) * width + xx : nil)
                            }
                        }
                    }
                }
            }
        }
    }

    package func maxPool2d(dtype: DType, _ x: DeviceBuffer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                           _ out: DeviceBuffer, indices: DeviceBuffer?) {
        check(dtype.isFloatingPoint, "maxPool2d: dtype \(dtype) is not supported (float32 or float64 expected)")
        let src = Elements(x, dtype), dst = Elements(out, dtype)
        for p in 0..<planes {
            for oh in 0..<g.outH {
                for ow in 0..<g.outW {
                    // the first maximum in window order wins; a NaN wins over everything
                    var best = -1
                    search: for i in 0..<g.kernelH {
                        for j in 0..<g.kernelW {
                            let y = oh * g.strideH - g.padH + i * g.dilationH, xx = ow * g.strideW - g.padW + j * g.dilationW
                            guard y >= 0 && y < height && xx >= 0 && xx < width else { continue }
                            let at = y * width + xx
                            let v = src[p * height * width + at]
                            if best < 0 || v.isNaN || v > src[p * height * width + best] { best = at }
                            if v.isNaN { break search }
                        }
                    }
                    let o = (p * g.outH + oh) * g.outW + ow
                    dst[o] = best < 0 ? -Double.infinity : src[p * height * width + best]
                    if let idx = indices { Elements(idx, .int64).setInt(o, Int64(Swift.max(best, 0))) }
                }
            }
        }
    }

    package func maxPool2dBackward(dtype: DType, _ grad: DeviceBuffer, indices: DeviceBuffer, planes: Int, height: Int, width: Int,
                                   geometry g: WindowGeometry, _ dx: DeviceBuffer) {
        let src = Elements(grad, dtype), dst = Elements(dx, dtype), idx = Elements(indices, .int64)
        let outCount = g.outH * g.outW, inCount = height * width
        for i in 0..<planes * inCount { dst[i] = 0 }
        for p in 0..<planes {
            for o in 0..<outCount {
                let at = p * inCount + Int(idx.int(p * outCount + o))
                dst[at] = dst[at] + src[p * outCount + o]
            }
        }
    }

    /// PyTorch's average pooling, its windows from `WindowGeometry.averagePoolingWindow`.
    package func avgPool2d(dtype: DType, _ x: DeviceBuffer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                           countIncludePad: Bool, divisorOverride: Int?, backward: Bool, _ out: DeviceBuffer) {
        check(dtype.isFloatingPoint, "avgPool2d: dtype \(dtype) is not supported (float32 or float64 expected)")
        let src = Elements(x, dtype), dst = Elements(out, dtype)
        if backward { for i in 0..<planes * height * width { dst[i] = 0 } }
        for p in 0..<planes {
            for oh in 0..<g.outH {
                for ow in 0..<g.outW {
                    let (rows, columns, divisor) = g.averagePoolingWindow(oh, ow, height: height, width: width,
                                                                          countIncludePad: countIncludePad, divisorOverride: divisorOverride)
                    let o = (p * g.outH + oh) * g.outW + ow
                    if backward {
                        let share = src[o] / Double(divisor)
                        for y in rows { for xx in columns { let at = (p * height + y) * width + xx; dst[at] = dst[at] + share } }
                    } else {
                        var sum = 0.0
                        for y in rows { for xx in columns { sum += src[(p * height + y) * width + xx] } }
                        dst[o] = divisor == 0 ? .nan : sum / Double(divisor)
                    }
                }
            }
        }
    }
}

import NeuroneDevice
import CNeuroneKernels

/// The CPU's layer normalisation: one pass for the row's mean and variance (two sums in Double),
/// one for the output; rows spread over the threads. The backward pass computes dL/dx by rows and
/// dL/dw, dL/db by columns (each thread a range of columns over every row), so that their sums do
/// not depend on the thread count. float32 runs layernorm.c's kernels (the same sums in vector
/// lanes of doubles); float64 the loops here.
extension CPUBackend {
    package func layerNorm(dtype: DType, rows: Int, cols: Int, x: DeviceBuffer, weight: DeviceBuffer?, bias: DeviceBuffer?, eps: Double,
                           out: DeviceBuffer, mean: DeviceBuffer?, rstd: DeviceBuffer?) {
        switch dtype {
        case .float32:
            func p(_ b: DeviceBuffer?) -> UnsafeMutablePointer<Float>? { b?.pointer.assumingMemoryBound(to: Float.self) }
            let (xp, w, b, yp, mp, rp) = (p(x), p(weight), p(bias), p(out), p(mean), p(rstd))
            Threading.parallelFor(rows, minChunk: Swift.max(1, 16384 / Swift.max(1, cols))) { r0, r1 in
                nk_layer_norm_f32(Int64(r0), Int64(r1), Int64(cols), xp, w, b, eps, yp, mp, rp)
            }
        case .float64: layerNormRows(Double.self, rows, cols, x, weight, bias, eps, out, mean, rstd)
        default: check(false, "layerNorm: float32 or float64, got \(dtype)")
        }
    }

    private func layerNormRows<T: BinaryFloatingPoint>(_: T.Type, _ rows: Int, _ cols: Int, _ x: DeviceBuffer, _ weight: DeviceBuffer?,
                                                       _ bias: DeviceBuffer?, _ eps: Double, _ out: DeviceBuffer, _ mean: DeviceBuffer?,
                                                       _ rstd: DeviceBuffer?) {
        func p(_ b: DeviceBuffer) -> UnsafeMutablePointer<T> { b.pointer.assumingMemoryBound(to: T.self) }
        let xp = p(x), yp = p(out), w = weight.map(p), b = bias.map(p), mp = mean.map(p), rp = rstd.map(p)
        Threading.parallelFor(rows, minChunk: Swift.max(1, 16384 / Swift.max(1, cols))) { r0, r1 in
            for r in r0..<r1 {
                let xr = xp + r * cols, yr = yp + r * cols
                var sum = 0.0
                for j in 0..<cols { sum += Double(xr[j]) }
                let mu = sum / Double(cols)
                var sq = 0.0
                for j in 0..<cols { let d = Double(xr[j]) - mu; sq += d * d }
                let rs = 1 / (sq / Double(cols) + eps).squareRoot()
                let m = T(mu), s = T(rs)
                switch (w, b) {
                case let (w?, b?): for j in 0..<cols { yr[j] = (xr[j] - m) * s * w[j] + b[j] }
                case let (w?, nil): for j in 0..<cols { yr[j] = (xr[j] - m) * s * w[j] }
                default: for j in 0..<cols { yr[j] = (xr[j] - m) * s + (b?[j] ?? 0) }
                }
                mp?[r] = m
                rp?[r] = s
            }
        }
    }

    package func layerNormBackward(dtype: DType, rows: Int, cols: Int, x: DeviceBuffer, weight: DeviceBuffer?, mean: DeviceBuffer, rstd: DeviceBuffer,
                                   gradOut: DeviceBuffer, gradIn: DeviceBuffer?, gradWeight: DeviceBuffer?, gradBias: DeviceBuffer?) {
        switch dtype {
        case .float32:
            func p(_ b: DeviceBuffer?) -> UnsafeMutablePointer<Float>? { b?.pointer.assumingMemoryBound(to: Float.self) }
            let (xp, w, mp, rp, go) = (p(x), p(weight), p(mean), p(rstd), p(gradOut))
            if let gi = p(gradIn) {
                Threading.parallelFor(rows, minChunk: Swift.max(1, 16384 / Swift.max(1, cols))) { r0, r1 in
                    nk_layer_norm_backward_rows_f32(Int64(r0), Int64(r1), Int64(cols), xp, w, mp, rp, go, gi)
                }
            }
            guard gradWeight != nil || gradBias != nil else { return }
            let (gw, gb) = (p(gradWeight), p(gradBias))
            Threading.parallelFor(cols, minChunk: Swift.max(16, 16384 / Swift.max(1, rows))) { c0, c1 in
                nk_layer_norm_backward_cols_f32(Int64(rows), Int64(cols), Int64(c0), Int64(c1), xp, mp, rp, go, gw, gb)
            }
        case .float64: layerNormBackwardRows(Double.self, rows, cols, x, weight, mean, rstd, gradOut, gradIn, gradWeight, gradBias)
        default: check(false, "layerNormBackward: float32 or float64, got \(dtype)")
        }
    }

    private func layerNormBackwardRows<T: BinaryFloatingPoint>(_: T.Type, _ rows: Int, _ cols: Int, _ x: DeviceBuffer, _ weight: DeviceBuffer?,
                                                               _ mean: DeviceBuffer, _ rstd: DeviceBuffer, _ gradOut: DeviceBuffer,
                                                               _ gradIn: DeviceBuffer?, _ gradWeight: DeviceBuffer?, _ gradBias: DeviceBuffer?) {
        func p(_ b: DeviceBuffer) -> UnsafeMutablePointer<T> { b.pointer.assumingMemoryBound(to: T.self) }
        let xp = p(x), go = p(gradOut), mp = p(mean), rp = p(rstd), w = weight.map(p)
        if let gi = gradIn.map(p) {
            Threading.parallelFor(rows, minChunk: Swift.max(1, 16384 / Swift.max(1, cols))) { r0, r1 in
                for r in r0..<r1 {
                    let xr = xp + r * cols, gr = go + r * cols, dr = gi + r * cols, m = mp[r], s = rp[r]
                    var sumG = 0.0, sumGX = 0.0
                    for j in 0..<cols {
                        let g = gr[j] * (w?[j] ?? 1), xhat = (xr[j] - m) * s
                        sumG += Double(g)
                        sumGX += Double(g * xhat)
                    }
                    let a = T(sumG / Double(cols)), c = T(sumGX / Double(cols))
                    for j in 0..<cols {
                        let g = gr[j] * (w?[j] ?? 1), xhat = (xr[j] - m) * s
                        dr[j] = s * (g - a - xhat * c)
                    }
                }
            }
        }
        guard gradWeight != nil || gradBias != nil else { return }
        let gw = gradWeight.map(p), gb = gradBias.map(p)
        Threading.parallelFor(cols, minChunk: Swift.max(8, 16384 / Swift.max(1, rows))) { c0, c1 in
            let n = c1 - c0
            var dw = [Double](repeating: 0, count: n), db = [Double](repeating: 0, count: n)
            dw.withUnsafeMutableBufferPointer { dwp in
                db.withUnsafeMutableBufferPointer { dbp in
                    for r in 0..<rows {
                        let xr = xp + r * cols + c0, gr = go + r * cols + c0, m = mp[r], s = rp[r]
                        for j in 0..<n {
                            let dy = gr[j]
                            dwp[j] += Double(dy * ((xr[j] - m) * s))
                            dbp[j] += Double(dy)
                        }
                    }
                    for j in 0..<n { gw?[c0 + j] = T(dwp[j]); gb?[c0 + j] = T(dbp[j]) }
                }
            }
        }
    }
}

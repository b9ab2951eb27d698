import NeuroneDevice

/// Layer normalisation written from its definition, one row at a time in Double.
extension ReferenceBackend {
    package func layerNorm(dtype: DType, rows: Int, cols: Int, x: DeviceBuffer, weight: DeviceBuffer?, bias: DeviceBuffer?, eps: Double,
                           out: DeviceBuffer, mean: DeviceBuffer?, rstd: DeviceBuffer?) {
        let xe = Elements(x, dtype), ye = Elements(out, dtype)
        let w = weight.map { Elements($0, dtype) }, b = bias.map { Elements($0, dtype) }
        let me = mean.map { Elements($0, dtype) }, re = rstd.map { Elements($0, dtype) }
        for r in 0..<rows {
            var mu = 0.0
            for j in 0..<cols { mu += xe[r * cols + j] }
            mu /= Double(cols)
            var v = 0.0
            for j in 0..<cols { let d = xe[r * cols + j] - mu; v += d * d }
            let rs = 1 / (v / Double(cols) + eps).squareRoot()
            for j in 0..<cols { ye[r * cols + j] = (xe[r * cols + j] - mu) * rs * (w?[j] ?? 1) + (b?[j] ?? 0) }
            me?[r] = mu
            re?[r] = rs
        }
    }

    package func layerNormBackward(dtype: DType, rows: Int, cols: Int, x: DeviceBuffer, weight: DeviceBuffer?, mean: DeviceBuffer, rstd: DeviceBuffer,
                                   gradOut: DeviceBuffer, gradIn: DeviceBuffer?, gradWeight: DeviceBuffer?, gradBias: DeviceBuffer?) {
        let xe = Elements(x, dtype), go = Elements(gradOut, dtype), me = Elements(mean, dtype), re = Elements(rstd, dtype)
        let w = weight.map { Elements($0, dtype) }
        var dw = [Double](repeating: 0, count: cols), db = [Double](repeating: 0, count: cols)
        for r in 0..<rows {
            let mu = me[r], rs = re[r]
            var meanG = 0.0, meanGX = 0.0
            for j in 0..<cols {
                let xhat = (xe[r * cols + j] - mu) * rs, dy = go[r * cols + j], g = dy * (w?[j] ?? 1)
                meanG += g
                meanGX += g * xhat
                dw[j] += dy * xhat
                db[j] += dy
            }
            meanG /= Double(cols)
            meanGX /= Double(cols)
            if let gi = gradIn.map({ Elements($0, dtype) }) {
                for j in 0..<cols {
                    let xhat = (xe[r * cols + j] - mu) * rs, g = go[r * cols + j] * (w?[j] ?? 1)
                    gi[r * cols + j] = rs * (g - meanG - xhat * meanGX)
                }
            }
        }
        if let gw = gradWeight.map({ Elements($0, dtype) }) { for j in 0..<cols { gw[j] = dw[j] } }
        if let gb = gradBias.map({ Elements($0, dtype) }) { for j in 0..<cols { gb[j] = db[j] } }
    }
}

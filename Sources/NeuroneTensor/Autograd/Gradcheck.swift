import NeuroneDevice

/// The outcome of `gradcheck`.
public struct GradcheckResult: CustomStringConvertible {
    /// True when every analytic derivative matched its finite-difference estimate.
    public let passed: Bool
    /// Largest |analytic − numeric| over all Jacobian entries.
    public let maxAbsError: Double
    /// What failed first (input, element, output, both values), or "ok".
    public let message: String

    public var description: String { passed ? "gradcheck passed (max abs error \(maxAbsError))" : "gradcheck failed: \(message)" }
}

/// Compares the Jacobian that autograd computes for `f` with central finite differences,
/// (f(x + ε) − f(x − ε)) / 2ε, entry by entry, in float64 (like torch.autograd.gradcheck).
///
/// Floating-point inputs are copied to float64 leaves that require grad; other inputs are
/// passed through unchanged. Entry (j, k) passes when |analytic − numeric| ≤ atol + rtol·|numeric|.
/// The cost is one backward pass per output element and two forward passes per input element:
/// use small shapes.
@discardableResult
public func gradcheck(_ f: ([Tensor]) -> Tensor, inputs: [Tensor], eps: Double = 1e-6,
                      atol: Double = 1e-5, rtol: Double = 1e-3) -> GradcheckResult {
    let xs: [Tensor] = inputs.map { t in
        guard t.dtype.isFloatingPoint else { return t }
        let c = withNoGrad { t.to(.float64).contiguousCopy() }
        c.requiresGrad = true
        return c
    }
    let checked = xs.indices.filter { xs[$0].dtype.isFloatingPoint }

    func evaluate() -> [Double] { withNoGrad { f(xs).to(.float64).toArray(as: Double.self) } }

    // Numeric Jacobian: numeric[i][j][k] = ∂out_k / ∂x_i[j].
    var numeric: [[[Double]]] = []
    for i in checked {
        let x = xs[i]
        // Nudges one value at a time through explicit host writes.
        func set(_ j: Int, _ v: Double) { x.modifyHostBytes { $0.assumingMemoryBound(to: Double.self)[j] = v } }
        let values = x.toArray(as: Double.self)
        var rows: [[Double]] = []
        for j in 0..<x.count {
            let saved = values[j]
            set(j, saved + eps)
            let plus = evaluate()
            set(j, saved - eps)
            let minus = evaluate()
            set(j, saved)
            rows.append(zip(plus, minus).map { ($0 - $1) / (2 * eps) })
        }
        numeric.append(rows)
    }

    // Analytic Jacobian: one backward pass per output element.
    let y = withGrad { f(xs) }
    let outCount = y.count
    var analytic: [[[Double]]] = checked.map { i in Array(repeating: Array(repeating: 0.0, count: outCount), count: xs[i].count) }
    if y.requiresGrad {
        for k in 0..<outCount {
            for i in checked { xs[i].grad = nil }
            var seed = [Double](repeating: 0, count: outCount)
            seed[k] = 1
            y.backward(Tensor(seed, shape: y.shape, dtype: y.dtype), retainGraph: true)
            for (ci, i) in checked.enumerated() {
                guard let g = xs[i].grad else { continue }
                let gv = g.toArray(as: Double.self)
                for j in 0..<gv.count { analytic[ci][j][k] = gv[j] }
            }
        }
    }

    var maxErr = 0.0
    var firstFailure: String? = nil
    for (ci, i) in checked.enumerated() {
        for j in 0..<xs[i].count {
            for k in 0..<outCount {
                let a = analytic[ci][j][k], n = numeric[ci][j][k]
                let err = Swift.abs(a - n)
                if !(err <= atol + rtol * Swift.abs(n)) {
                    if firstFailure == nil {
                        firstFailure = "input \(i) (shape \(describeShape(xs[i].shape))) element \(j), output element \(k): analytic \(a) vs numeric \(n)"
                    }
                }
                if err.isNaN { maxErr = .nan } else if !maxErr.isNaN { maxErr = Swift.max(maxErr, err) }
            }
        }
    }
    return GradcheckResult(passed: firstFailure == nil, maxAbsError: maxErr, message: firstFailure ?? "ok")
}

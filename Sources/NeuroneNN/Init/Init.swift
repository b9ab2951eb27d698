import NeuroneDevice
import NeuroneTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// In-place initialisers with PyTorch's formulas (`torch.nn.init`), all drawing from a
/// `Generator` (the default one when none is given).
public enum Init {
    /// (fan_in, fan_out) of a weight: [out, in] for a matrix; [out, in, k…] for a convolution,
    /// multiplied by the receptive field size.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        check(shape.count >= 2, "Init: fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions (shape \(describeShape(shape)))")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    private static func fillWith(_ t: Tensor, _ make: () -> Tensor) {
        withNoGrad { t.copy(from: make()) }
    }

    /// Every element set to `value`.
    public static func constant(_ t: Tensor, _ value: Double) { withNoGrad { t.fill(value) } }
    /// Every element set to 0.
    public static func zeros(_ t: Tensor) { constant(t, 0) }
    /// Every element set to 1.
    public static func ones(_ t: Tensor) { constant(t, 1) }

    /// U[low, high).
    public static func uniform(_ t: Tensor, low: Double = 0, high: Double = 1, generator: Generator? = nil) {
        fillWith(t) { Tensor.uniform(t.shape, low: low, high: high, dtype: t.dtype, generator: generator) }
    }

    /// N(mean, std²).
    public static func normal(_ t: Tensor, mean: Double = 0, std: Double = 1, generator: Generator? = nil) {
        fillWith(t) { Tensor.normal(t.shape, mean: mean, std: std, dtype: t.dtype, generator: generator) }
    }

    /// Glorot & Bengio's "standard" initialisation U[−1/√fan_in, 1/√fan_in] (PyTorch's default
    /// for Linear and Conv weights and biases).
    public static func standard(_ t: Tensor, fanIn: Int? = nil, generator: Generator? = nil) {
        let n = fanIn ?? fans(t.shape).fanIn
        let bound = n > 0 ? 1 / Double(n).squareRoot() : 0
        uniform(t, low: -bound, high: bound, generator: generator)
    }

    /// A new tensor drawn from the "standard" U[−1/√fan_in, 1/√fan_in]: PyTorch's default for the
    /// weights and biases of Linear and convolution layers.
    public static func standardTensor(_ shape: [Int], fanIn: Int, dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
        let t = Tensor.zeros(shape, dtype: dtype)
        standard(t, fanIn: fanIn, generator: generator)
        return t
    }

    /// Glorot/Xavier "normalised" uniform: U[−a, a], a = gain·√(6/(fan_in + fan_out)).
    public static func xavierUniform(_ t: Tensor, gain: Double = 1, generator: Generator? = nil) {
        let (i, o) = fans(t.shape)
        let a = gain * (6.0 / Double(i + o)).squareRoot()
        uniform(t, low: -a, high: a, generator: generator)
    }

    /// Glorot/Xavier normal: N(0, σ²), σ = gain·√(2/(fan_in + fan_out)).
    public static func xavierNormal(_ t: Tensor, gain: Double = 1, generator: Generator? = nil) {
        let (i, o) = fans(t.shape)
        normal(t, mean: 0, std: gain * (2.0 / Double(i + o)).squareRoot(), generator: generator)
    }

    /// He/Kaiming uniform: U[−b, b], b = gain·√(3/fan), gain for `nonlinearity`.
    public static func kaimingUniform(_ t: Tensor, mode: FanMode = .fanIn, nonlinearity: Nonlinearity = .leakyRelu(negativeSlope: 0),
                                      generator: Generator? = nil) {
        let (i, o) = fans(t.shape)
        let fan = mode == .fanIn ? i : o
        let bound = fan > 0 ? nonlinearity.gain * (3.0 / Double(fan)).squareRoot() : 0
        uniform(t, low: -bound, high: bound, generator: generator)
    }

    /// He/Kaiming normal: N(0, σ²), σ = gain/√fan.
    public static func kaimingNormal(_ t: Tensor, mode: FanMode = .fanIn, nonlinearity: Nonlinearity = .leakyRelu(negativeSlope: 0),
                                     generator: Generator? = nil) {
        let (i, o) = fans(t.shape)
        let fan = mode == .fanIn ? i : o
        normal(t, mean: 0, std: fan > 0 ? nonlinearity.gain / Double(fan).squareRoot() : 0, generator: generator)
    }

    /// A (semi-)orthogonal matrix (rows flattened as [shape[0], rest]) scaled by `gain`, from the
    /// QR decomposition of a normal matrix with R's diagonal made positive (Saxe et al. 2013).
    public static func orthogonal(_ t: Tensor, gain: Double = 1, generator: Generator? = nil) {
        check(t.rank >= 2, "Init.orthogonal: only tensors with 2 or more dimensions are supported, got shape \(describeShape(t.shape))")
        let rows = t.shape[0], cols = t.count / rows
        let g = generator ?? Generator.default
        let tall = rows >= cols
        let m = tall ? rows : cols, n = tall ? cols : rows   // work on an m×n matrix with m ≥ n
        var a = [Double](repeating: 0, count: m * n)          // column-major columns a[j*m + i]
        for i in 0..<(rows * cols) {
            let r = i / cols, c = i % cols
            let (ii, jj) = tall ? (r, c) : (c, r)
            a[jj * m + ii] = g.nextNormal()
        }
        // Modified Gram–Schmidt: columns become orthonormal; r_jj > 0 by construction, which is
        // the same Q as Householder QR followed by multiplying by sign(diag R).
        for j in 0..<n {
            for k in 0..<j {
                var dot = 0.0
                for i in 0..<m { dot += a[k * m + i] * a[j * m + i] }
                for i in 0..<m { a[j * m + i] -= dot * a[k * m + i] }
            }
            var norm = 0.0
            for i in 0..<m { norm += a[j * m + i] * a[j * m + i] }
            norm = norm.squareRoot()
            for i in 0..<m { a[j * m + i] /= norm }
        }
        var values = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                let (ii, jj) = tall ? (r, c) : (c, r)
                values[r * cols + c] = gain * a[jj * m + ii]
            }
        }
        withNoGrad { t.copy(from: Tensor(values, shape: t.shape, dtype: t.dtype)) }
    }
}

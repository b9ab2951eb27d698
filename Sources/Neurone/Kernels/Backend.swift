/// Elementwise functions of one tensor.
public enum UnaryOp: String, Sendable {
    case neg, abs, sqrt, exp, log, log1p, sin, cos, tanh, sigmoid, relu, sign, reciprocal, erf

    /// True for the functions only defined on floating-point values (integer inputs are promoted).
    public var needsFloatingPoint: Bool {
        switch self {
        case .neg, .abs, .relu, .sign: return false
        default: return true
        }
    }

    /// True for the functions whose cost is arithmetic rather than memory (they split across
    /// threads at smaller sizes).
    var isTranscendental: Bool {
        switch self {
        case .exp, .sigmoid, .tanh, .log, .log1p, .sin, .cos, .erf: return true
        default: return false
        }
    }
}

/// Elementwise functions of two tensors (after broadcasting).
public enum BinaryOp: String, Sendable {
    case add, sub, mul, div, pow, minimum, maximum
}

/// Elementwise comparisons; the result is a bool tensor.
public enum CompareOp: String, Sendable {
    case eq, ne, lt, le, gt, ge
}

/// Reductions along one axis of a contiguous [outer, size, inner] block.
public enum ReduceOp: String, Sendable {
    case sum, max, min, argmax, argmin
}

/// The kernels a device must provide. Every buffer is contiguous unless strides are given;
/// pointers are raw and typed by `dtype`. Shapes and strides are in elements.
/// The tensor layer (Tensor/, Autograd/) only talks to devices through this protocol.
protocol Backend {
    /// dst[idx] = src[idx] over `shape`, with arbitrary element strides on both sides.
    func copyStrided(elemSize: Int, shape: [Int], src: UnsafeRawPointer, srcStrides: [Int],
                     dst: UnsafeMutableRawPointer, dstStrides: [Int])
    /// Converts `count` elements between dtypes.
    func cast(_ src: UnsafeRawPointer, from: DType, _ dst: UnsafeMutableRawPointer, to: DType, count: Int)
    /// Sets `count` elements to `value`.
    func fill(_ dst: UnsafeMutableRawPointer, dtype: DType, count: Int, value: Double)
    /// dst[i] = op(src[i]).
    func unary(_ op: UnaryOp, dtype: DType, _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, count: Int)
    /// The gradient of a float activation in one pass: out = g · f′, with f′ from `saved`, the
    /// input x for relu (0 where x ≤ 0, else 1: a NaN input passes g, as in PyTorch) and the output y for tanh (1 − y²) and sigmoid (y(1 − y)).
    func activationGrad(_ op: UnaryOp, dtype: DType, _ g: UnsafeRawPointer, _ saved: UnsafeRawPointer,
                        _ out: UnsafeMutableRawPointer, count: Int)
    /// dst[i] = clamp(src[i], lo, hi) (either bound may be nil).
    func clamp(dtype: DType, _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, count: Int, min lo: Double?, max hi: Double?)
    /// out[i] = a[i·aStep] op b[i·bStep]; steps are 0 (broadcast scalar) or 1.
    func binary(_ op: BinaryOp, dtype: DType, _ a: UnsafeRawPointer, aStep: Int, _ b: UnsafeRawPointer, bStep: Int,
                _ out: UnsafeMutableRawPointer, count: Int)
    /// out[i] = a[i·aStep] op b[i·bStep] as bool.
    func compare(_ op: CompareOp, dtype: DType, _ a: UnsafeRawPointer, aStep: Int, _ b: UnsafeRawPointer, bStep: Int,
                 _ out: UnsafeMutableRawPointer, count: Int)
    /// out[i] = cond[i] ? a[i] : b[i].
    func select(dtype: DType, cond: UnsafeRawPointer, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer,
                _ out: UnsafeMutableRawPointer, count: Int)
    /// Reduces axis 1 of a contiguous [outer, size, inner] buffer into [outer, inner].
    /// argmax/argmin write int64 indices to `out`; max/min also write them to `indices` when given.
    func reduce(_ op: ReduceOp, dtype: DType, _ src: UnsafeRawPointer, outer: Int, size: Int, inner: Int,
                _ out: UnsafeMutableRawPointer, indices: UnsafeMutablePointer<Int64>?)
    /// Batched GEMM on float32/float64: for each batch b, C_b = alpha·op(A_b)·op(B_b) + beta·C_b,
    /// with A_b at a + b·strideA (elements); a stride of 0 reuses one matrix for every batch.
    func gemm(dtype: DType, batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
              _ a: UnsafeRawPointer, lda: Int, strideA: Int, _ b: UnsafeRawPointer, ldb: Int, strideB: Int,
              beta: Double, _ c: UnsafeMutableRawPointer, ldc: Int, strideC: Int)
    /// Gathers along axis 1 of [outer, srcSize, inner]: out[o, j, i] = src[o, index[o, j, i], i]
    /// with index and out shaped [outer, idxSize, inner]. When `shared` is true the index is one
    /// vector of length idxSize used for every (o, i) (index_select).
    func gather(elemSize: Int, _ src: UnsafeRawPointer, outer: Int, srcSize: Int, inner: Int,
                index: UnsafePointer<Int64>, idxSize: Int, shared: Bool, _ out: UnsafeMutableRawPointer)
    /// The adjoint of `gather`: dst[o, index[o, j, i], i] += src[o, j, i].
    func scatterAdd(dtype: DType, _ src: UnsafeRawPointer, outer: Int, idxSize: Int, inner: Int,
                    index: UnsafePointer<Int64>, shared: Bool, _ dst: UnsafeMutableRawPointer, dstSize: Int)
    /// im2col: [N, C, H, W] → columns, laid out [N, C·kh·kw, outH·outW] by default or with the
    /// given strides (see `CPUBackend.im2col`).
    func im2col(dtype: DType, _ x: UnsafeRawPointer, batch: Int, channels: Int, height: Int, width: Int,
                geometry g: WindowGeometry, _ cols: UnsafeMutableRawPointer, sampleStride: Int?, rowStride: Int?)
    /// col2im, the adjoint of im2col, accumulating into a zeroed `x`.
    func col2im(dtype: DType, _ cols: UnsafeRawPointer, batch: Int, channels: Int, height: Int, width: Int,
                geometry g: WindowGeometry, _ x: UnsafeMutableRawPointer, sampleStride: Int?, rowStride: Int?)
    /// Max pooling with the flat index of each maximum (none written when `indices` is nil).
    func maxPool2d(dtype: DType, _ x: UnsafeRawPointer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                   _ out: UnsafeMutableRawPointer, indices: UnsafeMutablePointer<Int64>?)
    /// The adjoint of max pooling: dx[plane, indices[o]] += g[o], each plane of dx cleared first.
    func maxPool2dBackward(dtype: DType, _ g: UnsafeRawPointer, indices: UnsafePointer<Int64>, planes: Int, outCount: Int,
                           inCount: Int, _ dx: UnsafeMutableRawPointer)
    /// Average pooling, forward or (with `backward`) its adjoint.
    func avgPool2d(dtype: DType, _ x: UnsafeRawPointer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                   countIncludePad: Bool, divisorOverride: Int?, backward: Bool, _ out: UnsafeMutableRawPointer)
}

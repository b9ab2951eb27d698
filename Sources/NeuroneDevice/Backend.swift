/// The kernels a device must provide. Every buffer is a `DeviceBuffer` of the device's own
/// memory, typed by `dtype` and contiguous unless strides are given; shapes and strides are in
/// elements. The tensor layer (Tensor/, Autograd/, NN/, Optim/) talks to devices only through
/// this protocol and never reads a buffer itself.
package protocol Backend {
    // MARK: memory (host devices get these from `HostMemoryBackend`)

    /// The device whose memory this backend owns.
    var device: Device { get }
    /// The host threads its kernels use.
    var threadCount: Int { get }
    /// New memory on the device for `byteCount` bytes, zero-filled when `zeroed`.
    func allocate(byteCount: Int, zeroed: Bool) -> Storage
    /// Copies `byteCount` bytes from host memory into the device buffer.
    func copyFromHost(_ src: UnsafeRawPointer, to dst: DeviceBuffer, byteCount: Int)
    /// Copies `byteCount` bytes of the device buffer into host memory, once the work queued on it
    /// is done.
    func copyToHost(_ src: DeviceBuffer, to dst: UnsafeMutableRawPointer, byteCount: Int)
    /// The buffer's host address when the host can read and write the device's memory in place
    /// (after `synchronize`), nil when values must be copied. The tensor layer's explicit host
    /// reads and writes (`toArray`, `fromHost`) use it to skip a copy; nothing else may.
    func hostAddress(_ b: DeviceBuffer) -> UnsafeMutableRawPointer?
    /// Waits until every kernel queued on the device has finished.
    func synchronize()
    /// Fills `count` elements (float32 or float64) with draws from `stream`, element by element
    /// in row-major order, advancing it.
    func randomFill(_ distribution: RandomDistribution, dtype: DType, _ dst: DeviceBuffer, count: Int,
                    stream: inout RandomStream)

    // MARK: kernels

    /// dst[idx] = src[idx] over `shape`, with arbitrary element strides on both sides.
    func copyStrided(elemSize: Int, shape: [Int], src: DeviceBuffer, srcStrides: [Int],
                     dst: DeviceBuffer, dstStrides: [Int])
    /// Converts `count` elements between dtypes.
    func cast(_ src: DeviceBuffer, from: DType, _ dst: DeviceBuffer, to: DType, count: Int)
    /// Sets `count` elements to `value`.
    func fill(_ dst: DeviceBuffer, dtype: DType, count: Int, value: Double)
    /// dst[i] = op(src[i]).
    func unary(_ op: UnaryOp, dtype: DType, _ src: DeviceBuffer, _ dst: DeviceBuffer, count: Int)
    /// The gradient of a float activation in one pass: out = g · f′, with f′ from `saved`, the
    /// input x for relu (0 where x ≤ 0, else 1: a NaN input passes g, as in PyTorch) and the output y for tanh (1 − y²) and sigmoid (y(1 − y)).
    func activationGrad(_ op: UnaryOp, dtype: DType, _ g: DeviceBuffer, _ saved: DeviceBuffer,
                        _ out: DeviceBuffer, count: Int)
    /// dst[i] = clamp(src[i], lo, hi) (either bound may be nil).
    func clamp(dtype: DType, _ src: DeviceBuffer, _ dst: DeviceBuffer, count: Int, min lo: Double?, max hi: Double?)
    /// out[i] = a[i·aStep] op b[i·bStep]; steps are 0 (broadcast scalar) or 1.
    func binary(_ op: BinaryOp, dtype: DType, _ a: DeviceBuffer, aStep: Int, _ b: DeviceBuffer, bStep: Int,
                _ out: DeviceBuffer, count: Int)
    /// out[i] = a[i·aStep] op b[i·bStep] as bool.
    func compare(_ op: CompareOp, dtype: DType, _ a: DeviceBuffer, aStep: Int, _ b: DeviceBuffer, bStep: Int,
                 _ out: DeviceBuffer, count: Int)
    /// out[i] = cond[i] ? a[i] : b[i].
    func select(dtype: DType, cond: DeviceBuffer, _ a: DeviceBuffer, _ b: DeviceBuffer,
                _ out: DeviceBuffer, count: Int)
    /// Reduces axis 1 of a contiguous [outer, size, inner] buffer into [outer, inner].
    /// argmax/argmin write int64 indices to `out`; max/min also write them to `indices` when given.
    func reduce(_ op: ReduceOp, dtype: DType, _ src: DeviceBuffer, outer: Int, size: Int, inner: Int,
                _ out: DeviceBuffer, indices: DeviceBuffer?)
    /// Batched GEMM on float32/float64: for each batch b, C_b = alpha·op(A_b)·op(B_b) + beta·C_b,
    /// with A_b at a + b·strideA (elements); a stride of 0 reuses one matrix for every batch.
    func gemm(dtype: DType, batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
              _ a: DeviceBuffer, lda: Int, strideA: Int, _ b: DeviceBuffer, ldb: Int, strideB: Int,
              beta: Double, _ c: DeviceBuffer, ldc: Int, strideC: Int)
    /// Gathers along axis 1 of [outer, srcSize, inner]: out[o, j, i] = src[o, index[o, j, i], i]
    /// with index and out shaped [outer, idxSize, inner]. When `shared` is true the index is one
    /// vector of length idxSize used for every (o, i) (index_select).
    func gather(elemSize: Int, _ src: DeviceBuffer, outer: Int, srcSize: Int, inner: Int,
                index: DeviceBuffer, idxSize: Int, shared: Bool, _ out: DeviceBuffer)
    /// The adjoint of `gather`: dst[o, index[o, j, i], i] += src[o, j, i].
    func scatterAdd(dtype: DType, _ src: DeviceBuffer, outer: Int, idxSize: Int, inner: Int,
                    index: DeviceBuffer, shared: Bool, _ dst: DeviceBuffer, dstSize: Int)
    /// im2col: [N, C, H, W] → columns, laid out [N, C·kh·kw, outH·outW] by default or with the
    /// given strides (see `CPUBackend.im2col`).
    func im2col(dtype: DType, _ x: DeviceBuffer, batch: Int, channels: Int, height: Int, width: Int,
                geometry g: WindowGeometry, _ cols: DeviceBuffer, sampleStride: Int?, rowStride: Int?)
    /// col2im, the adjoint of im2col, accumulating into a zeroed `x`.
    func col2im(dtype: DType, _ cols: DeviceBuffer, batch: Int, channels: Int, height: Int, width: Int,
                geometry g: WindowGeometry, _ x: DeviceBuffer, sampleStride: Int?, rowStride: Int?)
    /// Max pooling with the flat index of each maximum (none written when `indices` is nil).
    func maxPool2d(dtype: DType, _ x: DeviceBuffer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                   _ out: DeviceBuffer, indices: DeviceBuffer?)
    /// The adjoint of max pooling, with the indices `maxPool2d` wrote for the same planes and geometry:
    /// dx[plane, indices[o]] += grad[o], each plane of dx cleared first.
    func maxPool2dBackward(dtype: DType, _ grad: DeviceBuffer, indices: DeviceBuffer, planes: Int, height: Int, width: Int,
                           geometry g: WindowGeometry, _ dx: DeviceBuffer)
    /// Average pooling, forward or (with `backward`) its adjoint.
    func avgPool2d(dtype: DType, _ x: DeviceBuffer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                   countIncludePad: Bool, divisorOverride: Int?, backward: Bool, _ out: DeviceBuffer)

    // MARK: layers, each one op at the level a GPU library works at

    /// Whether `conv2d`/`conv2dBackward` run this convolution (groups = 1); when not, the tensor
    /// layer composes it from im2col and a matrix product.
    func supportsConv2d(_ p: Conv2dProblem) -> Bool
    /// Whether the layer ops (`conv2d`, `linear`) apply a fused activation themselves for `dtype`;
    /// when not, the tensor layer applies it as its own op.
    func fusesActivation(dtype: DType) -> Bool
    /// y [N, O, outH, outW] = x [N, C, H, W] ⋆ w [O, C, kh, kw] + bias [O], then `activation`
    /// (x and w contiguous). Returns what the device keeps for the backward pass besides x and w
    /// (e.g. a padded copy of x), opaque to the caller, which hands it back to `conv2dBackward`.
    func conv2d(_ p: Conv2dProblem, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?, activation: FusedActivation?,
                out: DeviceBuffer) -> AnyObject?
    /// The convolution's gradients from gradOut [N, O, outH, outW] (contiguous): dx [N, C, H, W],
    /// dweight [O, C, kh, kw] and dbias [O], each written when given. `output` is the forward's y,
    /// given when `activation` is (its gradient is taken from y).
    func conv2dBackward(_ p: Conv2dProblem, saved: AnyObject?, x: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer?,
                        activation: FusedActivation?, gradOut: DeviceBuffer, dx: DeviceBuffer?, dweight: DeviceBuffer?, dbias: DeviceBuffer?)
    /// y [rows, outF] = x [rows, inF] · wᵀ + bias, then `activation` (all contiguous, float).
    func linear(dtype: DType, rows: Int, inFeatures: Int, outFeatures: Int, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?,
                activation: FusedActivation?, out: DeviceBuffer)
    /// dW [outF, inF] = gᵀ · x for g [rows, outF] and x [rows, inF] (contiguous, float); and, when
    /// `dbias` is given, dB [outF] = Σ over the rows of g (in the same pass where the device can).
    /// With `activation` (the forward's fused one), gradOut is the gradient of the activation's
    /// output `output` [rows, outF], and g = gradOut · f′ is taken here (as it is read, where the
    /// device can; it is not written back), for a layer whose input needs no gradient.
    func linearWeightGradient(dtype: DType, rows: Int, inFeatures: Int, outFeatures: Int, gradOut: DeviceBuffer, x: DeviceBuffer,
                              into dweight: DeviceBuffer, bias dbias: DeviceBuffer?, activation: FusedActivation?, output: DeviceBuffer?)
    /// Applies `activation` to `count` float32 values in place.
    func activate(_ activation: FusedActivation, dtype: DType, _ x: DeviceBuffer, count: Int)
    /// Scaled dot-product attention per (sample, head): P = softmax(Q·Kᵀ/√D + mask), O = P·V for
    /// head h's D columns of q [N, L, E], k and v [N, S, E] (rows at the operands' strides). `mask`
    /// [L, S] is read at block b·`maskBlockStride`; `dropout`, when given, holds [N, heads, L, S]
    /// multipliers (0 for a dropped probability, 1/(1 − p) for a kept one) and O = (P ⊙ dropout)·V;
    /// P [N, heads, L, S] (undropped) is written when given.
    func attention(_ p: AttentionProblem, q: StridedRows, k: StridedRows, v: StridedRows, mask: DeviceBuffer?, maskBlockStride: Int,
                   dropout: DeviceBuffer?, probabilities: DeviceBuffer?, out: DeviceBuffer)
    /// Attention's gradients from the saved P, the forward pass's `dropout` multipliers (or nil)
    /// and gradOut [N, L, E] (contiguous) into gq, gk, gv (rows at their strides).
    func attentionBackward(_ p: AttentionProblem, q: StridedRows, k: StridedRows, v: StridedRows, probabilities: DeviceBuffer,
                           dropout: DeviceBuffer?, gradOut: DeviceBuffer, gq: StridedRows, gk: StridedRows, gv: StridedRows)
    /// Multi-head self-attention for inference, x [N, L, E] → out [N, L, E] (contiguous): qkv =
    /// x·W_inᵀ + b_in, the attention of each head, out = ctx·W_outᵀ + b_out; `mask` nil or [L, L].
    func selfAttention(_ p: AttentionProblem, x: DeviceBuffer, inWeight: DeviceBuffer, inBias: DeviceBuffer?, outWeight: DeviceBuffer,
                       outBias: DeviceBuffer?, mask: DeviceBuffer?, out: DeviceBuffer)
    /// Layer normalisation of `rows` contiguous rows of `cols` values: y = (x − μ)·r·w + b with μ
    /// the row's mean, r = 1/√(σ² + eps) (σ² the biased variance), w and b [cols] or nil; μ and r
    /// of each row are written to `mean` and `rstd` [rows] when given, for the backward pass.
    func layerNorm(dtype: DType, rows: Int, cols: Int, x: DeviceBuffer, weight: DeviceBuffer?, bias: DeviceBuffer?, eps: Double,
                   out: DeviceBuffer, mean: DeviceBuffer?, rstd: DeviceBuffer?)
    /// Its backward pass from the saved μ and r: dL/dx (when `gradIn` is given) = r·(g − mean(g) −
    /// x̂·mean(g·x̂)) with g = dL/dy·w and x̂ = (x − μ)·r; dL/dw = Σ_rows dL/dy·x̂ and dL/db =
    /// Σ_rows dL/dy (written, not accumulated, when given).
    func layerNormBackward(dtype: DType, rows: Int, cols: Int, x: DeviceBuffer, weight: DeviceBuffer?, mean: DeviceBuffer, rstd: DeviceBuffer,
                           gradOut: DeviceBuffer, gradIn: DeviceBuffer?, gradWeight: DeviceBuffer?, gradBias: DeviceBuffer?)
    /// One forward time step of a recurrent cell (`RecurrentStep`): from the pre-activations in
    /// `gates` (and for GRU `hiddenGates` + `hiddenBias`) and the previous state, writes h' (and
    /// c') to `out` and leaves the activations in place for `recurrentStepBackward`.
    func recurrentStep(_ s: RecurrentStep)
    /// The backward pass of the same step (after `recurrentStep` ran on `s`, whose `out` holds h'
    /// and c'): with dL/dh' = outputGrad (nil: zeros) + carriedH and, for LSTM, dL/dc' = carriedC,
    /// writes the gradients of the pre-activations, and of the state before where it does not pass
    /// through W_hh.
    func recurrentStepBackward(_ s: RecurrentStep, _ g: RecurrentStepGradients)
    /// One direction of a recurrent layer over all its steps (`RecurrentSequence`): the hidden
    /// projection and the cell of every step in order. `stepwiseRecurrentForward` does it from
    /// `gemm` and `recurrentStep`; a backend may keep W_hh prepared across the steps.
    func recurrentForward(_ s: RecurrentSequence)
    /// Its backward pass (after `recurrentForward` ran on `s`): the steps in reverse, then
    /// dW_hh, and dW_ih (and db) when `g.input` asks for them (`stepwiseRecurrentBackward`).
    func recurrentBackward(_ s: RecurrentSequence, _ g: RecurrentSequenceGradients)
    /// One optimiser step in place over `count` values of a parameter, its gradient and its state
    /// buffers (all contiguous, of one float dtype), as `rule` gives it.
    func optimizerUpdate(_ rule: OptimizerUpdateRule, dtype: DType, count: Int, parameter: DeviceBuffer, gradient: DeviceBuffer,
                         states: [DeviceBuffer])
}

extension Backend {
    /// `linearWeightGradient` of gradOut itself (no fused activation's gradient to take).
    package func linearWeightGradient(dtype: DType, rows: Int, inFeatures: Int, outFeatures: Int, gradOut: DeviceBuffer, x: DeviceBuffer,
                                      into dweight: DeviceBuffer, bias dbias: DeviceBuffer?) {
        linearWeightGradient(dtype: dtype, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, gradOut: gradOut, x: x,
                             into: dweight, bias: dbias, activation: nil, output: nil)
    }
}

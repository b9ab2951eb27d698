import CNeuroneKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Tensor {
    /// y = x·Wᵀ + b over the last dim (`torch.nn.functional.linear`): input [*, in], weight
    /// [out, in], bias [out]. One product forward (the packed kernel or bias rows + GEMM, see
    /// `linearRows`); backward, one GEMM for the input's gradient and, for the weight's, gᵀ·x in
    /// W's own [out, in] layout with no transposed copy (the outer-product kernel of
    /// `linearWeightGradient` in float32 on AVX2, a GEMM otherwise).
    ///
    /// `activation` (Keras's `activation=`) gives `linear(…).relu()` (or `.tanh()`, `.sigmoid()`)
    /// value for value; in float32 it is applied to each block of rows right after its product,
    /// and its gradient is taken in this backward.
    public func linear(weight: Tensor, bias: Tensor? = nil, activation: FusedActivation? = nil) -> Tensor {
        check(weight.rank == 2, "linear: weight must be 2-D [out, in], got \(describeShape(weight.shape))")
        let (outF, inF) = (weight.shape[0], weight.shape[1])
        check(rank >= 1 && shape[rank - 1] == inF,
              "linear: input of shape \(describeShape(shape)) has \(rank == 0 ? 0 : shape[rank - 1]) features in its last dim, weight \(describeShape(weight.shape)) expects \(inF)")
        check(dtype == weight.dtype, "linear: input dtype \(dtype) and weight dtype \(weight.dtype) differ")
        check(dtype.isFloatingPoint, "linear: dtype \(dtype) is not supported (float32 or float64 expected)")
        if let a = activation, dtype != .float32 { return a.apply(linear(weight: weight, bias: bias)) }
        if let b = bias { check(b.shape == [outF] && b.dtype == dtype, "linear: bias must be [\(outF)] of dtype \(dtype), got \(describeShape(b.shape)) \(b.dtype)") }
        let rows = count / Swift.max(inF, 1)
        let x2 = withNoGrad { self.contiguousCopyIfNeeded().reshape([rows, inF]) }
        let w = weight.contiguousCopyIfNeeded()
        let out = Tensor.empty(Array(shape.dropLast()) + [outF], dtype: dtype)
        if out.count > 0 {
            let bc = bias?.contiguousCopyIfNeeded()
            withExtendedLifetime(bc) {
                Tensor.linearRows(backend, dtype, x2.data, rows: rows, inFeatures: inF, weight: w.data, bias: bc?.data, outFeatures: outF,
                                  into: out.data, activation: activation)
            }
        }
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        guard GradMode.enabled, inputs.contains(where: { $0._requiresGrad }) else { return out }
        let xd = x2.detach(), wd = w.detach(), inShape = shape, dt = dtype
        let needX = _requiresGrad, needW = weight._requiresGrad, needB = bias?._requiresGrad ?? false
        let ySaved: Tensor? = activation == nil ? nil : out.detach()
        return out.recording("Linear\(activation?.nodeName ?? "")Backward", inputs) { gOut in
            let g = activation.map { $0.gradient(gOut, output: ySaved!) } ?? gOut
            let g2 = g.contiguousCopyIfNeeded().reshape([rows, outF])
            var grads: [Tensor?] = []
            if needX {
                let gx = Tensor.empty([rows, inF], dtype: dt)
                gx.backend.gemm(dtype: dt, batch: 1, transA: false, transB: false, m: rows, n: inF, k: outF, alpha: 1,
                                g2.data, lda: outF, strideA: 0, wd.data, ldb: inF, strideB: 0, beta: 0, gx.data, ldc: inF, strideC: 0)
                grads.append(gx.reshape(inShape))
            } else { grads.append(nil) }
            if needW {
                let gw = Tensor.empty([outF, inF], dtype: dt)
                if Tensor.usesPackedWeightGradient(dt, rows: rows, inFeatures: inF, outFeatures: outF) {
                    Tensor.linearWeightGradient(g2.data, xd.data, rows: rows, outFeatures: outF, inFeatures: inF, into: gw.data)
                } else {
                    gw.backend.gemm(dtype: dt, batch: 1, transA: true, transB: false, m: outF, n: inF, k: rows, alpha: 1,
                                    g2.data, lda: outF, strideA: 0, xd.data, ldb: inF, strideB: 0, beta: 0, gw.data, ldc: inF, strideC: 0)
                }
                grads.append(gw)
            } else { grads.append(nil) }
            if bias != nil { grads.append(needB ? g2.sum(dim: 0) : nil) }
            return grads
        }
    }

    /// dW [outF, inF] = gᵀ·x for float32 g [rows, outF] and x [rows, inF], contiguous: g packed
    /// in tiles of 6 features, then the outer-product kernel of linear.c (nk_wgrad_f32), panels of
    /// 16 input features spread over the threads, each tile of dW summed in registers and stored
    /// once (no clearing pass, no read of dW).
    static func linearWeightGradient(_ g: UnsafeRawPointer, _ x: UnsafeRawPointer, rows: Int, outFeatures outF: Int, inFeatures inF: Int,
                                     into dst: UnsafeMutableRawPointer) {
        let tiles = (outF + 5) / 6, panels = (inF + 15) / 16
        let pa = Tensor.empty([tiles * 6 * rows], dtype: .float32), pb = Tensor.empty([panels * 16 * rows], dtype: .float32)
        let gp = g.assumingMemoryBound(to: Float.self), xp = x.assumingMemoryBound(to: Float.self)
        let ap = pa.data.assumingMemoryBound(to: Float.self), bp = pb.data.assumingMemoryBound(to: Float.self)
        let out = dst.assumingMemoryBound(to: Float.self)
        withExtendedLifetime((pa, pb)) {
            // packing moves 6·rows values per tile: at least ~32k per thread
            Threading.parallelFor(tiles, minChunk: Swift.max(1, 32768 / Swift.max(1, 6 * rows))) { t0, t1 in
                nk_wgrad_pack_g_f32(gp, Int64(outF), Int64(outF), Int64(rows), Int64(t0), Int64(t1), ap)
            }
            // at least ~64k multiply-adds per thread
            Threading.parallelFor(panels, minChunk: Swift.max(1, 65536 / Swift.max(1, 16 * outF * rows))) { p0, p1 in
                nk_wgrad_f32(ap, xp, Int64(inF), bp, Int64(outF), Int64(inF), Int64(rows), Int64(p0), Int64(p1), out, Int64(inF), 0)
            }
        }
    }

    /// Whether float32 products over `inFeatures` may take the packed forward kernel of linear.c
    /// (AVX2 CPUs, within `linearKernels`) instead of bias rows + GEMM.
    static func usesPackedLinear(_ dt: DType, inFeatures: Int) -> Bool {
        dt == .float32 && inFeatures > 0 && inFeatures <= linearKernels.forwardMaxInFeatures && linearKernels.forward && packedLinearAvailable
    }
    /// Whether the single-GEMM convolution's forward and input-gradient products take
    /// nk_gemm_packed_f32 (float32, AVX2 CPUs, `linearKernels.convolution`).
    static func usesPackedConvolution(_ dt: DType) -> Bool {
        dt == .float32 && linearKernels.convolution && packedLinearAvailable
    }
    /// Whether a float32 weight gradient takes `linearWeightGradient` (AVX2 CPUs, within `linearKernels`).
    static func usesPackedWeightGradient(_ dt: DType, rows: Int, inFeatures inF: Int, outFeatures outF: Int) -> Bool {
        let k = linearKernels
        return dt == .float32 && k.weightGradient && rows <= k.weightGradientMaxRows && (inF + 15) / 16 * 16 * rows <= k.weightGradientMaxPackedInput
            && outF * inF >= k.weightGradientMinWeights && packedLinearAvailable
    }
    /// Whether this CPU runs the packed linear kernels' fast path (AVX2 and FMA).
    public static let packedLinearAvailable = nk_linear_packed_available() != 0

    /// Where float32 linear products take Neurone's own kernels; process-wide, to change only while
    /// no product runs (`neurone bench linear` switches them to time both paths in one run).
    nonisolated(unsafe) public static var linearKernels = LinearKernelSettings.fromEnvironment()

    /// W [outF, inF] (float32, contiguous) in the panel layout of nk_linear_packed_f32.
    static func packLinearWeight(_ w: UnsafeRawPointer, outFeatures outF: Int, inFeatures inF: Int) -> Tensor {
        let pk = Tensor.empty([(outF + 15) / 16 * 16 * inF], dtype: .float32)
        nk_linear_pack_f32(w.assumingMemoryBound(to: Float.self), Int64(outF), Int64(inF), pk.data.assumingMemoryBound(to: Float.self))
        return pk
    }

    /// dst [rows, outF] = src [rows, inF] · wᵀ + b on raw contiguous buffers (w [outF, inF], b
    /// [outF] or nil). Float32 with short reductions, when W comes packed (`packLinearWeight`) or
    /// there are `linearKernels.forwardMinRows` rows to pay for packing it here: the packed kernel, rows spread over
    /// the threads. Otherwise the bias is laid into every row and one GEMM accumulates on top of
    /// it (beta = 1).
    static func linearRows(_ backend: Backend, _ dt: DType, _ src: UnsafeRawPointer, rows: Int, inFeatures inF: Int,
                           weight w: UnsafeRawPointer, packed: Tensor? = nil, bias b: UnsafeRawPointer?, outFeatures outF: Int,
                           into dst: UnsafeMutableRawPointer, activation: FusedActivation? = nil) {
        precondition(activation == nil || dt == .float32, "linearRows: a fused activation needs float32")
        let act = activation?.kernelCode
        // Packing W costs about as much as 10 rows of the product, so a call that packs it
        // itself needs enough rows to pay for that (the GEMM packs as well, but faster).
        if usesPackedLinear(dt, inFeatures: inF) && (packed != nil || rows >= linearKernels.forwardMinRows) {
            let pk = packed ?? packLinearWeight(w, outFeatures: outF, inFeatures: inF)
            let x = src.assumingMemoryBound(to: Float.self), y = dst.assumingMemoryBound(to: Float.self)
            let p = pk.data.assumingMemoryBound(to: Float.self), bias = b?.assumingMemoryBound(to: Float.self)
            // tiles of 6 rows; at least ~64k multiply-adds per thread
            let tiles = (rows + 5) / 6
            withExtendedLifetime(pk) {
                Threading.parallelFor(tiles, minChunk: Swift.max(1, 65536 / Swift.max(1, 6 * outF * inF))) { t0, t1 in
                    let r0 = 6 * t0, r1 = Swift.min(rows, 6 * t1)
                    // a relu on the tiles in registers; tanh and sigmoid on the block's rows right after
                    nk_linear_packed_f32(x, Int64(inF), Int64(r0), Int64(r1), Int64(inF), p, bias, Int64(outF), y, Int64(outF), act == 0 ? 1 : 0)
                    if let a = act, a != 0 { nk_activation_f32(a, y + r0 * outF, Int64((r1 - r0) * outF)) }
                }
            }
            return
        }
        if let b = b { nk_fill_rows(dst, b, Int64(rows), Int64(outF * dt.byteSize)) }
        backend.gemm(dtype: dt, batch: 1, transA: false, transB: true, m: rows, n: outF, k: inF, alpha: 1, src, lda: inF, strideA: 0,
                     w, ldb: inF, strideB: 0, beta: b == nil ? 0 : 1, dst, ldc: outF, strideC: 0)
        if let a = act {  // in place after the product: no second tensor
            let y = dst.assumingMemoryBound(to: Float.self)
            Threading.parallelFor(rows * outF, minChunk: 32768) { i0, i1 in nk_activation_f32(a, y + i0, Int64(i1 - i0)) }
        }
    }
}

/// Where float32 linear products (AVX2 CPUs) take the kernels of linear.c instead of the GEMM
/// library; every limit is where `neurone bench linear` measured the kernel ahead on this project's
/// AVX2 machine (docs/PERFORMANCE.md).
public struct LinearKernelSettings: Sendable {
    /// The forward y = x·Wᵀ + b by the packed kernel (W in 16-column panels, x read in place, tiles
    /// started from the bias); off with NEURONE_LINEAR=gemm.
    public var forward = true
    /// Its longest reduction (input features): 512 (a 16-column panel of W then fills L1). With
    /// its loop unrolled by 4 it measured 1.04–1.21× OpenBLAS with its bias pass at 120–512 input
    /// features on one thread and 1.06–1.64× on two (0.88–0.95× at 120–400 before the unrolling),
    /// 1.1–1.2× at 28–64, and 1.00–1.05× at 784 and 9216, left to the GEMM.
    public var forwardMaxInFeatures = 512
    /// The fewest rows for which a product that packs its own weight takes it (packing costs about
    /// 10 rows of the product): 192. Products given a packed weight (the chunked attention's
    /// projections) take it at any row count.
    public var forwardMinRows = 192
    /// The weight gradient dW = gᵀ·x by the outer-product kernel (each tile of dW summed in
    /// registers and stored once); off with NEURONE_LINEAR=gemm or NEURONE_LINEAR=forward.
    public var weightGradient = true
    /// Its most rows (the reduction): 256, one K block of the kernel (0.7× OpenBLAS for the
    /// attention embedding's 7168 rows).
    public var weightGradientMaxRows = 256
    /// Its most values of packed input (rows × input features rounded up to 16): 2²⁰, 4 MB (0.5–0.9×
    /// for 256 rows of 9216 features).
    public var weightGradientMaxPackedInput = 1 << 20
    /// Its fewest weights (out × in features): 32768. It measured 1.05–1.4× OpenBLAS for the mlp's,
    /// lenet5's and mnist-cnn's first layers, 0.87–1.2× for smaller ones, whose time is mostly
    /// the call's own overhead.
    public var weightGradientMinWeights = 32768

    /// The single-GEMM convolution's forward product and input-gradient product by the same
    /// kernel (columns written by im2col straight into 16-column panels, the forward's tiles
    /// started from the bias); off with NEURONE_LINEAR=gemm.
    public var convolution = true

    /// The defaults above, without reading the environment.
    public init() {}

    /// The defaults, with NEURONE_LINEAR=gemm (no kernel) or NEURONE_LINEAR=forward (the forward
    /// kernel only) applied.
    public static func fromEnvironment() -> LinearKernelSettings {
        var k = LinearKernelSettings()
        if let s = getenv("NEURONE_LINEAR") {
            let v = String(cString: s)
            k.forward = v != "gemm"
            k.convolution = v != "gemm"
            k.weightGradient = v != "gemm" && v != "forward"
        }
        return k
    }
}

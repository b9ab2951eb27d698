import NeuroneDevice
import CNeuroneKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CPU's fully connected layer: the packed kernel of linear.c for short reductions in
/// float32 (AVX2), bias rows + GEMM otherwise; its weight gradient by linear.c's outer-product
/// kernel or a GEMM.
extension CPUBackend {
    package func linear(dtype: DType, rows: Int, inFeatures: Int, outFeatures: Int, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?,
                activation: FusedActivation?, out: DeviceBuffer) {
        linearRows(dtype, UnsafeRawPointer(x.pointer), rows: rows, inFeatures: inFeatures, weight: UnsafeRawPointer(weight.pointer),
                   bias: bias.map { UnsafeRawPointer($0.pointer) }, outFeatures: outFeatures, into: out.pointer, activation: activation)
    }

    package func linearWeightGradient(dtype: DType, rows: Int, inFeatures inF: Int, outFeatures outF: Int, gradOut: DeviceBuffer, x: DeviceBuffer,
                                      into dweight: DeviceBuffer, bias dbias: DeviceBuffer?, activation: FusedActivation?, output: DeviceBuffer?) {
        if let activation {
            precondition(output != nil, "linearWeightGradient: an activation needs the forward's output")
            if Self.usesPackedWeightGradient(dtype, rows: rows, inFeatures: inF, outFeatures: outF) {
                // the activation's gradient and the bias's sums taken as g is packed
                linearWeightGradient(UnsafeRawPointer(gradOut.pointer), UnsafeRawPointer(x.pointer), rows: rows, outFeatures: outF, inFeatures: inF,
                                     into: dweight.pointer, activation: (activation.kernelCode, UnsafeRawPointer(output!.pointer)),
                                     bias: dbias.map { $0.pointer.assumingMemoryBound(to: Float.self) })
                return
            }
            let g = scratch(rows * outF, dtype)
            let gb = DeviceBuffer(storage: g, byteOffset: 0)
            activationGrad(activation.unaryOp, dtype: dtype, gradOut, output!, gb, count: rows * outF)
            withExtendedLifetime(g) {
                linearWeightGradient(dtype: dtype, rows: rows, inFeatures: inF, outFeatures: outF, gradOut: gb, x: x, into: dweight, bias: dbias,
                                     activation: nil, output: nil)
            }
            return
        }
        if Self.usesRowsWeightGradient(dtype, rows: rows, inFeatures: inF, outFeatures: outF) {
            // dB in the same pass over g
            func f(_ b: DeviceBuffer) -> UnsafeMutablePointer<Float> { b.pointer.assumingMemoryBound(to: Float.self) }
            let ct = scratch(inF * outF, .float32)
            let ctp = ct.address.assumingMemoryBound(to: Float.self)
            withExtendedLifetime(ct) {
                weightGradientByRows(f(gradOut), ldg: outF, f(x), ldx: inF, rows: rows, m: outF, n: inF, transposedInto: ctp,
                                     accumulate: false, bias: dbias.map(f))
                transpose(ctp, rows: inF, cols: outF, into: f(dweight))
            }
            return
        }
        if let dbias { reduce(.sum, dtype: dtype, gradOut, outer: 1, size: rows, inner: outF, dbias, indices: nil) }
        if Self.usesPackedWeightGradient(dtype, rows: rows, inFeatures: inF, outFeatures: outF) {
            linearWeightGradient(UnsafeRawPointer(gradOut.pointer), UnsafeRawPointer(x.pointer), rows: rows, outFeatures: outF, inFeatures: inF,
                                 into: dweight.pointer)
        } else {
            gemm(dtype: dtype, batch: 1, transA: true, transB: false, m: outF, n: inF, k: rows, alpha: 1,
                 gradOut, lda: outF, strideA: 0, x, ldb: inF, strideB: 0, beta: 0, dweight, ldc: inF, strideC: 0)
        }
    }

    package func activate(_ activation: FusedActivation, dtype: DType, _ x: DeviceBuffer, count: Int) {
        precondition(dtype == .float32, "activate: a fused activation needs float32")
        let y = x.pointer.assumingMemoryBound(to: Float.self), code = activation.kernelCode
        Threading.parallelFor(count, minChunk: 32768) { i0, i1 in nk_activation_f32(code, y + i0, Int64(i1 - i0)) }
    }

    /// dW [outF, inF] = gᵀ·x for float32 g [rows, outF] and x [rows, inF], contiguous: g packed
    /// in tiles of 6 features, then the outer-product kernel of linear.c (nk_wgrad_f32), panels of
    /// 16 input features spread over the threads, each tile of dW summed in registers and stored
    /// once (no clearing pass, no read of dW).
    /// With `activation` (a kernel activation code and the forward's output y [rows, outF]), g is
    /// the gradient of y and g · f′(y) is taken as g is packed; with `bias`, dB [outF] is summed
    /// there too (nk_wgrad_pack_g_act_f32); without an activation the caller sums the bias.
    package func linearWeightGradient(_ g: UnsafeRawPointer, _ x: UnsafeRawPointer, rows: Int, outFeatures outF: Int, inFeatures inF: Int,
                                      into dst: UnsafeMutableRawPointer, activation: (code: Int32, output: UnsafeRawPointer)? = nil,
                                      bias: UnsafeMutablePointer<Float>? = nil) {
        precondition(bias == nil || activation != nil, "linearWeightGradient: the bias is summed here only with an activation")
        let tiles = (outF + 5) / 6, panels = (inF + 15) / 16
        let pa = scratch(tiles * 6 * rows, .float32), pb = scratch(panels * 16 * rows, .float32)
        let gp = g.assumingMemoryBound(to: Float.self), xp = x.assumingMemoryBound(to: Float.self)
        let ap = pa.address.assumingMemoryBound(to: Float.self), bp = pb.address.assumingMemoryBound(to: Float.self)
        let out = dst.assumingMemoryBound(to: Float.self)
        withExtendedLifetime((pa, pb)) {
            // packing moves 6·rows values per tile: at least ~32k per thread
            Threading.parallelFor(tiles, minChunk: Swift.max(1, 32768 / Swift.max(1, 6 * rows))) { t0, t1 in
                if let (code, y) = activation {
                    nk_wgrad_pack_g_act_f32(code, gp, y.assumingMemoryBound(to: Float.self), Int64(outF), Int64(outF), Int64(rows), Int64(t0), Int64(t1),
                                            ap, bias)
                } else {
                    nk_wgrad_pack_g_f32(gp, Int64(outF), Int64(outF), Int64(rows), Int64(t0), Int64(t1), ap)
                }
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
    /// Whether float32 dW = gᵀ·x takes wgrad_rows.c: few input features (at most 64) over many rows
    /// (at least 256), where a GEMM library's packing of all of g outweighs its product (the
    /// recurrent layers' input projections over steps × batch rows: OpenBLAS 57 GFLOP/s for the
    /// LSTM classifier's 512×28×1792 in training, wgrad_rows.c 109 on Zen 4), where
    /// `linearKernels.weightGradientRows` has it (AVX-512 CPUs).
    static func usesRowsWeightGradient(_ dt: DType, rows: Int, inFeatures inF: Int, outFeatures outF: Int) -> Bool {
        dt == .float32 && linearKernels.weightGradient && inF <= linearKernels.weightGradientRowsMaxInFeatures
            && rows >= linearKernels.weightGradientRowsMinRows && outF >= 32 && rowsWeightGradientAvailable
    }
    /// Whether linear()'s weight gradients may take wgrad_rows.c here (the recurrent layers' take it
    /// on every CPU with the packed kernels, step by step: CPURecurrent.swift).
    package static var rowsWeightGradientAvailable: Bool { packedLinearAvailable && linearKernels.weightGradientRows }

    /// Ct [n, m] (+)= xᵀ·g (the transpose of dW [m, n] = gᵀ·x) and, where `bias` is given, bias[m]
    /// (+)= Σ g[k, m], over `rows` rows of g [rows, m] and x [rows, n] read in place (wgrad_rows.c),
    /// strips of 32 columns of g spread over the threads.
    func weightGradientByRows(_ g: UnsafePointer<Float>, ldg: Int, _ x: UnsafePointer<Float>, ldx: Int, rows: Int, m: Int, n: Int,
                              transposedInto ct: UnsafeMutablePointer<Float>, accumulate: Bool, bias: UnsafeMutablePointer<Float>?) {
        let strips = (m + 31) / 32
        // at least ~128k multiply-adds per thread
        Threading.parallelFor(strips, minChunk: Swift.max(1, 131_072 / Swift.max(1, 32 * n * rows))) { s0, s1 in
            nk_wgrad_rows_f32(g, Int64(ldg), x, Int64(ldx), Int64(rows), Int64(m), Int64(n), Int64(s0 * 32), Int64(Swift.min(m, s1 * 32)),
                              ct, Int64(m), bias, accumulate ? 1 : 0)
        }
    }

    /// dst [cols, rows] = srcᵀ for a contiguous float32 src [rows, cols].
    func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
        nk_transpose_f32(src, Int64(cols), Int64(rows), Int64(cols), dst, Int64(rows))
    }

    /// Whether this CPU runs the packed linear kernels' fast path (AVX2 and FMA).
    package static let packedLinearAvailable = nk_linear_packed_available() != 0

    /// Where float32 linear products take Neurone's own kernels; process-wide, to change only while
    /// no product runs (`neurone bench linear` switches them to time both paths in one run).
    package nonisolated(unsafe) static var linearKernels = LinearKernelSettings.fromEnvironment()

    /// W [outF, inF] (float32, contiguous) in the panel layout of nk_linear_pack_f32, its panels
    /// of 16 output features spread over the threads (at least ~32k values each): a panel is
    /// packed from its own 16 rows of W alone.
    static func packLinearWeight(_ w: UnsafeRawPointer, outFeatures outF: Int, inFeatures inF: Int) -> Storage {
        let pk = Storage(hostByteCount: (outF + 15) / 16 * 16 * inF * 4, device: .cpu)
        let src = w.assumingMemoryBound(to: Float.self), dst = pk.address.assumingMemoryBound(to: Float.self)
        Threading.parallelFor((outF + 15) / 16, minChunk: Swift.max(1, 32768 / Swift.max(1, 16 * inF))) { p0, p1 in
            nk_linear_pack_f32(src + 16 * p0 * inF, Int64(Swift.min(outF - 16 * p0, 16 * (p1 - p0))), Int64(inF), dst + 16 * p0 * inF)
        }
        return pk
    }

    /// dst [rows, outF] = src [rows, inF] · wᵀ + b on contiguous buffers (w [outF, inF], b
    /// [outF] or nil). Float32 on AVX2 CPUs with at most `linearKernels.forwardDotMaxRows` rows
    /// and W not packed: dot products of x's rows with W's rows (`linearDot`). Float32 with short
    /// reductions, when W comes packed (`packLinearWeight`) or there are
    /// `linearKernels.forwardMinRows` rows to pay for packing it here: the packed kernel, rows
    /// spread over the threads. On AVX-512 CPUs, for calls that pack W themselves with enough outputs: up to
    /// 256 rows with twice as many outputs as rows, the same kernel on the transpose
    /// (`linearTransposed`, x packed instead of W); otherwise below `forwardMinRows`, with W's panels
    /// spread over the threads (`linearPanelSplit`). Otherwise the bias is laid into every row and
    /// one GEMM accumulates on top of it (beta = 1).
    func linearRows(_ dt: DType, _ src: UnsafeRawPointer, rows: Int, inFeatures inF: Int,
                    weight w: UnsafeRawPointer, packed: Storage? = nil, bias b: UnsafeRawPointer?, outFeatures outF: Int,
                    into dst: UnsafeMutableRawPointer, activation: FusedActivation? = nil) {
        precondition(activation == nil || dt == .float32, "linearRows: a fused activation needs float32")
        let act = activation?.kernelCode
        // Packing W costs about as much as 10 rows of the product, so a call that packs it
        // itself needs enough rows to pay for that (the GEMM packs as well, but faster).
        let k = Self.linearKernels
        if dt == .float32 && k.forward && Self.packedLinearAvailable && packed == nil && rows <= k.forwardDotMaxRows {
            linearDot(src, rows: rows, inFeatures: inF, weight: w, bias: b, outFeatures: outF, into: dst, activation: act)
            return
        }
        if Self.usesPackedLinear(dt, inFeatures: inF) && packed == nil && outF >= k.forwardPanelSplitMinOutFeatures {
            if rows >= k.forwardTransposedMinRows && rows <= k.forwardTransposedMaxRows && outF >= k.forwardTransposedMinOutputsPerRow * rows {
                linearTransposed(src, rows: rows, inFeatures: inF, weight: w, bias: b, outFeatures: outF, into: dst, activation: act)
                return
            }
            if rows < k.forwardMinRows {
                linearPanelSplit(src, rows: rows, inFeatures: inF, weight: w, bias: b, outFeatures: outF, into: dst, activation: act)
                return
            }
        }
        if Self.usesPackedLinear(dt, inFeatures: inF) && (packed != nil || rows >= k.forwardMinRows) {
            let pk = packed ?? Self.packLinearWeight(w, outFeatures: outF, inFeatures: inF)
            let x = src.assumingMemoryBound(to: Float.self), y = dst.assumingMemoryBound(to: Float.self)
            let p = pk.address.assumingMemoryBound(to: Float.self), bias = b?.assumingMemoryBound(to: Float.self)
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
        gemm(dtype: dt, batch: 1, transA: false, transB: true, m: rows, n: outF, k: inF, alpha: 1, src, lda: inF, strideA: 0,
             w, ldb: inF, strideB: 0, beta: b == nil ? 0 : 1, dst, ldc: outF, strideC: 0)
        if let a = act {  // in place after the product: no second tensor
            let y = dst.assumingMemoryBound(to: Float.self)
            Threading.parallelFor(rows * outF, minChunk: 32768) { i0, i1 in nk_activation_f32(a, y + i0, Int64(i1 - i0)) }
        }
    }

    /// dst [rows, outF] = src · wᵀ + b (float32, contiguous) for a call that packs W itself with few
    /// rows (`LinearKernelSettings.forwardPanelSplitMinOutFeatures`): W's 16-column panels split
    /// over the threads, each thread packing two at a time (from its own 32 rows of W) into its own
    /// region of one buffer and at once running every row over them, while they are in cache. A row
    /// split would make every thread wait for all of W's packing, then stream all of it, for only a
    /// few rows each. act: a kernel activation code, relu on the tiles in registers, the others on
    /// the block after.
    func linearPanelSplit(_ src: UnsafeRawPointer, rows: Int, inFeatures inF: Int, weight w: UnsafeRawPointer, bias b: UnsafeRawPointer?,
                       outFeatures outF: Int, into dst: UnsafeMutableRawPointer, activation act: Int32?) {
        let panels = (outF + 15) / 16
        let pk = scratch(panels * 16 * inF, .float32)
        let x = src.assumingMemoryBound(to: Float.self), y = dst.assumingMemoryBound(to: Float.self)
        let wp = w.assumingMemoryBound(to: Float.self), bias = b?.assumingMemoryBound(to: Float.self)
        let p = pk.address.assumingMemoryBound(to: Float.self)
        withExtendedLifetime(pk) {
            // panels spread one by one (an even split), run in pairs (the AVX-512 tiles are 32 columns
            // wide); at least ~64k multiply-adds per thread
            Threading.parallelFor(panels, minChunk: Swift.max(1, 65536 / Swift.max(1, 16 * rows * inF))) { p0, p1 in
                var q = p0
                while q < p1 {
                    let c0 = 16 * q, n = Swift.min(16 * Swift.min(2, p1 - q), outF - c0), panel = p + c0 * inF
                    nk_linear_pack_f32(wp + c0 * inF, Int64(n), Int64(inF), panel)
                    nk_linear_packed_f32(x, Int64(inF), 0, Int64(rows), Int64(inF), panel, bias.map { $0 + c0 }, Int64(n), y + c0, Int64(outF),
                                         act == 0 ? 1 : 0)
                    if let a = act, a != 0 { for r in 0..<rows { nk_activation_f32(a, y + r * outF + c0, Int64(n)) } }
                    q += 2
                }
            }
        }
    }
}

extension CPUBackend {
    /// dst [rows, outF] = src · wᵀ + b (float32, contiguous) as its transpose yᵀ = W·xᵀ + b, for a
    /// call that packs its own weight, with few rows and many outputs (`LinearKernelSettings.forwardTransposedMaxRows`):
    /// x is packed into 16-row panels — rows × inF values, where the other paths pack W's
    /// outF × inF — and W's rows are the kernel's row operand, read in place, with the bias per
    /// row. W's rows run in blocks small enough to stay in L2 while the panels of x run over them;
    /// each tile of yᵀ (with relu) is transposed in registers and stored into dst's columns
    /// (nk_gemm_packed_t_f32; the other activations on the block's columns after). A separate
    /// transposing pass through a copy of yᵀ took 3 % of the mlp's training step at 256/1 on an
    /// Intel Xeon, and its C timer read 117 against 145 GFLOP/s for the product alone. The threads split W's rows, as the optimiser's update splits
    /// W's values: each reads the half of W it has just written. (Splitting the rows of x instead,
    /// each thread streaming all of W, measured 1.08× in `neurone bench linear` but 0.97× in the
    /// mlp's training at 2 threads, and 0.77× while the host was busy.)
    func linearTransposed(_ src: UnsafeRawPointer, rows: Int, inFeatures inF: Int, weight w: UnsafeRawPointer, bias b: UnsafeRawPointer?,
                          outFeatures outF: Int, into dst: UnsafeMutableRawPointer, activation act: Int32?) {
        let px = scratch((rows + 15) / 16 * 16 * inF, .float32)
        let x = src.assumingMemoryBound(to: Float.self), y = dst.assumingMemoryBound(to: Float.self)
        let wp = w.assumingMemoryBound(to: Float.self), bias = b?.assumingMemoryBound(to: Float.self)
        let p = px.address.assumingMemoryBound(to: Float.self)
        // W's rows [j0, j1) over every row of x (packed already), in blocks of whole 12-row tiles
        // of ~256 KB of W; each tile of yᵀ transposed in registers and stored into y's columns
        let block = Swift.max(12, (65536 / Swift.max(1, inF)) / 12 * 12)
        func run(_ j0: Int, _ j1: Int) {
            var i = j0
            while i < j1 {
                let i1 = Swift.min(j1, i + block)
                nk_gemm_packed_t_f32(wp, Int64(inF), Int64(i), Int64(i1), Int64(inF), p, bias, Int64(rows), y, Int64(outF), act == 0 ? 1 : 0)
                if let a = act, a != 0 { for r in 0..<rows { nk_activation_f32(a, y + r * outF + i, Int64(i1 - i)) } }
                i = i1
            }
        }
        withExtendedLifetime(px) {
            // x's panels on this thread up to 64k values (a parallel region of its own costs more)
            Threading.parallelFor((rows + 15) / 16, minChunk: Swift.max(1, 65536 / Swift.max(1, 16 * inF))) { p0, p1 in
                nk_linear_pack_f32(x + 16 * p0 * inF, Int64(Swift.min(rows, 16 * p1) - 16 * p0), Int64(inF), p + 16 * p0 * inF)
            }
            // whole 12-row tiles of W per thread; at least ~64k multiply-adds each
            Threading.parallelFor((outF + 11) / 12, minChunk: Swift.max(1, 65536 / Swift.max(1, 12 * rows * inF))) { t0, t1 in
                run(12 * t0, Swift.min(outF, 12 * t1))
            }
        }
    }
}

extension CPUBackend {
    /// dst [rows, outF] = src · wᵀ + b (float32, contiguous) for a few rows
    /// (`LinearKernelSettings.forwardDotMaxRows`): dot products of x's rows with W's rows, both read
    /// in place (nk_linear_dot_f32), W's rows split over the threads in tiles of 4. act: relu in
    /// the kernel, the others on each thread's columns after.
    func linearDot(_ src: UnsafeRawPointer, rows: Int, inFeatures inF: Int, weight w: UnsafeRawPointer, bias b: UnsafeRawPointer?,
                   outFeatures outF: Int, into dst: UnsafeMutableRawPointer, activation act: Int32?) {
        let x = src.assumingMemoryBound(to: Float.self), y = dst.assumingMemoryBound(to: Float.self)
        let wp = w.assumingMemoryBound(to: Float.self), bias = b?.assumingMemoryBound(to: Float.self)
        // at least ~64k multiply-adds per thread
        Threading.parallelFor((outF + 3) / 4, minChunk: Swift.max(1, 65536 / Swift.max(1, 4 * rows * inF))) { t0, t1 in
            let j0 = 4 * t0, j1 = Swift.min(outF, 4 * t1)
            nk_linear_dot_f32(x, Int64(inF), Int64(rows), Int64(inF), wp, Int64(inF), bias, Int64(j0), Int64(j1), y, Int64(outF), act == 0 ? 1 : 0, 0)
            if let a = act, a != 0 { for r in 0..<rows { nk_activation_f32(a, y + r * outF + j0, Int64(j1 - j0)) } }
        }
    }
}

extension FusedActivation {
    /// The code of nk_activation_f32, nk_activation_grad_f32 and the layer kernels
    /// (neurone_kernels.h's NK_ACTIVATION_*, the one list both languages use).
    var kernelCode: Int32 {
        switch self {
        case .relu: return Int32(NK_ACTIVATION_RELU)
        case .tanh: return Int32(NK_ACTIVATION_TANH)
        case .sigmoid: return Int32(NK_ACTIVATION_SIGMOID)
        }
    }

}

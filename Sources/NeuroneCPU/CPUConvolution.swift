import NeuroneDevice
import CNeuroneKernels

/// What the direct convolution keeps for its backward pass: the zero-padded copy of x it ran on.
final class PaddedConvolutionInput {
    let storage: Storage
    init(_ storage: Storage) { self.storage = storage }
}

/// The CPU's 2-D convolution (groups = 1), one of two paths:
/// - single GEMM (C·kh·kw ≥ 32): GEMMs over groups of samples, see `conv2dSingleGemm`;
/// - direct (shorter columns, float32, stride 1): conv_direct.c on a zero-padded copy of x with
///   "wide rows", one contiguous multiply-add per tap, no im2col and no GEMM packing.
/// Other convolutions (groups > 1, short strided columns) are composed by the tensor layer from
/// im2col and matmul.
extension CPUBackend {
    package func supportsConv2d(_ p: Conv2dProblem) -> Bool {
        usesSingleGemmConvolution(p) || (p.dtype == .float32 && p.geometry.strideH == 1 && p.geometry.strideW == 1)
    }

    /// One GEMM over groups of samples pays off when each column is long enough; for very short
    /// columns (few input channels) the direct kernels avoid two permuting copies.
    private func usesSingleGemmConvolution(_ p: Conv2dProblem) -> Bool {
        p.channels * p.geometry.kernelH * p.geometry.kernelW >= 32
    }

    package func fusesActivation(dtype: DType) -> Bool { dtype == .float32 }

    package func conv2d(_ p: Conv2dProblem, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?, activation: FusedActivation?,
                out: DeviceBuffer) -> AnyObject? {
        precondition(activation == nil || p.dtype == .float32, "conv2d: a fused activation needs float32")
        if usesSingleGemmConvolution(p) {
            conv2dSingleGemm(p, x.pointer, weight.pointer, bias?.pointer, activation, out.pointer)
            return nil
        }
        return conv2dDirect(p, x.pointer, weight.pointer, bias?.pointer, activation, out.pointer)
    }

    package func conv2dBackward(_ p: Conv2dProblem, saved: AnyObject?, x: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer?,
                        activation: FusedActivation?, gradOut: DeviceBuffer, dx: DeviceBuffer?, dweight: DeviceBuffer?, dbias: DeviceBuffer?) {
        if usesSingleGemmConvolution(p) {
            conv2dSingleGemmBackward(p, x.pointer, weight.pointer, output?.pointer, activation, gradOut.pointer, dx?.pointer, dweight?.pointer, dbias?.pointer)
        } else {
            let xPadded = (saved as? PaddedConvolutionInput)?.storage
            conv2dDirectBackward(p, xPadded?.address ?? x.pointer, weight.pointer, output?.pointer, activation, gradOut.pointer,
                                 dx?.pointer, dweight?.pointer, dbias?.pointer)
            withExtendedLifetime(xPadded) {}
        }
    }

    /// The bias gradient db [O] = Σ over n, y, x of g [N, O, L] (contiguous), summed as the tensor
    /// layer's `sum(dims: [0, 2, 3])` sums a contiguous tensor: over L first, then over N.
    func convolutionBiasGradient(_ dt: DType, _ g: UnsafeRawPointer, n: Int, o: Int, l: Int, into db: UnsafeMutableRawPointer) {
        if n * o * l == 0 { fill(db, dtype: dt, count: o, value: 0); return }
        let rowSums = scratch(n * o, dt)
        reduce(.sum, dtype: dt, g, outer: n * o, size: l, inner: 1, rowSums.address, indices: nil)
        reduce(.sum, dtype: dt, UnsafeRawPointer(rowSums.address), outer: 1, size: n, inner: o, db, indices: nil)
        withExtendedLifetime(rowSums) {}
    }

    // MARK: single GEMM

    /// Convolution as GEMMs over groups of samples, the groups spread over the threads (each
    /// thread: im2col of its samples into its own column buffer, then a single-threaded GEMM,
    /// both in cache). A group holds `nb` samples so that nb·L ≥ 256: columns [K = C·kh·kw, nb·L],
    /// out[O, nb·L] = W[O, K]·cols; with nb = 1 the product goes straight into y[s] = [O, L],
    /// otherwise it is scattered to [nb, O, L]. The bias is written first and the product added
    /// (beta = 1).
    /// A fused `activation` (float32 only) is applied to each group's [O, nb·L] product in place
    /// right after its GEMM.
    /// In float32 on AVX2 CPUs (`usesPackedConvolution`) the three products take linear.c's
    /// packed kernel instead of the GEMM library (1.18–1.25× OpenBLAS on mnist-cnn's conv2 shapes,
    /// measured in C): the forward's columns are written by im2col straight into 16-column panels
    /// and its tiles start from the bias (no bias pass); see `conv2dSingleGemmBackward` for the
    /// gradients. Where `nk_im2col_panels_range_supported` says so (rows a multiple of 8 wide; any
    /// width with stride 1 along rows on AVX-512) the panels are written from x in L2-sized chunks,
    /// each multiplied at once; otherwise via a scratch copy of each channel's rows (LeNet-5's conv2,
    /// 10-wide rows: 6.1 µs a sample that way against 2.8 chunked, C timer on Intel Xeon).
    private func conv2dSingleGemm(_ p: Conv2dProblem, _ x: UnsafeMutableRawPointer, _ wt: UnsafeMutableRawPointer,
                                  _ bias: UnsafeMutableRawPointer?, _ act: FusedActivation?, _ y: UnsafeMutableRawPointer) {
        let (n, c, h, w, o, g) = (p.batch, p.channels, p.height, p.width, p.outChannels, p.geometry)
        let k = c * g.kernelH * g.kernelW, l = g.outH * g.outW
        let dt = p.dtype, es = dt.byteSize
        let (nb, groupCount) = Self.convolutionGroups(p)
        let tasks = Swift.min(Threading.threadCount, groupCount)
        let packed = Self.usesPackedConvolution(dt)
        // im2col geometry (nk_im2col_panels_f32 ignores the two strides)
        let dims = Self.im2colPanelDims(p)
        let panelColumns = (nb * l + 15) / 16 * 16
        // Where nk_im2col_panels_range_f32 takes the geometry (rows a multiple of 8 wide; any width
        // with stride 1 along rows on AVX-512): the packed forward's columns in chunks whose panels
        // fit L2 (about 128 KB), each written from x and multiplied at once
        let chunked = packed && nk_im2col_panels_range_supported(dims) != 0, chunkColumns = Swift.max(16, 32768 / Swift.max(1, k) / 16 * 16)
        Threading.parallelFor(tasks, minChunk: 1) { t0, t1 in
            for t in t0..<t1 {
                let cols = self.scratch(k * (packed ? (chunked ? Swift.min(chunkColumns, panelColumns) : panelColumns) : nb * l), dt)
                let scratch: Storage? = packed && !chunked ? self.scratch(g.kernelH * g.kernelW * nb * l, dt) : nil
                let out2: Storage? = nb > 1 ? self.scratch(o * nb * l, dt) : nil
                for grp in (groupCount * t / tasks)..<(groupCount * (t + 1) / tasks) {
                    let s0 = grp * nb, m = Swift.min(nb, n - s0), ml = m * l
                    let target = out2?.address ?? (y + s0 * o * l * es)
                    // a relu is applied by the packed kernel to its tiles in registers; others after the product
                    var pendingAct = act
                    if packed {
                        // columns straight into 16-column panels, the product started from the bias
                        let xs = (x + s0 * c * h * w * es).assumingMemoryBound(to: Float.self)
                        let pk = cols.address.assumingMemoryBound(to: Float.self)
                        let wp = wt.assumingMemoryBound(to: Float.self), yp = target.assumingMemoryBound(to: Float.self)
                        let bp = bias.map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) }, relu: Int32 = act == .relu ? 1 : 0
                        if chunked {
                            for q0 in stride(from: 0, to: ml, by: chunkColumns) {
                                let q1 = Swift.min(ml, q0 + chunkColumns)
                                nk_im2col_panels_range_f32(xs, dims, Int64(q0), Int64(q1), pk)
                                nk_gemm_packed_f32(wp, Int64(k), 0, Int64(o), Int64(k), pk, bp, Int64(q1 - q0), yp + q0, Int64(ml), relu)
                            }
                        } else {
                            nk_im2col_panels_f32(xs, dims, Int64(m), scratch!.address.assumingMemoryBound(to: Float.self), pk)  // allocated when packed and not chunked
                            nk_gemm_packed_f32(wp, Int64(k), 0, Int64(o), Int64(k), pk, bp, Int64(ml), yp, Int64(ml), relu)
                        }
                        if act == .relu { pendingAct = nil }
                    } else {
                        self.im2col(dtype: dt, UnsafeRawPointer(x + s0 * c * h * w * es), batch: m, channels: c, height: h, width: w, geometry: g,
                                    cols.address, sampleStride: l, rowStride: ml)
                        if let b = bias {
                            // each output row starts as its bias: one pass for floating point (a
                            // Double holds any float32 exactly), a fill and an add otherwise
                            for oi in 0..<o {
                                let row = target + oi * ml * es
                                switch dt {
                                case .float32: self.fill(row, dtype: dt, count: ml, value: Double(b.load(fromByteOffset: oi * es, as: Float.self)))
                                case .float64: self.fill(row, dtype: dt, count: ml, value: b.load(fromByteOffset: oi * es, as: Double.self))
                                default:
                                    self.fill(row, dtype: dt, count: ml, value: 0)
                                    self.binary(.add, dtype: dt, UnsafeRawPointer(row), aStep: 1, UnsafeRawPointer(b + oi * es), bStep: 0, row, count: ml)
                                }
                            }
                        }
                        self.gemm(dtype: dt, batch: 1, transA: false, transB: false, m: o, n: ml, k: k, alpha: 1,
                                  UnsafeRawPointer(wt), lda: k, strideA: 0, UnsafeRawPointer(cols.address), ldb: ml, strideB: 0, beta: bias == nil ? 0 : 1,
                                  target, ldc: ml, strideC: 0)
                    }
                    if let a = pendingAct { nk_activation_f32(a.kernelCode, target.assumingMemoryBound(to: Float.self), Int64(o * ml)) }
                    if out2 != nil {
                        Self.scatterRows(target, rows: o, chunk: m, length: l, into: y + s0 * o * l * es, elemSize: es)
                    }
                }
                withExtendedLifetime((cols, scratch, out2)) {}
            }
        }
    }

    /// Samples per GEMM of the single-GEMM convolution (enough columns for an efficient product,
    /// columns within about 1 MB) and the number of such groups.
    private static func convolutionGroups(_ p: Conv2dProblem) -> (samples: Int, groups: Int) {
        let k = p.channels * p.geometry.kernelH * p.geometry.kernelW, l = p.geometry.outH * p.geometry.outW
        let nb = Swift.max(1, Swift.min(p.batch, (255 + l) / Swift.max(1, l), (1 << 20) / Swift.max(1, k * l * p.dtype.byteSize)))
        return (nb, (p.batch + nb - 1) / nb)
    }

    /// The geometry array of nk_im2col_panels_f32 and nk_im2col_kpanels_f32.
    private static func im2colPanelDims(_ p: Conv2dProblem) -> [Int64] {
        let g = p.geometry
        return [p.channels, p.height, p.width, g.kernelH, g.kernelW, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW,
                g.outH, g.outW, 0, 0].map { Int64($0) }
    }

    /// The single-GEMM convolution's backward, per group of samples: the columns are rebuilt from
    /// the saved input (no saved columns), gW_thread += g[O, nb·L]·colsᵀ (one partial per thread,
    /// summed at the end) and gcols = Wᵀ·g, then col2im into dx.
    /// A fused activation's gradient (from the saved output) is taken per group, with the bias
    /// gradient's row sums (per-thread partials) and the reorder to [O, nb·L] in the same pass, so
    /// that no full-size masked gradient is made (mnist-cnn training at batch 256: peak RSS 294 →
    /// 258 MB).
    /// With the packed kernel: gcols = Wᵀ·g takes Wᵀ (transposed once per backward) times g packed
    /// in panels (no clearing pass for beta = 0), in blocks of whole channels each followed by its
    /// col2im while in cache, dx cleared plane by plane just before; gW, unpadded with stride 1
    /// along rows, is taken transposed from x's runs in place (below); otherwise g's rows times the
    /// columns as panels of 16 rows, two panels at a time written from x by nk_im2col_kpanels_f32
    /// and multiplied at once (no full-size columns built in backward; two, so that the kernel's
    /// tiles are 12 rows × 32 columns: 12 rows × 16 broadcast one value per multiply-add, which
    /// left two 512-bit FMA units, as on Intel Xeon, waiting on the loads).
    private func conv2dSingleGemmBackward(_ p: Conv2dProblem, _ xSaved: UnsafeMutableRawPointer, _ wSaved: UnsafeMutableRawPointer,
                                          _ ySaved: UnsafeMutableRawPointer?, _ act: FusedActivation?, _ gc: UnsafeMutableRawPointer,
                                          _ dxOut: UnsafeMutableRawPointer?, _ dwOut: UnsafeMutableRawPointer?, _ dbOut: UnsafeMutableRawPointer?) {
        let (n, c, h, w, o, g) = (p.batch, p.channels, p.height, p.width, p.outChannels, p.geometry)
        let k = c * g.kernelH * g.kernelW, l = g.outH * g.outW
        let dt = p.dtype, es = dt.byteSize
        let (nb, groupCount) = Self.convolutionGroups(p)
        let packed = Self.usesPackedConvolution(dt)
        let dims = Self.im2colPanelDims(p)
        let panelColumns = (nb * l + 15) / 16 * 16
        let needX = dxOut != nil, needW = dwOut != nil, needB = dbOut != nil
        // A fused activation's gradient (float32) is taken per group in the loop below, with
        // the bias gradient's row sums in the same pass, while the group's gradient is in cache.
        let actCode = act?.kernelCode
        let fusedBias = actCode != nil && needB
        let tasks = Swift.min(Threading.threadCount, groupCount)
        // Without padding and with stride 1 along rows, row (ci, i, j) of a sample's columns is,
        // for each output row, a run of outW values of one input row: gWᵀ [K, O] += cols·gᵀ reads
        // those runs from x in place (nk_gemm_segments_f32) times gᵀ packed in panels of 16 of
        // g's rows, one sample at a time; each task sums into its zeroed gWᵀ, transposed and added
        // at the end. (No columns are written at all, where nk_im2col_kpanels_f32
        // transposed all K·L of them: mnist-cnn's conv2 weight gradient at batch 64, C timer on
        // Intel Xeon, 12.3 → 8.3 ms; capped at AVX2 20.5 → 17.4; the same sums in the same order.)
        let segmented = needW && packed && g.strideW == 1 && g.padH == 0 && g.padW == 0
        let kk = g.kernelH * g.kernelW
        let rowOffsets = segmented ? Self.columnRowOffsets(p, planeHeight: h, planeWidth: w) : []
        let transposedPartials: [Storage] = segmented ? (0..<tasks).map { _ in CPUBackend.shared.allocate(byteCount: k * o * es, zeroed: true) } : []
        // Otherwise one weight-gradient partial per task, zeroed, summed below; the first is the
        // result itself. (A fused bias gradient likewise.)
        var partialStorage: [Storage] = []
        if needW && !segmented {
            partialStorage = (1..<Swift.max(1, tasks)).map { _ in CPUBackend.shared.allocate(byteCount: o * k * es, zeroed: true) }
            fill(dwOut!, dtype: dt, count: o * k, value: 0)
        }
        let wPartials: [UnsafeMutableRawPointer] = needW && !segmented ? (0..<tasks).map { $0 == 0 ? dwOut! : partialStorage[$0 - 1].address } : []
        var biasStorage: [Storage] = []
        if fusedBias {
            biasStorage = (1..<Swift.max(1, tasks)).map { _ in CPUBackend.shared.allocate(byteCount: o * es, zeroed: true) }
            fill(dbOut!, dtype: dt, count: o, value: 0)
        }
        let biasPartials: [UnsafeMutableRawPointer] = fusedBias ? (0..<tasks).map { $0 == 0 ? dbOut! : biasStorage[$0 - 1].address } : []
        // the input gradient's product by the packed kernel: Wᵀ [K, O] times g in panels
        let wT: Storage? = needX && packed ? scratch(k * o, dt) : nil
        if let wT = wT {
            copyStrided(elemSize: es, shape: [k, o], src: UnsafeRawPointer(wSaved), srcStrides: [1, k], dst: wT.address, dstStrides: [o, 1])
        }
        // col2im's geometry for a group's gcols [K, m·L] (sample s at column s·L; row stride m·L set per group)
        let backDims = [c, h, w, g.kernelH, g.kernelW, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.outH, g.outW, l, 0]
            .map { Int64($0) }
        Threading.parallelFor(tasks, minChunk: 1) { t0, t1 in
            for t in t0..<t1 {
                let cols: Storage? = needW && !packed ? self.scratch(k * nb * l, dt) : nil
                let gcols: Storage? = needX ? self.scratch(k * nb * l, dt) : nil
                let g2: Storage? = nb > 1 || actCode != nil ? self.scratch(o * nb * l, dt) : nil
                let gPanels: Storage? = wT != nil ? self.scratch(o * panelColumns, dt) : nil
                let colsPanels: Storage? = needW && packed && !segmented ? self.scratch(32 * nb * l, dt) : nil
                let colsScratch: Storage? = needW && packed && !segmented ? self.scratch(Int(nk_im2col_kpanels_scratch(dims)), dt) : nil
                let gTPanels: Storage? = segmented ? self.scratch((o + 15) / 16 * 16 * l, dt) : nil
                for grp in (groupCount * t / tasks)..<(groupCount * (t + 1) / tasks) {
                    let s0 = grp * nb, m = Swift.min(nb, n - s0), ml = m * l
                    var gsrc = UnsafeRawPointer(gc + s0 * o * l * es)
                    if let code = actCode, let g2 = g2, let ys = ySaved {
                        // the activation's gradient written straight in the [O, m·L] layout (the
                        // reorder of g and of y and the pass over both in one)
                        nk_activation_grad_rows_f32(code, gsrc.assumingMemoryBound(to: Float.self),
                                                    UnsafeRawPointer(ys + s0 * o * l * es).assumingMemoryBound(to: Float.self),
                                                    g2.address.assumingMemoryBound(to: Float.self), Int64(o), Int64(m), Int64(l),
                                                    fusedBias ? biasPartials[t].assumingMemoryBound(to: Float.self) : nil)
                        gsrc = UnsafeRawPointer(g2.address)
                    } else if nb > 1, let g2 = g2 {
                        Self.gatherRows(gsrc, rows: o, chunk: m, length: l, into: g2.address, elemSize: es)
                        gsrc = UnsafeRawPointer(g2.address)
                    }
                    if needW {
                        if let gT = gTPanels {
                            let pk = gT.address.assumingMemoryBound(to: Float.self)
                            let dst = transposedPartials[t].address.assumingMemoryBound(to: Float.self)
                            let gp = gsrc.assumingMemoryBound(to: Float.self)
                            rowOffsets.withUnsafeBufferPointer { offsets in
                                for sm in 0..<m {
                                    nk_pack_rows16_f32(gp + sm * l, Int64(ml), Int64(o), Int64(l), pk)
                                    let xs = (xSaved + (s0 + sm) * c * h * w * es).assumingMemoryBound(to: Float.self)
                                    nk_gemm_segments_f32(xs, offsets.baseAddress, 0, Int64(k), Int64(g.outH), Int64(g.outW), Int64(g.strideH * w),
                                                         pk, Int64(o), dst, Int64(o), 1)
                                }
                            }
                        } else if let cp = colsPanels, let scratch = colsScratch {
                            // gW += g·colsᵀ: cols [K, m·L] as the "weight" of the packed kernel (panels
                            // of 16 of its rows, transposed), g's rows broadcast; each pair of panels
                            // written by im2col from x and multiplied at once, while in cache (why two:
                            // the doc comment above); the task's first group writes its partial,
                            // later ones add their products to it in the kernel's epilogue (the
                            // group's sum, then one add: as adding a separate partial, for groups
                            // of up to 2048 columns, past which the kernel sums in blocks)
                            let pk = cp.address.assumingMemoryBound(to: Float.self)
                            let first = grp == groupCount * t / tasks
                            let dst = wPartials[t].assumingMemoryBound(to: Float.self)
                            let xs = (xSaved + s0 * c * h * w * es).assumingMemoryBound(to: Float.self)
                            let gp = gsrc.assumingMemoryBound(to: Float.self)
                            let kPanels = (k + 15) / 16
                            for kp in stride(from: 0, to: kPanels, by: 2) {
                                nk_im2col_kpanels_f32(xs, dims, Int64(m), Int64(kp), Int64(Swift.min(kp + 2, kPanels)),
                                                      scratch.address.assumingMemoryBound(to: Float.self), pk)
                                let columns = Int64(Swift.min(32, k - 16 * kp))
                                if first {
                                    nk_gemm_packed_f32(gp, Int64(ml), 0, Int64(o), Int64(ml), pk, nil, columns, dst + 16 * kp, Int64(k), 0)
                                } else {
                                    nk_linear_packed_add_f32(gp, Int64(ml), 0, Int64(o), Int64(ml), pk, columns, dst + 16 * kp, Int64(k))
                                }
                            }
                        } else if let cols = cols {
                            self.im2col(dtype: dt, UnsafeRawPointer(xSaved + s0 * c * h * w * es), batch: m, channels: c, height: h, width: w,
                                        geometry: g, cols.address, sampleStride: l, rowStride: ml)
                            self.gemm(dtype: dt, batch: 1, transA: false, transB: true, m: o, n: k, k: ml, alpha: 1,
                                      gsrc, lda: ml, strideA: 0, UnsafeRawPointer(cols.address), ldb: ml, strideB: 0, beta: 1, wPartials[t], ldc: k, strideC: 0)
                        }
                    }
                    if let dx = dxOut, let gcols = gcols {
                        let dxGroup = dx + s0 * c * h * w * es
                        if let wT = wT, let gp = gPanels {
                            let pk = gp.address.assumingMemoryBound(to: Float.self)
                            nk_pack_panels16_f32(gsrc.assumingMemoryBound(to: Float.self), Int64(ml), Int64(o), Int64(ml), pk)
                            // gcols = Wᵀ·g by blocks of whole channels (about 48 rows), each block's
                            // col2im right after its product, while its rows are in cache, setting
                            // the input planes (nothing cleared first); the most channels up to 48
                            // rows that make whole 12-row tiles, where some do (3×3: 4 channels, 36
                            // rows, where 5 made 45 rows, tiles of 12, 12, 12, 6 and 3: mnist-cnn's
                            // conv2 input-gradient product 8.8 → 8.5 ms at batch 64, C timer, Xeon)
                            let gcp = gcols.address.assumingMemoryBound(to: Float.self), dxp = dxGroup.assumingMemoryBound(to: Float.self)
                            let most = Swift.max(1, 48 / kk)
                            let perBlock = (1...most).last { $0 * kk % 12 == 0 } ?? most
                            var colDims = backDims
                            colDims[14] = Int64(ml)
                            for c0 in stride(from: 0, to: c, by: perBlock) {
                                let c1 = Swift.min(c, c0 + perBlock)
                                nk_gemm_packed_f32(wT.address.assumingMemoryBound(to: Float.self), Int64(o), Int64(c0 * kk), Int64(c1 * kk),
                                                   Int64(o), pk, nil, Int64(ml), gcp, Int64(ml), 0)
                                for sm in 0..<m {
                                    let p0 = sm * c + c0, p1 = sm * c + c1
                                    nk_col2im_set_f32(gcp, colDims, dxp, Int64(p0), Int64(p1))
                                }
                            }
                        } else {
                            self.gemm(dtype: dt, batch: 1, transA: true, transB: false, m: k, n: ml, k: o, alpha: 1,
                                      UnsafeRawPointer(wSaved), lda: k, strideA: 0, gsrc, ldb: ml, strideB: 0, beta: 0, gcols.address, ldc: ml, strideC: 0)
                            self.fill(dxGroup, dtype: dt, count: m * c * h * w, value: 0)
                            self.col2im(dtype: dt, UnsafeRawPointer(gcols.address), batch: m, channels: c, height: h, width: w, geometry: g,
                                        dxGroup, sampleStride: l, rowStride: ml)
                        }
                    }
                }
                withExtendedLifetime((cols, gcols, g2, gPanels, colsPanels, colsScratch, gTPanels)) {}
            }
        }
        if let dw = dwOut, segmented { addTransposedPartials(transposedPartials, k: k, o: o, into: dw) }
        if let dw = dwOut {
            for part in wPartials.dropFirst() { binary(.add, dtype: dt, UnsafeRawPointer(dw), aStep: 1, UnsafeRawPointer(part), bStep: 1, dw, count: o * k) }
        }
        if let db = dbOut {
            if fusedBias {
                for part in biasPartials.dropFirst() { binary(.add, dtype: dt, UnsafeRawPointer(db), aStep: 1, UnsafeRawPointer(part), bStep: 1, db, count: o) }
            } else {
                convolutionBiasGradient(dt, UnsafeRawPointer(gc), n: n, o: o, l: l, into: db)
            }
        }
        withExtendedLifetime((partialStorage, biasStorage, wT, transposedPartials)) {}
    }

    // MARK: direct

    /// The direct convolution: the C kernels in conv_direct.c work on a zero-padded copy of the
    /// input with "wide rows" (padded width wp), one contiguous multiply-add per tap. A fused
    /// `activation` is applied to each work item's output planes as they are written. Returns the
    /// padded copy (when padding was needed) for the backward pass.
    private func conv2dDirect(_ p: Conv2dProblem, _ x: UnsafeMutableRawPointer, _ wt: UnsafeMutableRawPointer,
                              _ bias: UnsafeMutableRawPointer?, _ act: FusedActivation?, _ y: UnsafeMutableRawPointer) -> PaddedConvolutionInput? {
        let (n, c, h, w, o, g) = (p.batch, p.channels, p.height, p.width, p.outChannels, p.geometry)
        let (kh, kw) = (g.kernelH, g.kernelW)
        let hp = h + 2 * g.padH, wp = w + 2 * g.padW
        let dims = Self.directDims(p)
        let padded = g.padH > 0 || g.padW > 0 ? padPlanes(x, planes: n * c, height: h, width: w, top: g.padH, left: g.padW, toHeight: hp, toWidth: wp) : nil
        let xp = (padded?.address ?? x).assumingMemoryBound(to: Float.self), wptr = wt.assumingMemoryBound(to: Float.self)
        let bp = bias.map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) }
        let yp = y.assumingMemoryBound(to: Float.self)
        let items = Int(nk_conv2d_direct_items(dims)), itemWork = g.outH * wp * c * kh * kw * o * n / Swift.max(1, items)
        Threading.parallelFor(items, minChunk: Swift.max(1, 65536 / Swift.max(1, itemWork))) { i0, i1 in
            nk_conv2d_direct_f32(dims, xp, wptr, bp, yp, Int64(i0), Int64(i1), act?.kernelCode ?? -1)
        }
        return padded.map(PaddedConvolutionInput.init)
    }

    /// The geometry array of conv_direct.c: padded input sizes, kernel, dilation, output.
    private static func directDims(_ p: Conv2dProblem) -> [Int64] {
        let g = p.geometry
        return [p.batch, p.channels, p.height + 2 * g.padH, p.width + 2 * g.padW, p.outChannels, g.kernelH, g.kernelW,
                g.dilationH, g.dilationW, g.outH, g.outW].map { Int64($0) }
    }

    /// planes [P, H, W] (float32) copied into zeros [P, toHeight, toWidth] at (top, left).
    private func padPlanes(_ x: UnsafeRawPointer, planes: Int, height: Int, width: Int, top: Int, left: Int,
                           toHeight: Int, toWidth: Int) -> Storage {
        let out = scratch(planes * toHeight * toWidth, .float32)
        fill(out.address, dtype: .float32, count: planes * toHeight * toWidth, value: 0)
        copyStrided(elemSize: 4, shape: [planes, height, width], src: x, srcStrides: [height * width, width, 1],
                    dst: out.address + (top * toWidth + left) * 4, dstStrides: [toHeight * toWidth, toWidth, 1])
        return out
    }

    /// The direct convolution's gradients: a fused activation's gradient, the output gradient
    /// widened to the padded rows and the bias gradient's plane sums first (one pass), then
    /// conv_direct.c's input-gradient kernel into a zero-padded dx (cropped after) and its
    /// weight-gradient kernel.
    private func conv2dDirectBackward(_ p: Conv2dProblem, _ xSaved: UnsafeMutableRawPointer, _ wSaved: UnsafeMutableRawPointer,
                                      _ ySaved: UnsafeMutableRawPointer?, _ act: FusedActivation?, _ gradOut: UnsafeMutableRawPointer,
                                      _ dxOut: UnsafeMutableRawPointer?, _ dwOut: UnsafeMutableRawPointer?, _ dbOut: UnsafeMutableRawPointer?) {
        let (n, c, h, w, o, g) = (p.batch, p.channels, p.height, p.width, p.outChannels, p.geometry)
        let (kh, kw) = (g.kernelH, g.kernelW)
        let hp = h + 2 * g.padH, wp = w + 2 * g.padW, l = g.outH * g.outW
        let dims = Self.directDims(p)
        if dxOut == nil, let dw = dwOut, o >= 16, Self.usesPackedConvolution(.float32) {
            conv2dDirectWeightGradient(p, xSaved, ySaved, act, gradOut, dw, dbOut)
            return
        }
        // the activation's gradient, the widening to wp-wide rows and the bias gradient's plane
        // sums in one pass (nk_activation_grad_widen_f32) when there is an activation or a
        // widening; otherwise g as it is
        var wide: Storage? = nil, planeSums: Storage? = nil
        if act != nil || wp > g.outW {
            let out = scratch(n * o * g.outH * wp, .float32)
            let sums: Storage? = dbOut != nil ? scratch(n * o, .float32) : nil
            let code = act?.kernelCode ?? -1
            let gsrc = UnsafePointer(gradOut.assumingMemoryBound(to: Float.self))
            let ysrc = ySaved.map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) }
            let sp = sums?.address.assumingMemoryBound(to: Float.self)
            Threading.parallelFor(n * o, minChunk: Swift.max(1, 16384 / Swift.max(1, l))) { p0, p1 in
                nk_activation_grad_widen_f32(code, gsrc, code >= 0 ? ysrc : nil, out.address.assumingMemoryBound(to: Float.self),
                                             Int64(g.outH), Int64(g.outW), Int64(wp), sp, Int64(p0), Int64(p1))
            }
            (wide, planeSums) = (out, sums)
        }
        let gp = (wide?.address ?? gradOut).assumingMemoryBound(to: Float.self)
        if let dx = dxOut {
            let padded = g.padH > 0 || g.padW > 0
            let gxpad = padded ? scratch(n * c * hp * wp, .float32).address : dx
            fill(gxpad, dtype: .float32, count: n * c * hp * wp, value: 0)
            let gxp = gxpad.assumingMemoryBound(to: Float.self), wsp = wSaved.assumingMemoryBound(to: Float.self)
            Threading.parallelFor(n * c, minChunk: Swift.max(1, 65536 / Swift.max(1, g.outH * wp * o * kh * kw))) { p0, p1 in
                nk_conv2d_direct_bwd_input_f32(dims, gp, wsp, gxp, Int64(p0), Int64(p1))
            }
            if padded {
                copyStrided(elemSize: 4, shape: [n * c, h, w], src: UnsafeRawPointer(gxpad + (g.padH * wp + g.padW) * 4), srcStrides: [hp * wp, wp, 1],
                            dst: dx, dstStrides: [h * w, w, 1])
            }
        }
        if let dw = dwOut {
            let gwp = dw.assumingMemoryBound(to: Float.self), xsp = xSaved.assumingMemoryBound(to: Float.self)
            Threading.parallelFor(Int(nk_conv2d_direct_bwd_weight_items(dims)), minChunk: 1) { i0, i1 in
                nk_conv2d_direct_bwd_weight_f32(dims, xsp, gp, gwp, Int64(i0), Int64(i1))
            }
        }
        if let db = dbOut {
            if let sums = planeSums {
                // the bias gradient: the plane sums added over the samples
                reduce(.sum, dtype: .float32, UnsafeRawPointer(sums.address), outer: 1, size: n, inner: o, db, indices: nil)
            } else {
                convolutionBiasGradient(.float32, UnsafeRawPointer(gradOut), n: n, o: o, l: l, into: db)
            }
        }
        withExtendedLifetime((wide, planeSums)) {}
    }

    /// The direct convolution's weight (and bias) gradient when no input gradient is wanted (a
    /// network's first layer), with at least 16 output channels, on the packed kernels: per sample,
    /// the activation's gradient written compact [O, L] with the bias's row sums
    /// (nk_activation_grad_rows_f32), gᵀ packed in panels of 16 channels, and gWᵀ [K, O] += the
    /// padded input's runs (one per output row, read in place) times those panels
    /// (nk_gemm_segments_f32); a zeroed gWᵀ and bias sums per task, transposed and added at the end. The
    /// widened gradient the input gradient needs is never written: mnist-cnn's conv1 at batch 64,
    /// C timer on Intel Xeon, 1.36 ms (widening, then conv_direct.c's weight-gradient kernel) →
    /// 1.03 ms.
    private func conv2dDirectWeightGradient(_ p: Conv2dProblem, _ xSaved: UnsafeMutableRawPointer, _ ySaved: UnsafeMutableRawPointer?,
                                            _ act: FusedActivation?, _ gradOut: UnsafeMutableRawPointer, _ dwOut: UnsafeMutableRawPointer,
                                            _ dbOut: UnsafeMutableRawPointer?) {
        let (n, c, o, g) = (p.batch, p.channels, p.outChannels, p.geometry)
        let hp = p.height + 2 * g.padH, wp = p.width + 2 * g.padW, l = g.outH * g.outW
        let k = c * g.kernelH * g.kernelW
        let rowOffsets = Self.columnRowOffsets(p, planeHeight: hp, planeWidth: wp)
        let tasks = Swift.max(1, Swift.min(Threading.threadCount, n))
        let partials = (0..<tasks).map { _ in CPUBackend.shared.allocate(byteCount: k * o * 4, zeroed: true) }
        let biasSums = (0..<tasks).map { _ in CPUBackend.shared.allocate(byteCount: o * 4, zeroed: true) }
        let code = act?.kernelCode ?? -1
        let gp = UnsafePointer(gradOut.assumingMemoryBound(to: Float.self)), yp = ySaved.map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) }
        let xp = UnsafePointer(xSaved.assumingMemoryBound(to: Float.self))
        Threading.parallelFor(tasks, minChunk: 1) { t0, t1 in
            for t in t0..<t1 {
                let g2: Storage? = code >= 0 ? self.scratch(o * l, .float32) : nil
                let panels = self.scratch((o + 15) / 16 * 16 * l, .float32)
                let pk = panels.address.assumingMemoryBound(to: Float.self)
                let dst = partials[t].address.assumingMemoryBound(to: Float.self), sums = biasSums[t].address.assumingMemoryBound(to: Float.self)
                rowOffsets.withUnsafeBufferPointer { offsets in
                    for s in (n * t / tasks)..<(n * (t + 1) / tasks) {
                        var rows = gp + s * o * l
                        if let g2 = g2, let yp = yp {
                            nk_activation_grad_rows_f32(code, rows, yp + s * o * l, g2.address.assumingMemoryBound(to: Float.self), Int64(o), 1, Int64(l),
                                                        dbOut != nil ? sums : nil)
                            rows = UnsafePointer(g2.address.assumingMemoryBound(to: Float.self))
                        } else if dbOut != nil {
                            nk_activation_grad_rows_f32(-1, rows, nil, nil, Int64(o), 1, Int64(l), sums)
                        }
                        nk_pack_rows16_f32(rows, Int64(l), Int64(o), Int64(l), pk)
                        nk_gemm_segments_f32(xp + s * c * hp * wp, offsets.baseAddress, 0, Int64(k), Int64(g.outH), Int64(g.outW), Int64(wp),
                                             pk, Int64(o), dst, Int64(o), 1)
                    }
                }
                withExtendedLifetime((g2, panels)) {}
            }
        }
        addTransposedPartials(partials, k: k, o: o, into: dwOut)
        if let db = dbOut {
            db.copyMemory(from: biasSums[0].address, byteCount: o * 4)
            for part in biasSums.dropFirst() { binary(.add, dtype: .float32, UnsafeRawPointer(db), aStep: 1, UnsafeRawPointer(part.address), bStep: 1, db, count: o) }
        }
        withExtendedLifetime((partials, biasSums)) {}
    }

    /// The offset in one sample's (padded) input planes [C, planeHeight, planeWidth] of the first
    /// value each row (c, i, j) of its columns reads (output position (0, 0), no padding left to
    /// apply): the row offsets of nk_gemm_segments_f32, K = C·kh·kw of them.
    private static func columnRowOffsets(_ p: Conv2dProblem, planeHeight: Int, planeWidth: Int) -> [Int64] {
        let g = p.geometry, kk = g.kernelH * g.kernelW
        return (0..<p.channels * kk).map { r in
            Int64((r / kk) * planeHeight * planeWidth + ((r % kk) / g.kernelW) * g.dilationH * planeWidth + (r % g.kernelW) * g.dilationW)
        }
    }

    /// dw [O, K] (float32) = the sum of the per-task weight-gradient partials gWᵀ [K, O], each
    /// transposed (the first straight into dw, the others through a scratch and added in order);
    /// zeros when there are none (an empty batch).
    private func addTransposedPartials(_ parts: [Storage], k: Int, o: Int, into dw: UnsafeMutableRawPointer) {
        guard let first = parts.first else { fill(dw, dtype: .float32, count: k * o, value: 0); return }
        nk_transpose_f32(first.address.assumingMemoryBound(to: Float.self), Int64(o), Int64(k), Int64(o), dw.assumingMemoryBound(to: Float.self), Int64(k))
        guard parts.count > 1 else { return }
        let tmp = scratch(k * o, .float32)
        for part in parts.dropFirst() {
            nk_transpose_f32(part.address.assumingMemoryBound(to: Float.self), Int64(o), Int64(k), Int64(o),
                             tmp.address.assumingMemoryBound(to: Float.self), Int64(k))
            binary(.add, dtype: .float32, UnsafeRawPointer(dw), aStep: 1, UnsafeRawPointer(tmp.address), bStep: 1, dw, count: k * o)
        }
        withExtendedLifetime(tmp) {}
    }

    /// [rows, chunk·length] → rows of [chunk, rows, length] (the [O, n·L] → [n, O, L] reorder).
    static func scatterRows(_ src: UnsafeRawPointer, rows: Int, chunk: Int, length: Int, into dst: UnsafeMutableRawPointer, elemSize: Int) {
        let bytes = length * elemSize
        Threading.parallelFor(rows * chunk, minChunk: Swift.max(1, 16384 / Swift.max(1, length))) { a, b in
            for idx in a..<b {
                let (r, s) = idx.quotientAndRemainder(dividingBy: chunk)
                (dst + (s * rows + r) * bytes).copyMemory(from: src + (r * chunk + s) * bytes, byteCount: bytes)
            }
        }
    }

    /// The inverse reorder: [chunk, rows, length] → [rows, chunk·length].
    static func gatherRows(_ src: UnsafeRawPointer, rows: Int, chunk: Int, length: Int, into dst: UnsafeMutableRawPointer, elemSize: Int) {
        let bytes = length * elemSize
        Threading.parallelFor(rows * chunk, minChunk: Swift.max(1, 16384 / Swift.max(1, length))) { a, b in
            for idx in a..<b {
                let (r, s) = idx.quotientAndRemainder(dividingBy: chunk)
                (dst + (r * chunk + s) * bytes).copyMemory(from: src + (s * rows + r) * bytes, byteCount: bytes)
            }
        }
    }
}

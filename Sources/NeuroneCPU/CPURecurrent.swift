import NeuroneDevice
import CNeuroneKernels

/// The CPU's recurrent cells: recurrent.c's fused step kernels, rows spread over the threads.
extension CPUBackend {
    private func kernelKind(_ k: RecurrentCellKind) -> Int32 {
        switch k {
        case .rnnTanh: return Int32(NK_RECURRENT_RNN_TANH)
        case .rnnReLU: return Int32(NK_RECURRENT_RNN_RELU)
        case .lstm: return Int32(NK_RECURRENT_LSTM)
        case .gru: return Int32(NK_RECURRENT_GRU)
        }
    }

    /// Rows per thread: enough gate values that a thread's share outweighs waking it.
    private func rowChunk(_ s: RecurrentStep) -> Int { Swift.max(1, 16_384 / Swift.max(1, s.kind.gateCount * s.hidden)) }

    package func recurrentStep(_ s: RecurrentStep) {
        let kind = kernelKind(s.kind), h = Int64(s.hidden)
        let hg = s.hiddenGates?.pointer, hb = s.hiddenBias?.pointer, pc = s.previousC?.pointer
        let (g, ph, out) = (s.gates.pointer, s.previousH.pointer, s.out.pointer)
        Threading.parallelFor(s.batch, minChunk: rowChunk(s)) { r0, r1 in
            switch s.dtype {
            case .float32:
                func f(_ p: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<Float>? { p?.assumingMemoryBound(to: Float.self) }
                nk_recurrent_step_f32(kind, Int64(r0), Int64(r1), h, f(g), f(hg), f(hb), f(ph), Int64(s.previousHStride),
                                      f(pc), Int64(s.previousCStride), f(out), Int64(s.outStride))
            case .float64:
                func f(_ p: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<Double>? { p?.assumingMemoryBound(to: Double.self) }
                nk_recurrent_step_f64(kind, Int64(r0), Int64(r1), h, f(g), f(hg), f(hb), f(ph), Int64(s.previousHStride),
                                      f(pc), Int64(s.previousCStride), f(out), Int64(s.outStride))
            default: check(false, "recurrent cells run on float32 and float64, got \(s.dtype)")
            }
        }
    }

    package func recurrentStepBackward(_ s: RecurrentStep, _ d: RecurrentStepGradients) {
        let kind = kernelKind(s.kind), h = Int64(s.hidden)
        let hg = s.hiddenGates?.pointer, pc = s.previousC?.pointer
        let (g, ph, out) = (s.gates.pointer, s.previousH.pointer, s.out.pointer)
        let (og, ch, cc, dg, dhg, dph) = (d.outputGrad?.pointer, d.carriedH.pointer, d.carriedC?.pointer, d.gates.pointer, d.hiddenGates?.pointer, d.previousH?.pointer)
        Threading.parallelFor(s.batch, minChunk: rowChunk(s)) { r0, r1 in
            switch s.dtype {
            case .float32:
                func f(_ p: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<Float>? { p?.assumingMemoryBound(to: Float.self) }
                nk_recurrent_step_backward_f32(kind, Int64(r0), Int64(r1), h, f(g), f(hg), f(ph), Int64(s.previousHStride), f(pc), Int64(s.previousCStride),
                                               f(out), Int64(s.outStride), f(og), Int64(d.outputGradStride), f(ch), f(cc), f(dg), f(dhg), f(dph))
            case .float64:
                func f(_ p: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<Double>? { p?.assumingMemoryBound(to: Double.self) }
                nk_recurrent_step_backward_f64(kind, Int64(r0), Int64(r1), h, f(g), f(hg), f(ph), Int64(s.previousHStride), f(pc), Int64(s.previousCStride),
                                               f(out), Int64(s.outStride), f(og), Int64(d.outputGradStride), f(ch), f(cc), f(dg), f(dhg), f(dph))
            default: check(false, "recurrent cells run on float32 and float64, got \(s.dtype)")
            }
        }
    }

    /// Whether a sequence takes the packed path: float32 on a CPU with the packed kernels of
    /// linear.c, W_hh small enough to stay in cache (≤ 4 MB packed).
    private static func packsRecurrentWeight(_ s: RecurrentSequence) -> Bool {
        s.dtype == .float32 && packedLinearAvailable && (s.gateWidth + 15) / 16 * 16 * s.hidden <= 1 << 20
            && (s.hidden + 15) / 16 * 16 * s.gateWidth <= 1 << 20
    }

    /// The batch's rows in equal blocks, one per thread: each thread runs every step for its own
    /// rows — a row's state depends on its own row only — so the steps need no barrier between
    /// the threads. A block is at least a tile of the packed kernel (6 rows) and ~32k
    /// multiply-adds a step.
    private func forEachRowBlock(_ s: RecurrentSequence, _ body: (Int, Int) -> Void) {
        Threading.parallelFor(s.batch, minChunk: Swift.max(6, 32768 / Swift.max(1, s.gateWidth * s.hidden)), body)
    }

    /// Float32: W_hh packed once for all the steps (linear.c's layout), each step's W_hh·h by the
    /// packed kernel straight into the rows the cell kernel then reads (RNN and LSTM: added to the
    /// input projections there, so the cell adds nothing and no [T, N, G·H] product is kept); a
    /// thread's block of a single row by dot products with W_hh read in place instead (nothing
    /// packed). Otherwise step by step with `gemm`.
    package func recurrentForward(_ s: RecurrentSequence) {
        guard Self.packsRecurrentWeight(s) else { return stepwiseRecurrentForward(s) }
        let (n, h, gh, sw) = (s.batch, s.hidden, s.gateWidth, s.stateWidth)
        // a block of one row takes dot products with W_hh's rows where they lie (linear_dot.c), as
        // Linear's forward does (`LinearKernelSettings.recurrentDotMaxRows`); W_hh is packed unless
        // every block will
        let dotRows = Self.linearKernels.forward ? Self.linearKernels.recurrentDotMaxRows : 0
        let pk = n <= dotRows ? nil : Self.packLinearWeight(UnsafeRawPointer(s.weight.pointer), outFeatures: gh, inFeatures: h)
        let p = pk?.address.assumingMemoryBound(to: Float.self)
        func f(_ b: DeviceBuffer?) -> UnsafeMutablePointer<Float>? { b?.pointer.assumingMemoryBound(to: Float.self) }
        let kind = kernelKind(s.kind), bias = f(s.hiddenBias), w = f(s.weight)!
        withExtendedLifetime(pk) {
            forEachRowBlock(s) { r0, r1 in
                let dot = r1 - r0 <= dotRows
                for i in 0..<s.steps {
                    let (t, st) = s.step(i)
                    let hg = f(st.hiddenGates)
                    if let hg {  // GRU: W_hh·h into its own rows (b_hh alone from zeros)
                        if !s.hasProduct(i) {
                            for r in r0..<r1 { (hg + r * gh).update(repeating: 0, count: gh) }
                        } else if dot {
                            let ph = f(st.previousH)! + r0 * st.previousHStride
                            nk_linear_dot_f32(ph, Int64(st.previousHStride), Int64(r1 - r0), Int64(h), w, Int64(h), nil, 0, Int64(gh),
                                              hg + r0 * gh, Int64(gh), 0, 0)
                        } else {
                            nk_linear_packed_f32(f(st.previousH), Int64(st.previousHStride), Int64(r0), Int64(r1), Int64(h), p, nil,
                                                 Int64(gh), hg, Int64(gh), 0)
                        }
                    } else if s.hasProduct(i) {  // RNN, LSTM: added to the input projections where they lie
                        if dot {
                            let ph = f(st.previousH)! + r0 * st.previousHStride
                            nk_linear_dot_f32(ph, Int64(st.previousHStride), Int64(r1 - r0), Int64(h), w, Int64(h), nil, 0, Int64(gh),
                                              f(st.gates)! + r0 * gh, Int64(gh), 0, 1)
                        } else {
                            nk_linear_packed_add_f32(f(st.previousH), Int64(st.previousHStride), Int64(r0), Int64(r1), Int64(h), p,
                                                     Int64(gh), f(st.gates), Int64(gh))
                        }
                    }
                    nk_recurrent_step_f32(kind, Int64(r0), Int64(r1), Int64(h), f(st.gates), hg, bias, f(st.previousH), Int64(st.previousHStride),
                                          f(st.previousC), Int64(st.previousCStride), f(s.states)! + t * n * sw, Int64(sw))
                }
            }
        }
    }

    /// Float32: W_hh packed once, each step's cell backward and dL/dh·W_hh per block of rows on
    /// its own thread; then dW_hh in one product over all steps.
    package func recurrentBackward(_ s: RecurrentSequence, _ g: RecurrentSequenceGradients) {
        guard Self.packsRecurrentWeight(s) else { return stepwiseRecurrentBackward(s, g) }
        let (n, h, gh, sw) = (s.batch, s.hidden, s.gateWidth, s.stateWidth)
        func f(_ b: DeviceBuffer?) -> UnsafeMutablePointer<Float>? { b?.pointer.assumingMemoryBound(to: Float.self) }
        // W_hh [G·H, H] as the right operand of dL/dh·W_hh, in panels of 16 columns — the layout
        // nk_linear_pack_f32 gives W_hhᵀ, made by copying runs of 16 (no transpose).
        let pk = scratch((h + 15) / 16 * 16 * gh, .float32)
        let p = pk.address.assumingMemoryBound(to: Float.self)
        nk_pack_panels16_f32(f(s.weight), Int64(h), Int64(gh), Int64(h), p)
        let kind = kernelKind(s.kind), gru = s.kind == .gru
        let carried = f(g.h0)!, carriedC = f(g.c0), og = f(g.outputGrad), dGates = f(g.gates)!, dHidden = f(g.hiddenGates)
        let (ogStep, ogRow) = (g.outputGradStepStride, g.outputGradRowStride)
        withExtendedLifetime(pk) {
            forEachRowBlock(s) { r0, r1 in
                // GRU: the product lands here, then joins the direct part dh'·z in `carried`.
                let product = gru ? scratch((r1 - r0) * h, .float32) : nil
                let prod = product.map { $0.address.assumingMemoryBound(to: Float.self) - r0 * h }
                for i in stride(from: s.steps - 1, through: 0, by: -1) {
                    let (t, st) = s.step(i)
                    let dhg = (dHidden ?? dGates) + t * n * gh
                    nk_recurrent_step_backward_f32(kind, Int64(r0), Int64(r1), Int64(h), f(st.gates), f(st.hiddenGates), f(st.previousH),
                                                   Int64(st.previousHStride), f(st.previousC), Int64(st.previousCStride), f(s.states)! + t * n * sw,
                                                   Int64(sw), og.map { $0 + t * ogStep }, Int64(ogRow), carried, carriedC, dGates + t * n * gh,
                                                   dHidden.map { $0 + t * n * gh }, gru ? carried : nil)
                    guard i > 0 || g.needH0 else { continue }
                    nk_linear_packed_f32(dhg, Int64(gh), Int64(r0), Int64(r1), Int64(gh), p, nil, Int64(h), prod ?? carried, Int64(h), 0)
                    if let prod { for k in (r0 * h)..<(r1 * h) { carried[k] += prod[k] } }
                }
                withExtendedLifetime(product) {}
            }
        }
        rowsRecurrentWeightGradient(s, g)
    }

    /// dW_hh = Σ_t dhg_tᵀ·h_before(t) (float32) by wgrad_rows.c, g and the states read where they
    /// lie: dW_hhᵀ summed in scratch over the (T − 1)·N rows whose state before is in `states`, then
    /// the first step's h0 unless it is zero, then transposed into place. A GEMM library packs all
    /// of dhg first: OpenBLAS ran the LSTM classifier's 512×128×1728 product at 87 GFLOP/s in
    /// training, this 105 (Zen 4, one thread). AVX-512 CPUs; elsewhere `gemm`.
    ///
    /// With `g.input` (RNN and LSTM, whose dhg is dL/d projections itself): dW_ihᵀ and db from the
    /// same pass — per block of 256 rows, the input's rows then the states' rows against the
    /// block of g while it is in cache, instead of a second pass reading all of g again from
    /// memory (the LSTM classifier's 1792 × 512 g is 3.7 MB).
    private func rowsRecurrentWeightGradient(_ s: RecurrentSequence, _ g: RecurrentSequenceGradients) {
        guard Self.rowsWeightGradientAvailable, s.steps > 1 || !s.zeroInitialState else {
            recurrentWeightGradient(s, g)
            return recurrentInputWeightGradient(s, g)
        }
        let (n, gh, h, steps, sw) = (s.batch, s.gateWidth, s.hidden, s.steps, s.stateWidth)
        func f(_ b: DeviceBuffer) -> UnsafeMutablePointer<Float> { b.pointer.assumingMemoryBound(to: Float.self) }
        let dhg = f(g.hiddenGates ?? g.gates)
        let input = s.kind == .gru || steps == 1 ? nil : g.input  // GRU: W_ih's g is not dhg
        let ct = scratch(h * gh, .float32), cti = input.map { scratch($0.features * gh, .float32) }
        let ctp = ct.address.assumingMemoryBound(to: Float.self)
        withExtendedLifetime((ct, cti)) {
            var accumulate = false
            if let input, let cti {
                // g's rows [hk0, hk1) meet the state before at g's row + off
                let (hk0, hk1, off) = s.reverse ? (0, (steps - 1) * n, n) : (n, steps * n, -n)
                let (x, fi, db) = (f(input.x), input.features, input.bias.map(f))
                let cip = cti.address.assumingMemoryBound(to: Float.self), states = f(s.states)
                let rows = steps * n, strips = (gh + 31) / 32
                Threading.parallelFor(strips, minChunk: Swift.max(1, 131_072 / Swift.max(1, 32 * (fi + h) * rows))) { s0, s1 in
                    let (m0, m1) = (Int64(s0 * 32), Int64(Swift.min(gh, s1 * 32)))
                    for k0 in stride(from: 0, to: rows, by: 256) {
                        let k1 = Swift.min(rows, k0 + 256)
                        nk_wgrad_rows_f32(dhg + k0 * gh, Int64(gh), x + k0 * fi, Int64(fi), Int64(k1 - k0), Int64(gh), Int64(fi), m0, m1,
                                          cip, Int64(gh), db, k0 > 0 ? 1 : 0)
                        let (a0, a1) = (Swift.max(k0, hk0), Swift.min(k1, hk1))
                        if a1 > a0 {
                            nk_wgrad_rows_f32(dhg + a0 * gh, Int64(gh), states + (a0 + off) * sw, Int64(sw), Int64(a1 - a0), Int64(gh), Int64(h),
                                              m0, m1, ctp, Int64(gh), nil, a0 > hk0 ? 1 : 0)
                        }
                    }
                }
                transpose(cip, rows: fi, cols: gh, into: f(input.weight))
                accumulate = true
            } else if steps > 1 {
                let (dOff, hOff) = s.reverse ? (0, 1) : (1, 0)  // the rows of dhg, and of the states before
                weightGradientByRows(dhg + dOff * n * gh, ldg: gh, f(s.states) + hOff * n * sw, ldx: sw, rows: (steps - 1) * n,
                                     m: gh, n: h, transposedInto: ctp, accumulate: false, bias: nil)
                accumulate = true
            }
            if !s.zeroInitialState {
                let tFirst = s.reverse ? steps - 1 : 0
                weightGradientByRows(dhg + tFirst * n * gh, ldg: gh, f(s.h0), ldx: h, rows: n, m: gh, n: h, transposedInto: ctp,
                                     accumulate: accumulate, bias: nil)
            }
            transpose(ctp, rows: h, cols: gh, into: f(g.weight))
        }
        if input == nil { recurrentInputWeightGradient(s, g) }
    }
}

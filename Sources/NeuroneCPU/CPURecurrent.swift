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
        Threading.parallelFor(s.batch, minChunk: Self.rowBlockMinRows(s), body)
    }

    private static func rowBlockMinRows(_ s: RecurrentSequence) -> Int { Swift.max(6, 32768 / Swift.max(1, s.gateWidth * s.hidden)) }

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

    /// Float32: W_hh packed once; per block of rows on its own thread, each step's cell backward,
    /// dL/dh·W_hh by the packed kernel and the step's share of the weight gradients — dW_hhᵀ (g of
    /// the hidden projections against the state before), dW_ihᵀ and db (g of the input projections
    /// against the step's input, when `g.input` asks) — by wgrad_rows.c while the step's rows of g
    /// are in cache. Each block sums into its own dWᵀ; the blocks' sums are added after the steps
    /// and transposed into place.
    ///
    /// Summed after all the steps instead (as this backend did before), the products read the
    /// whole of g — 3.5 MB for the LSTM classifier — back from memory, ~92 GFLOP/s against ~108
    /// from cache; and when the caller keeps no g (`keepGates` false: the input takes no gradient)
    /// it is now never written, one step of one block's rows serving in its place. The LSTM
    /// classifier's one-thread training step on Zen 4, six alternating runs: 8.1–8.8 ms before,
    /// 8.1–8.7 summing step by step, 7.9–8.3 keeping no g; under the AVX2 stand-in (where
    /// OpenBLAS's Haswell kernels had summed after the steps) 8.8–9.1 → 8.5–9.0 ms.
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
        // each block's sums: dW_hhᵀ [H, G·H], then dW_ihᵀ [F, G·H] and db [G·H] when asked
        let fi = g.input?.features ?? 0, x = f(g.input?.x), sumsCount = (h + fi + 1) * gh
        let (blocks, per) = Threading.chunking(n, minChunk: Self.rowBlockMinRows(s))
        let sums = (0..<blocks).map { _ in scratch(sumsCount, .float32) }
        withExtendedLifetime((pk, sums)) {
            forEachRowBlock(s) { r0, r1 in
                let acc = sums[r0 / per].address.assumingMemoryBound(to: Float.self)
                let (dWih, db) = (acc + h * gh, g.input?.bias == nil ? nil : acc + (h + fi) * gh)
                // one step of g for this block's rows when the caller keeps none, placed so that
                // row r0 is its first
                let stepG = g.keepGates ? nil : scratch((r1 - r0) * gh, .float32)
                let stepGRows = stepG.map { $0.address.assumingMemoryBound(to: Float.self) - r0 * gh }
                // GRU: the product lands here, then joins the direct part dh'·z in `carried`.
                let product = gru ? scratch((r1 - r0) * h, .float32) : nil
                let prod = product.map { $0.address.assumingMemoryBound(to: Float.self) - r0 * h }
                var summedH = false
                for i in stride(from: s.steps - 1, through: 0, by: -1) {
                    let (t, st) = s.step(i)
                    let dg = stepGRows ?? dGates + t * n * gh, dhg = dHidden.map { $0 + t * n * gh } ?? dg
                    nk_recurrent_step_backward_f32(kind, Int64(r0), Int64(r1), Int64(h), f(st.gates), f(st.hiddenGates), f(st.previousH),
                                                   Int64(st.previousHStride), f(st.previousC), Int64(st.previousCStride), f(s.states)! + t * n * sw,
                                                   Int64(sw), og.map { $0 + t * ogStep }, Int64(ogRow), carried, carriedC, dg,
                                                   dHidden.map { $0 + t * n * gh }, gru ? carried : nil)
                    let rows = Int64(r1 - r0)
                    if let x {
                        nk_wgrad_rows_f32(dg + r0 * gh, Int64(gh), x + (t * n + r0) * fi, Int64(fi), rows, Int64(gh), Int64(fi), 0, Int64(gh),
                                          dWih, Int64(gh), db, i < s.steps - 1 ? 1 : 0)
                    }
                    if s.hasProduct(i) {
                        nk_wgrad_rows_f32(dhg + r0 * gh, Int64(gh), f(st.previousH)! + r0 * st.previousHStride, Int64(st.previousHStride), rows,
                                          Int64(gh), Int64(h), 0, Int64(gh), acc, Int64(gh), nil, summedH ? 1 : 0)
                        summedH = true
                    }
                    guard i > 0 || g.needH0 else { continue }
                    nk_linear_packed_f32(dhg, Int64(gh), Int64(r0), Int64(r1), Int64(gh), p, nil, Int64(h), prod ?? carried, Int64(h), 0)
                    if let prod { for k in (r0 * h)..<(r1 * h) { carried[k] += prod[k] } }
                }
                if !summedH { acc.update(repeating: 0, count: h * gh) }  // one step from zero states
                withExtendedLifetime((product, stepG)) {}
            }
            let acc = sums[0].address.assumingMemoryBound(to: Float.self)
            for b in sums.dropFirst() {
                let other = b.address.assumingMemoryBound(to: Float.self)
                for k in 0..<sumsCount { acc[k] += other[k] }
            }
            transpose(acc, rows: h, cols: gh, into: f(g.weight)!)
            if let input = g.input {
                transpose(acc + h * gh, rows: fi, cols: gh, into: f(input.weight)!)
                if let db = f(input.bias) { db.update(from: acc + (h + fi) * gh, count: gh) }
            }
        }
    }
}

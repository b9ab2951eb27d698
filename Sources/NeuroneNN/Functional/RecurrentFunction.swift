import NeuroneDevice
import NeuroneTensor

extension Tensor {
    /// One direction of one recurrent layer over a whole sequence, as one autograd node: for each
    /// time step (t = 0…T−1, or T−1…0 when `reverse`), the hidden projection W_hh·h of the state
    /// before (one GEMM of the batch) and the cell's fused step kernel (`Backend.recurrentStep`).
    /// No tensor or graph node is made per step.
    ///
    /// - Parameters:
    ///   - inputProjection: [T, N, G·H], W_ih·x_t + b_ih for every step at once (one GEMM, made
    ///     by the caller); for RNN and LSTM b_hh is added here too, for GRU it is `hiddenBias`.
    ///   - hiddenWeight: W_hh [G·H, H] (G = 1, 4, 3 gates for RNN, LSTM, GRU).
    ///   - h0, c0: the initial states [N, H]; nil is zeros (c0: LSTM only).
    /// - Returns: the states [T, N, S, H]: h_t, and for LSTM (S = 2) c_t after it.
    package static func recurrence(_ kind: RecurrentCellKind, inputProjection xp: Tensor, hiddenWeight: Tensor, hiddenBias: Tensor?,
                                   h0: Tensor?, c0: Tensor?, reverse: Bool) -> Tensor {
        let g = kind.gateCount
        check(xp.rank == 3 && hiddenWeight.rank == 2 && hiddenWeight.shape[0] == g * hiddenWeight.shape[1] && xp.shape[2] == hiddenWeight.shape[0],
              "recurrence: the input projection must be [T, N, \(g)·H] and W_hh [\(g)·H, H], got \(describeShape(xp.shape)) and \(describeShape(hiddenWeight.shape))")
        let (steps, n, gh, h) = (xp.shape[0], xp.shape[1], xp.shape[2], hiddenWeight.shape[1])
        check(steps > 0 && n > 0 && h > 0, "recurrence: sequences of at least one step, one sample and one hidden unit expected, got \(describeShape(xp.shape)) and H = \(h)")
        let dt = xp.dtype, s = kind == .lstm ? 2 : 1
        check(dt == .float32 || dt == .float64, "recurrence: float32 or float64 inputs expected, got \(dt)")
        for (name, t) in [("W_hh", hiddenWeight), ("h0", h0), ("c0", c0), ("b_hh", hiddenBias)] {
            if let t { check(t.dtype == dt, "recurrence: \(name) is \(t.dtype), the input projection \(dt)") }
        }
        if let t = h0 { check(t.shape == [n, h], "recurrence: h0 must be [\(n), \(h)], got \(describeShape(t.shape))") }
        if let t = c0 { check(kind == .lstm && t.shape == [n, h], "recurrence: c0 (LSTM only) must be [\(n), \(h)], got \(describeShape(t.shape))") }
        if let t = hiddenBias { check(kind == .gru && t.shape == [gh], "recurrence: the hidden bias (GRU only) must be [\(gh)], got \(describeShape(t.shape))") }
        let device = Tensor.commonDevice("recurrence", xp, hiddenWeight, hiddenBias, h0, c0)
        let backend = xp.backend, es = dt.byteSize

        // Saved for the backward pass: the gate activations, GRU's hidden projections, the states.
        let (gates, w, bias, first, firstC) = withNoGrad {
            (xp.contiguousCopy(), hiddenWeight.contiguousCopyIfNeeded(), hiddenBias?.contiguousCopyIfNeeded(),
             (h0 ?? Tensor.zeros([n, h], dtype: dt, device: device)).contiguousCopyIfNeeded(),
             kind == .lstm ? (c0 ?? Tensor.zeros([n, h], dtype: dt, device: device)).contiguousCopyIfNeeded() : nil)
        }
        let hidden = kind == .gru ? Tensor.empty([steps, n, gh], dtype: dt, device: device) : nil
        let states = Tensor.empty([steps, n, s, h], dtype: dt, device: device)
        let saved = states.detach()  // what the steps and the backward pass read (no cycle through the graph)
        let block = n * s * h  // elements per time step of `states`

        /// Time step number `i` of the pass (0 first): its t, and the step it describes.
        func step(_ i: Int) -> (t: Int, step: RecurrentStep) {
            let t = reverse ? steps - 1 - i : i, before = reverse ? t + 1 : t - 1
            let prevH = i == 0 ? first.buffer : saved.buffer + before * block * es
            let prevC = kind != .lstm ? nil : (i == 0 ? firstC!.buffer : saved.buffer + (before * block + h) * es)
            return (t, RecurrentStep(kind: kind, dtype: dt, batch: n, hidden: h, gates: gates.buffer + t * n * gh * es,
                                     hiddenGates: hidden.map { $0.buffer + t * n * gh * es }, hiddenBias: bias?.buffer,
                                     previousH: prevH, previousHStride: i == 0 ? h : s * h,
                                     previousC: prevC, previousCStride: i == 0 ? h : s * h,
                                     out: saved.buffer + t * block * es, outStride: s * h))
        }

        for i in 0..<steps {
            let (_, st) = step(i)
            // W_hh·h of the state before: into the gates (RNN, LSTM) or GRU's own buffer. A zero
            // initial state contributes nothing.
            if i == 0 && h0 == nil {
                if let hg = st.hiddenGates { backend.fill(hg, dtype: dt, count: n * gh, value: 0) }
            } else {
                backend.gemm(dtype: dt, batch: 1, transA: false, transB: true, m: n, n: gh, k: h, alpha: 1,
                             st.previousH, lda: st.previousHStride, strideA: 0, w.buffer, ldb: h, strideB: 0,
                             beta: kind == .gru ? 0 : 1, st.hiddenGates ?? st.gates, ldc: gh, strideC: 0)
            }
            backend.recurrentStep(st)
        }

        var inputs = [xp, hiddenWeight]
        if let b = hiddenBias { inputs.append(b) }
        if let t = h0 { inputs.append(t) }
        if let t = c0 { inputs.append(t) }
        return states.recording("RecurrentBackward", inputs) { grad in
            let go = grad.contiguousCopyIfNeeded()
            let dGates = Tensor.empty([steps, n, gh], dtype: dt, device: device)
            let dHidden = kind == .gru ? Tensor.empty([steps, n, gh], dtype: dt, device: device) : nil
            let carriedH = Tensor.zeros([n, h], dtype: dt, device: device)
            let carriedC = kind == .lstm ? Tensor.zeros([n, h], dtype: dt, device: device) : nil
            let needH0 = h0?._requiresGrad ?? false
            for i in stride(from: steps - 1, through: 0, by: -1) {
                let (t, st) = step(i)
                let dhg = (dHidden ?? dGates).buffer + t * n * gh * es
                backend.recurrentStepBackward(st, RecurrentStepGradients(
                    outputGrad: go.buffer + t * block * es, outputGradStride: s * h, carriedH: carriedH.buffer, carriedC: carriedC?.buffer,
                    gates: dGates.buffer + t * n * gh * es, hiddenGates: dHidden.map { _ in dhg }, previousH: kind == .gru ? carriedH.buffer : nil))
                // dL/dh of the state before: through W_hh (GRU: added to the direct part dh'·z).
                if i > 0 || needH0 {
                    backend.gemm(dtype: dt, batch: 1, transA: false, transB: false, m: n, n: h, k: gh, alpha: 1,
                                 dhg, lda: gh, strideA: 0, w.buffer, ldb: h, strideB: 0,
                                 beta: kind == .gru ? 1 : 0, carriedH.buffer, ldc: h, strideC: 0)
                }
            }
            // dW_hh = Σ_t dhgᵀ·h_before: the steps whose state before is in `states` in one
            // product, and the first step's h0.
            let dW = Tensor.zeros([gh, h], dtype: dt, device: device)
            let dhgAll = dHidden ?? dGates
            if steps > 1 {
                let (dOff, hOff) = reverse ? (0, 1) : (1, 0)  // rows of dhg, and of the states before
                backend.gemm(dtype: dt, batch: 1, transA: true, transB: false, m: gh, n: h, k: (steps - 1) * n, alpha: 1,
                             dhgAll.buffer + dOff * n * gh * es, lda: gh, strideA: 0, saved.buffer + hOff * block * es, ldb: s * h, strideB: 0,
                             beta: 0, dW.buffer, ldc: h, strideC: 0)
            }
            if h0 != nil {
                let tFirst = reverse ? steps - 1 : 0
                backend.gemm(dtype: dt, batch: 1, transA: true, transB: false, m: gh, n: h, k: n, alpha: 1,
                             dhgAll.buffer + tFirst * n * gh * es, lda: gh, strideA: 0, first.buffer, ldb: h, strideB: 0,
                             beta: 1, dW.buffer, ldc: h, strideC: 0)
            }
            var grads: [Tensor?] = [dGates, dW]
            if hiddenBias != nil { grads.append(withNoGrad { dhgAll.reshape([steps * n, gh]).sum(dim: 0) }) }
            if h0 != nil { grads.append(needH0 ? carriedH : nil) }
            if c0 != nil { grads.append(carriedC) }
            return grads
        }
    }
}

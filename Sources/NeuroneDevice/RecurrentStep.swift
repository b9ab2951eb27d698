/// The cells of the recurrent layers, with PyTorch's gate orders.
package enum RecurrentCellKind: Sendable, Equatable {
    /// h' = tanh(pre) or relu(pre), pre = W_ih·x + b_ih + W_hh·h + b_hh.
    case rnnTanh, rnnReLU
    /// Gates i, f, g, o: c' = f·c + i·g, h' = o·tanh(c').
    case lstm
    /// Gates r, z, n: n = tanh(x_n + r·(W_hn·h + b_hn)), h' = (1 − z)·n + z·h.
    case gru

    /// Gate blocks of `hidden` rows in W_ih and W_hh: 1, 4 or 3.
    package var gateCount: Int {
        switch self { case .rnnTanh, .rnnReLU: return 1; case .lstm: return 4; case .gru: return 3 }
    }
}

/// One time step of one direction of a recurrent layer, for `batch` rows of `hidden` units, as a
/// backend computes it. Buffers are row-major with the row strides (in elements) given; `gates`
/// and `hiddenGates` are contiguous.
package struct RecurrentStep {
    package var kind: RecurrentCellKind, dtype: DType, batch: Int, hidden: Int
    /// [batch, gates·hidden]. In: the pre-activations — for RNN and LSTM the input projection
    /// W_ih·x + b_ih + b_hh with W_hh·h of the state before already added, for GRU W_ih·x + b_ih.
    /// Out: the gate activations, which the backward pass reads.
    package var gates: DeviceBuffer
    /// GRU only (nil for RNN and LSTM): [batch, 3·hidden], the hidden projection W_hh·h of the
    /// state before; `hiddenBias` [3·hidden] (or nil) is added to it in place, and its n block is
    /// read by the backward pass.
    package var hiddenGates: DeviceBuffer?, hiddenBias: DeviceBuffer?
    /// h and (LSTM) c of the step before.
    package var previousH: DeviceBuffer, previousHStride: Int
    package var previousC: DeviceBuffer?, previousCStride: Int
    /// Where h' goes, and for LSTM c' at `out + hidden` elements, rows `outStride` apart.
    package var out: DeviceBuffer, outStride: Int

    package init(kind: RecurrentCellKind, dtype: DType, batch: Int, hidden: Int, gates: DeviceBuffer,
                 hiddenGates: DeviceBuffer? = nil, hiddenBias: DeviceBuffer? = nil,
                 previousH: DeviceBuffer, previousHStride: Int, previousC: DeviceBuffer? = nil, previousCStride: Int = 0,
                 out: DeviceBuffer, outStride: Int) {
        (self.kind, self.dtype, self.batch, self.hidden) = (kind, dtype, batch, hidden)
        (self.gates, self.hiddenGates, self.hiddenBias) = (gates, hiddenGates, hiddenBias)
        (self.previousH, self.previousHStride, self.previousC, self.previousCStride) = (previousH, previousHStride, previousC, previousCStride)
        (self.out, self.outStride) = (out, outStride)
    }
}

/// The gradients one backward step of a recurrent cell reads and writes (all [batch, …] contiguous
/// except `outputGrad`).
package struct RecurrentStepGradients {
    /// The gradient arriving from outside at this step's h', rows `outputGradStride` apart; nil
    /// when none does (zeros).
    package var outputGrad: DeviceBuffer?, outputGradStride: Int
    /// In: dL/dh' carried from the step after (through W_hh). Read only.
    package var carriedH: DeviceBuffer
    /// LSTM: in dL/dc' — carried from the step after, and at the pass's last step the gradient
    /// of the final c from outside; out dL/dc of the step before.
    package var carriedC: DeviceBuffer?
    /// Out: dL/d(pre-activations) of the input projection [batch, gates·hidden].
    package var gates: DeviceBuffer
    /// GRU: out dL/d(W_hh·h + b_hh) [batch, 3·hidden] (for RNN and LSTM it equals `gates`).
    package var hiddenGates: DeviceBuffer?
    /// GRU: out the part of dL/dh (step before) that does not pass through W_hh, dh'·z.
    package var previousH: DeviceBuffer?

    package init(outputGrad: DeviceBuffer?, outputGradStride: Int, carriedH: DeviceBuffer, carriedC: DeviceBuffer?,
                 gates: DeviceBuffer, hiddenGates: DeviceBuffer?, previousH: DeviceBuffer?) {
        (self.outputGrad, self.outputGradStride, self.carriedH, self.carriedC) = (outputGrad, outputGradStride, carriedH, carriedC)
        (self.gates, self.hiddenGates, self.previousH) = (gates, hiddenGates, previousH)
    }
}

/// One direction of a recurrent layer over a whole sequence, as a backend computes it
/// (`Backend.recurrentForward`, `recurrentBackward`): T steps of `batch` rows, t = 0…T−1 or, when
/// `reverse`, T−1…0. All buffers contiguous.
package struct RecurrentSequence {
    package var kind: RecurrentCellKind, dtype: DType, steps: Int, batch: Int, hidden: Int, reverse: Bool
    /// [T, N, G·H]: in the input projections, out the gate activations. RNN and LSTM add W_hh·h of
    /// the state before to a step's input projections in place, then take the activations.
    package var gates: DeviceBuffer
    /// GRU only (nil otherwise): [T, N, 3H], out W_hh·h of each step's state before + b_hh, which
    /// the backward pass reads (r multiplies its n block, so it cannot join the input projections).
    package var hiddenGates: DeviceBuffer?
    /// GRU's b_hh [G·H], or nil.
    package var hiddenBias: DeviceBuffer?
    /// W_hh [G·H, H].
    package var weight: DeviceBuffer
    /// The initial states [N, H] (c0 for LSTM only); `zeroInitialState` when both are zeros, so
    /// that the first step needs no product.
    package var h0: DeviceBuffer, c0: DeviceBuffer?, zeroInitialState: Bool
    /// [T, N, S, H]: out h_t (and for LSTM, S = 2, c_t after it).
    package var states: DeviceBuffer

    package init(kind: RecurrentCellKind, dtype: DType, steps: Int, batch: Int, hidden: Int, reverse: Bool, gates: DeviceBuffer,
                 hiddenGates: DeviceBuffer?, hiddenBias: DeviceBuffer?, weight: DeviceBuffer, h0: DeviceBuffer, c0: DeviceBuffer?,
                 zeroInitialState: Bool, states: DeviceBuffer) {
        (self.kind, self.dtype, self.steps, self.batch, self.hidden, self.reverse) = (kind, dtype, steps, batch, hidden, reverse)
        (self.gates, self.hiddenGates, self.hiddenBias, self.weight) = (gates, hiddenGates, hiddenBias, weight)
        (self.h0, self.c0, self.zeroInitialState, self.states) = (h0, c0, zeroInitialState, states)
    }

    /// G·H.
    package var gateWidth: Int { kind.gateCount * hidden }
    /// S·H: the row stride of `states`.
    package var stateWidth: Int { (kind == .lstm ? 2 : 1) * hidden }

    /// Whether step `i` of the pass (0 first) needs the product W_hh·h: all but a first step from
    /// zero states.
    package func hasProduct(_ i: Int) -> Bool { !(i == 0 && zeroInitialState) }

    /// Step `i` of the pass (0 first): its time t and the step as `recurrentStep` takes it (its
    /// hidden gates: GRU's, nil for RNN and LSTM, whose product is added to `gates` before).
    package func step(_ i: Int) -> (t: Int, step: RecurrentStep) {
        let es = dtype.byteSize, (n, gh, sw) = (batch, gateWidth, stateWidth)
        let t = reverse ? steps - 1 - i : i, before = reverse ? t + 1 : t - 1
        let first = i == 0
        let prevH = first ? h0 : states + before * n * sw * es
        let prevC = kind != .lstm ? nil : (first ? c0! : states + (before * n * sw + hidden) * es)
        return (t, RecurrentStep(kind: kind, dtype: dtype, batch: n, hidden: hidden, gates: gates + t * n * gh * es,
                                 hiddenGates: hiddenGates.map { $0 + t * n * gh * es }, hiddenBias: hiddenBias,
                                 previousH: prevH, previousHStride: first ? hidden : sw,
                                 previousC: prevC, previousCStride: first ? hidden : sw,
                                 out: states + t * n * sw * es, outStride: sw))
    }
}

/// The gradients of `Backend.recurrentBackward` (contiguous except `outputGrad`).
package struct RecurrentSequenceGradients {
    /// In: dL/dh_t from outside, [T, N, H] with rows of H contiguous, steps `outputGradStepStride`
    /// and rows `outputGradRowStride` elements apart (either may be 0, a broadcast gradient); nil
    /// when no gradient reaches the hidden states (zeros).
    package var outputGrad: DeviceBuffer?, outputGradStepStride: Int, outputGradRowStride: Int
    /// Out: dL/d input projections [T, N, G·H] — unless `keepGates` is false: then the caller
    /// reads neither it nor `hiddenGates` afterwards and a backend may leave them unwritten (the
    /// CPU keeps one step of them in cache when it sums the weight gradients step by step).
    package var gates: DeviceBuffer, keepGates: Bool
    /// GRU: out dL/d(W_hh·h + b_hh) [T, N, 3H] (for RNN and LSTM it equals `gates`).
    package var hiddenGates: DeviceBuffer?
    /// In zeros; out dL/dh0 [N, H] when `needH0` (else unspecified). LSTM: in dL/d(final c) [N, H]
    /// from outside (c after the pass's last step; zeros if none), out dL/dc0.
    package var h0: DeviceBuffer, c0: DeviceBuffer?, needH0: Bool
    /// Out: dL/dW_hh [G·H, H].
    package var weight: DeviceBuffer
    /// When the pass's input projections are x·W_ihᵀ + b of an input the caller hands over: the
    /// gradients of W_ih and b, from `gates` (nil: the caller takes them itself).
    package var input: RecurrentInputGradients?

    package init(outputGrad: DeviceBuffer?, outputGradStepStride: Int, outputGradRowStride: Int, gates: DeviceBuffer,
                 hiddenGates: DeviceBuffer?, h0: DeviceBuffer, c0: DeviceBuffer?, needH0: Bool, weight: DeviceBuffer,
                 input: RecurrentInputGradients? = nil, keepGates: Bool = true) {
        (self.outputGrad, self.outputGradStepStride, self.outputGradRowStride) = (outputGrad, outputGradStepStride, outputGradRowStride)
        (self.gates, self.hiddenGates, self.h0, self.c0, self.needH0, self.weight) = (gates, hiddenGates, h0, c0, needH0, weight)
        (self.input, self.keepGates) = (input, keepGates)
    }

    /// Where dL/dh_t from outside starts for step time t (nil: none).
    package func outputGrad(at t: Int, _ dtype: DType) -> DeviceBuffer? { outputGrad.map { $0 + t * outputGradStepStride * dtype.byteSize } }
}

/// The input projection's gradients `Backend.recurrentBackward` also writes when asked: the
/// projections of all steps are x·W_ihᵀ + b for x [T·N, F] (contiguous, its rows in the order of
/// the projections' rows: step by step in time, each step's N samples).
package struct RecurrentInputGradients {
    /// In: x [T·N, F].
    package var x: DeviceBuffer, features: Int
    /// Out: dL/dW_ih [G·H, F] = Σ over the rows of dL/d projectionsᵀ·x, and dL/db [G·H] (the
    /// rows' sum) when given.
    package var weight: DeviceBuffer, bias: DeviceBuffer?

    package init(x: DeviceBuffer, features: Int, weight: DeviceBuffer, bias: DeviceBuffer?) {
        (self.x, self.features, self.weight, self.bias) = (x, features, weight, bias)
    }
}

extension Backend {
    /// `recurrentForward` from the backend's own `gemm` and `recurrentStep`, one step after the
    /// other: what a backend without a sequence kernel of its own runs.
    package func stepwiseRecurrentForward(_ s: RecurrentSequence) {
        let (n, gh, h) = (s.batch, s.gateWidth, s.hidden)
        for i in 0..<s.steps {
            let (_, st) = s.step(i)
            // GRU: W_hh·h into its own rows (b_hh alone from zeros); RNN, LSTM: added to the gates'
            // input projections.
            let product = st.hiddenGates ?? st.gates, gru = st.hiddenGates != nil
            if s.hasProduct(i) {
                gemm(dtype: s.dtype, batch: 1, transA: false, transB: true, m: n, n: gh, k: h, alpha: 1,
                     st.previousH, lda: st.previousHStride, strideA: 0, s.weight, ldb: h, strideB: 0, beta: gru ? 0 : 1, product, ldc: gh,
                     strideC: 0)
            } else if gru {
                fill(product, dtype: s.dtype, count: n * gh, value: 0)
            }
            recurrentStep(st)
        }
    }

    /// `recurrentBackward` from the backend's own `gemm` and `recurrentStepBackward`.
    package func stepwiseRecurrentBackward(_ s: RecurrentSequence, _ g: RecurrentSequenceGradients) {
        let (n, gh, h, es) = (s.batch, s.gateWidth, s.hidden, s.dtype.byteSize)
        for i in stride(from: s.steps - 1, through: 0, by: -1) {
            let (t, st) = s.step(i)
            let dhg = (g.hiddenGates ?? g.gates) + t * n * gh * es
            recurrentStepBackward(st, RecurrentStepGradients(
                outputGrad: g.outputGrad(at: t, s.dtype), outputGradStride: g.outputGradRowStride, carriedH: g.h0, carriedC: g.c0,
                gates: g.gates + t * n * gh * es, hiddenGates: g.hiddenGates.map { _ in dhg }, previousH: s.kind == .gru ? g.h0 : nil))
            // dL/dh of the state before: through W_hh (GRU: added to the direct part dh'·z).
            if i > 0 || g.needH0 {
                gemm(dtype: s.dtype, batch: 1, transA: false, transB: false, m: n, n: h, k: gh, alpha: 1,
                     dhg, lda: gh, strideA: 0, s.weight, ldb: h, strideB: 0, beta: s.kind == .gru ? 1 : 0, g.h0, ldc: h, strideC: 0)
            }
        }
        recurrentWeightGradient(s, g)
        recurrentInputWeightGradient(s, g)
    }

    /// dW_ih (and db) of `g.input`, when given, by `linearWeightGradient` over all T·N rows.
    package func recurrentInputWeightGradient(_ s: RecurrentSequence, _ g: RecurrentSequenceGradients) {
        guard let i = g.input else { return }
        linearWeightGradient(dtype: s.dtype, rows: s.steps * s.batch, inFeatures: i.features, outFeatures: s.gateWidth, gradOut: g.gates,
                             x: i.x, into: i.weight, bias: i.bias)
    }

    /// dW_hh = Σ_t dhg_tᵀ·h_before(t): the steps whose state before is in `states` in one product
    /// over (T − 1)·N rows, then the first step's h0 unless it is zero.
    package func recurrentWeightGradient(_ s: RecurrentSequence, _ g: RecurrentSequenceGradients) {
        let (n, gh, h, es, steps) = (s.batch, s.gateWidth, s.hidden, s.dtype.byteSize, s.steps)
        let dhg = g.hiddenGates ?? g.gates
        if steps > 1 {
            let (dOff, hOff) = s.reverse ? (0, 1) : (1, 0)  // the rows of dhg, and of the states before
            gemm(dtype: s.dtype, batch: 1, transA: true, transB: false, m: gh, n: h, k: (steps - 1) * n, alpha: 1,
                 dhg + dOff * n * gh * es, lda: gh, strideA: 0, s.states + hOff * n * s.stateWidth * es, ldb: s.stateWidth, strideB: 0,
                 beta: 0, g.weight, ldc: h, strideC: 0)
        } else {
            fill(g.weight, dtype: s.dtype, count: gh * h, value: 0)
        }
        if !s.zeroInitialState {
            let tFirst = s.reverse ? steps - 1 : 0
            gemm(dtype: s.dtype, batch: 1, transA: true, transB: false, m: gh, n: h, k: n, alpha: 1,
                 dhg + tFirst * n * gh * es, lda: gh, strideA: 0, s.h0, ldb: h, strideB: 0, beta: 1, g.weight, ldc: h, strideC: 0)
        }
    }
}

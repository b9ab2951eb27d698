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
    /// [batch, gates·hidden]. In: the pre-activations — the input projection plus, for RNN and
    /// LSTM, the hidden projection W_hh·h (both biases included); for GRU the input projection
    /// only. Out: the gate activations, which the backward pass reads.
    package var gates: DeviceBuffer
    /// GRU only: [batch, 3·hidden], in W_hh·h (no bias), out W_hh·h + b_hh (its n block is read by
    /// the backward pass); with `hiddenBias` [3·hidden].
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
    /// The gradient arriving from outside at this step's h' (and c' at `+ hidden`), rows
    /// `outputGradStride` apart; nil when none does.
    package var outputGrad: DeviceBuffer?, outputGradStride: Int
    /// In: dL/dh' carried from the step after (through W_hh). Read only.
    package var carriedH: DeviceBuffer
    /// LSTM: in dL/dc' carried from the step after; out dL/dc of the step before.
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

import NeuroneDevice
import NeuroneTensor

extension Tensor {
    /// One direction of one recurrent layer over a whole sequence, as one autograd node: the
    /// backend's `recurrentForward` runs every time step (t = 0…T−1, or T−1…0 when `reverse`) —
    /// the hidden projection W_hh·h of the state before and the cell's fused step kernel — and
    /// `recurrentBackward` the steps in reverse and dW_hh. No tensor or graph node is made per step.
    ///
    /// Both results are views of the states the forward pass keeps, each with a small node of its
    /// own that hands its gradient — as it arrives, strided or not — to the one node of the whole
    /// pass: no [T, N, 2, H] gradient of the states is made and cleared (as selecting h and c out of
    /// one states tensor would), and a final c nobody uses costs nothing.
    ///
    /// - Parameters:
    ///   - inputProjection: [T, N, G·H], W_ih·x_t + b_ih for every step at once (one GEMM, made
    ///     by the caller); for RNN and LSTM b_hh is added here too, for GRU it is `hiddenBias`.
    ///   - hiddenWeight: W_hh [G·H, H] (G = 1, 4, 3 gates for RNN, LSTM, GRU).
    ///   - h0, c0: the initial states [N, H]; nil is zeros (c0: LSTM only).
    ///   - consumingInputProjection: the caller made `inputProjection` for this call alone and
    ///     reads it no more, so the gate activations are computed over it in place (when it is
    ///     contiguous) instead of in a copy of [T, N, G·H] values.
    /// - Returns: `hidden`, h_t of every step [T, N, H] (in time order also when `reverse`), and for
    ///   LSTM `finalC`, c after the pass's last step [N, H] (t = T−1, or t = 0 when `reverse`).
    package static func recurrence(_ kind: RecurrentCellKind, inputProjection xp: Tensor, hiddenWeight: Tensor, hiddenBias: Tensor?,
                                   h0: Tensor?, c0: Tensor?, reverse: Bool, consumingInputProjection: Bool = false) -> (hidden: Tensor, finalC: Tensor?) {
        recurrence(kind, xp, projectedFrom: nil, hiddenWeight: hiddenWeight, hiddenBias: hiddenBias, h0: h0, c0: c0, reverse: reverse,
                   consumingInputProjection: consumingInputProjection)
    }

    /// The same pass with its input projections made here, x·W_ihᵀ + b for x [T·N, F] (rows in
    /// time order, each step's N samples) — as `x.linear(weight: inputWeight, bias: inputBias)`
    /// reshaped to [T, N, G·H], value for value — and one node for both: its backward hands dW_ih
    /// and db to the backend's `recurrentBackward` with dW_hh (the CPU sums them step by step with
    /// dW_hh, each step's dL/d projections in cache; a separate linear node read them all again),
    /// and dL/dx is dL/d projections·W_ih. When x takes no gradient the backend may keep no
    /// dL/d projections at all (`keepGates`).
    package static func recurrence(_ kind: RecurrentCellKind, input x: Tensor, inputWeight: Tensor, inputBias: Tensor?, steps: Int,
                                   hiddenWeight: Tensor, hiddenBias: Tensor?, h0: Tensor?, c0: Tensor?, reverse: Bool) -> (hidden: Tensor, finalC: Tensor?) {
        check(x.rank == 2 && inputWeight.rank == 2 && inputWeight.shape[1] == x.shape[1] && steps > 0 && x.shape[0] % steps == 0,
              "recurrence: the input must be [T·N, F] and W_ih [G·H, F], got \(describeShape(x.shape)) and \(describeShape(inputWeight.shape)) for T = \(steps)")
        let xc = x.contiguousCopyIfNeeded()
        let xp = withNoGrad { xc.linear(weight: inputWeight, bias: inputBias).reshape([steps, x.shape[0] / steps, inputWeight.shape[0]]) }
        return recurrence(kind, xp, projectedFrom: (xc, inputWeight, inputBias), hiddenWeight: hiddenWeight, hiddenBias: hiddenBias, h0: h0, c0: c0,
                          reverse: reverse, consumingInputProjection: true)
    }

    private static func recurrence(_ kind: RecurrentCellKind, _ xp: Tensor, projectedFrom projection: (x: Tensor, weight: Tensor, bias: Tensor?)?,
                                   hiddenWeight: Tensor, hiddenBias: Tensor?, h0: Tensor?, c0: Tensor?, reverse: Bool,
                                   consumingInputProjection: Bool) -> (hidden: Tensor, finalC: Tensor?) {
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
        let backend = xp.backend

        // Saved for the backward pass: the gate activations, GRU's hidden projections, the states.
        let (gates, w, bias, first, firstC) = withNoGrad {
            (consumingInputProjection && xp.isContiguous ? xp.detach() : xp.contiguousCopy(), hiddenWeight.contiguousCopyIfNeeded(), hiddenBias?.contiguousCopyIfNeeded(),
             (h0 ?? Tensor.zeros([n, h], dtype: dt, device: device)).contiguousCopyIfNeeded(),
             kind == .lstm ? (c0 ?? Tensor.zeros([n, h], dtype: dt, device: device)).contiguousCopyIfNeeded() : nil)
        }
        let hidden = kind == .gru ? Tensor.empty([steps, n, gh], dtype: dt, device: device) : nil  // GRU: W_hh·h + b_hh of every step
        let states = Tensor.empty([steps, n, s, h], dtype: dt, device: device)  // h_t (and c_t) of every step
        let sequence = RecurrentSequence(kind: kind, dtype: dt, steps: steps, batch: n, hidden: h, reverse: reverse, gates: gates.buffer,
                                         hiddenGates: hidden?.buffer, hiddenBias: bias?.buffer, weight: w.buffer, h0: first.buffer,
                                         c0: firstC?.buffer, zeroInitialState: h0 == nil && c0 == nil, states: states.buffer)
        backend.recurrentForward(sequence)

        var inputs = projection.map { [$0.x, $0.weight] + ($0.bias.map { [$0] } ?? []) } ?? [xp]
        inputs.append(hiddenWeight)
        // with the projection made here: what its gradients need
        let (px, pw) = (projection.map { $0.x.detach() }, projection.map { $0.weight.contiguousCopyIfNeeded().detach() })
        let needX = projection?.x._requiresGrad ?? false, needPW = projection?.weight._requiresGrad ?? false
        let needPB = projection?.bias?._requiresGrad ?? false
        if let b = hiddenBias { inputs.append(b) }
        if let t = h0 { inputs.append(t) }
        if let t = c0 { inputs.append(t) }
        // The pass's node hangs on a one-element token; `hidden` and `finalC` are views of the saved
        // states whose nodes leave their gradients in `arriving` and pass the token a zero, so the
        // token's node runs once, after both (it is an input of each). All three are named
        // RecurrentBackward, as the outputs of PyTorch's RNN ops share one grad_fn.
        let arriving = ArrivingGradients()
        let token = Tensor.zeros([1], dtype: dt, device: device).recording("RecurrentBackward", inputs) { _ in
            withExtendedLifetime((gates, hidden, w, bias, first, firstC, states)) {}
            defer { arriving.hidden = nil; arriving.finalC = nil }
            // dL/dh_t from outside, read where it lies when its rows of H are contiguous
            let go = arriving.hidden.map { $0.strides[2] == 1 && $0.strides[0] >= 0 && $0.strides[1] >= 0 ? $0 : $0.contiguousCopy() }
            let dGates = Tensor.empty([steps, n, gh], dtype: dt, device: device)
            let dHidden = kind == .gru ? Tensor.empty([steps, n, gh], dtype: dt, device: device) : nil
            let carriedH = Tensor.zeros([n, h], dtype: dt, device: device)
            let carriedC = kind == .lstm ? (arriving.finalC?.contiguousCopy() ?? Tensor.zeros([n, h], dtype: dt, device: device)) : nil
            let dW = Tensor.empty([gh, h], dtype: dt, device: device)
            let needH0 = h0?._requiresGrad ?? false
            // W_ih's and b's gradients (both from one pass where either is wanted)
            let dPW = needPW || needPB ? Tensor.empty([gh, px!.shape[1]], dtype: dt, device: device) : nil
            let dPB = dPW != nil && projection?.bias != nil ? Tensor.empty([gh], dtype: dt, device: device) : nil
            let inputGradients = dPW.map { RecurrentInputGradients(x: px!.buffer, features: px!.shape[1], weight: $0.buffer, bias: dPB?.buffer) }
            backend.recurrentBackward(sequence, RecurrentSequenceGradients(
                outputGrad: go?.buffer, outputGradStepStride: go?.strides[0] ?? 0, outputGradRowStride: go?.strides[1] ?? 0,
                gates: dGates.buffer, hiddenGates: dHidden?.buffer, h0: carriedH.buffer, c0: carriedC?.buffer, needH0: needH0, weight: dW.buffer,
                input: inputGradients, keepGates: projection == nil || needX || kind == .gru))
            let dhgAll = dHidden ?? dGates
            var grads: [Tensor?] = [dGates]
            if let projection {
                let rows = steps * n, features = px!.shape[1]
                var dx: Tensor? = nil
                if needX {  // dL/dx = dL/d projections·W_ih
                    let gx = Tensor.empty([rows, features], dtype: dt, device: device)
                    backend.gemm(dtype: dt, batch: 1, transA: false, transB: false, m: rows, n: features, k: gh, alpha: 1,
                                 dGates.buffer, lda: gh, strideA: 0, pw!.buffer, ldb: features, strideB: 0, beta: 0, gx.buffer, ldc: features, strideC: 0)
                    dx = gx
                }
                grads = [dx, needPW ? dPW : nil]
                if projection.bias != nil { grads.append(needPB ? dPB : nil) }
            }
            grads.append(dW)
            if hiddenBias != nil { grads.append(withNoGrad { dhgAll.reshape([steps * n, gh]).sum(dim: 0) }) }
            if h0 != nil { grads.append(needH0 ? carriedH : nil) }
            if c0 != nil { grads.append(carriedC) }
            return grads
        }
        let tokenGrad = Tensor.zeros([1], dtype: dt, device: device)
        let hs = states.select(dim: 2, index: 0).recording("RecurrentBackward", [token]) { g in
            arriving.hidden = g
            return [tokenGrad]
        }
        guard kind == .lstm else { return (hs, nil) }
        let cN = states.select(dim: 0, index: reverse ? 0 : steps - 1).select(dim: 1, index: 1).recording("RecurrentBackward", [token]) { g in
            arriving.finalC = g
            return [tokenGrad]
        }
        return (hs, cN)
    }
}

/// What the views a recurrence returns received in one backward pass, for the pass's own node.
private final class ArrivingGradients {
    var hidden: Tensor?, finalC: Tensor?
}

import NeuroneDevice
import NeuroneTensor

/// What `RNN`, `LSTM` and `GRU` share, like `torch.nn.RNNBase`: stacked layers, optionally
/// bidirectional, with PyTorch's parameter names, shapes, gate orders and initialisation, so a
/// state dict saved by PyTorch loads and gives the same outputs.
///
/// Parameters, per layer k and direction (suffix `_reverse` for the backward one), in PyTorch's
/// order: `weight_ih_lk` [G·H, in] (in = inputSize for layer 0, H·directions after), `weight_hh_lk`
/// [G·H, H], `bias_ih_lk` and `bias_hh_lk` [G·H] (G = 1, 4, 3 for RNN, LSTM, GRU); all drawn from
/// U[−1/√H, 1/√H].
///
/// Each layer and direction computes the input projection of every time step in one product, then
/// steps through time in one fused operation (`Tensor.recurrence`): per step one product of the
/// batch with W_hh and one kernel for the gates.
public class RNNBase: Module {
    /// The cell: PyTorch's `mode`.
    public enum Mode: String, Sendable {
        /// An Elman RNN with tanh or relu, an LSTM, a GRU (PyTorch's mode strings as raw values).
        case rnnTanh = "RNN_TANH", rnnReLU = "RNN_RELU", lstm = "LSTM", gru = "GRU"
        var cell: RecurrentCellKind {
            switch self { case .rnnTanh: return .rnnTanh; case .rnnReLU: return .rnnReLU; case .lstm: return .lstm; case .gru: return .gru }
        }
    }

    /// Which cell the layer runs.
    public let mode: Mode
    /// The sizes and options given at creation (PyTorch's names).
    public let inputSize: Int, hiddenSize: Int, numLayers: Int, bias: Bool, batchFirst: Bool, dropout: Double, bidirectional: Bool
    let generator: Generator?
    /// PyTorch's `_flat_weights`: every parameter, in its order and with its names.
    let flatWeights: [Parameter]

    init(mode: Mode, inputSize: Int, hiddenSize: Int, numLayers: Int, bias: Bool, batchFirst: Bool, dropout: Double,
         bidirectional: Bool, dtype: DType, generator: Generator?) {
        let name = mode == .lstm ? "LSTM" : mode == .gru ? "GRU" : "RNN"
        check(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
              "\(name): input_size, hidden_size and num_layers must be positive, got \(inputSize), \(hiddenSize), \(numLayers)")
        check(dropout >= 0 && dropout <= 1, "\(name): dropout must be in [0, 1], got \(dropout)")
        check(dtype == .float32 || dtype == .float64, "\(name): float32 or float64 parameters, got \(dtype)")
        (self.mode, self.inputSize, self.hiddenSize, self.numLayers) = (mode, inputSize, hiddenSize, numLayers)
        (self.bias, self.batchFirst, self.dropout, self.bidirectional, self.generator) = (bias, batchFirst, dropout, bidirectional, generator)
        let gh = mode.cell.gateCount * hiddenSize, directions = bidirectional ? 2 : 1
        var weights: [Parameter] = []
        for layer in 0..<numLayers {
            for direction in 0..<directions {
                let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
                let input = layer == 0 ? inputSize : hiddenSize * directions
                func make(_ shape: [Int]) -> Tensor { Init.standardTensor(shape, fanIn: hiddenSize, dtype: dtype, generator: generator) }
                weights.append(Parameter(wrappedValue: make([gh, input]), "weight_ih" + suffix))
                weights.append(Parameter(wrappedValue: make([gh, hiddenSize]), "weight_hh" + suffix))
                if bias {
                    weights.append(Parameter(wrappedValue: make([gh]), "bias_ih" + suffix))
                    weights.append(Parameter(wrappedValue: make([gh]), "bias_hh" + suffix))
                }
            }
        }
        flatWeights = weights
        super.init()
    }

    /// 1 or 2.
    public var numDirections: Int { bidirectional ? 2 : 1 }

    /// W_ih, W_hh, b_ih, b_hh of one layer and direction.
    func weights(layer: Int, direction: Int) -> (ih: Tensor, hh: Tensor, bih: Tensor?, bhh: Tensor?) {
        let per = bias ? 4 : 2, base = (layer * numDirections + direction) * per
        let w = flatWeights
        return (w[base].wrappedValue, w[base + 1].wrappedValue, bias ? w[base + 2].wrappedValue : nil, bias ? w[base + 3].wrappedValue : nil)
    }

    public override var typeName: String { mode == .lstm ? "LSTM" : mode == .gru ? "GRU" : "RNN" }

    public override var extraDescription: String {
        var s = "\(inputSize), \(hiddenSize)"
        if numLayers != 1 { s += ", num_layers=\(numLayers)" }
        if mode == .rnnReLU { s += ", nonlinearity='relu'" }
        if !bias { s += ", bias=False" }
        if batchFirst { s += ", batch_first=True" }
        if dropout != 0 { s += ", dropout=\(dropout)" }
        if bidirectional { s += ", bidirectional=True" }
        return s
    }

    /// The output sequence only (the whole of `h` of the last layer at every step), so the layer can
    /// stand in a `Sequential`: [T, N, D·H] (or [N, T, D·H] with `batchFirst`, [T, D·H] unbatched).
    public override func forward(_ input: Tensor) -> Tensor { run(input, h0: nil, c0: nil).output }

    /// The whole forward pass. `input` [T, N, in] ([N, T, in] with `batchFirst`) or unbatched
    /// [T, in]; h0, c0 [layers·directions, N, H] (unbatched [layers·directions, H]) or nil for zeros.
    func run(_ input: Tensor, h0: Tensor?, c0: Tensor?) -> (output: Tensor, h: Tensor, c: Tensor?) {
        let name = typeName
        check(input.rank == 2 || input.rank == 3,
              "\(name): input must be [T, N, \(inputSize)]\(batchFirst ? " (batch first: [N, T, \(inputSize)])" : "") or unbatched [T, \(inputSize)], got \(describeShape(input.shape))")
        check(input.shape[input.rank - 1] == inputSize,
              "\(name): input of shape \(describeShape(input.shape)) has \(input.shape[input.rank - 1]) features in its last dim, expected input_size = \(inputSize)")
        let unbatched = input.rank == 2
        var x = unbatched ? input.unsqueeze(1) : (batchFirst ? input.transpose(0, 1) : input)  // [T, N, in]
        let (steps, n, h, d) = (x.shape[0], x.shape[1], hiddenSize, numDirections)
        check(steps > 0 && n > 0, "\(name): the input has no time steps or no samples: \(describeShape(input.shape))")
        let expected = unbatched ? [numLayers * d, h] : [numLayers * d, n, h]
        func state(_ t: Tensor?, _ what: String) -> Tensor? {
            guard let t else { return nil }
            check(t.shape == expected, "\(name): \(what) must be \(describeShape(expected)) (layers·directions\(unbatched ? "" : ", batch"), hidden), got \(describeShape(t.shape))")
            return unbatched ? t.unsqueeze(1) : t
        }
        let (hx, cx) = (state(h0, "h0"), state(c0, "c0"))
        var lastH: [Tensor] = [], lastC: [Tensor] = []
        for layer in 0..<numLayers {
            let features = x.shape[2]
            let flat = x.reshape([steps * n, features])
            var outputs: [Tensor] = []
            for direction in 0..<d {
                let (wih, whh, bih, bhh) = weights(layer: layer, direction: direction)
                let k = layer * d + direction
                // b_hh joins the input projection except in GRU, where r multiplies W_hn·h + b_hn.
                let projectionBias: Tensor? = mode == .gru ? bih : (bih.map { $0 + bhh! })
                // the input projection W_ih·x_t + b of every step in one product, made by the pass's node
                let (hs, finalC) = Tensor.recurrence(mode.cell, input: flat, inputWeight: wih, inputBias: projectionBias, steps: steps,
                                                     hiddenWeight: whh, hiddenBias: mode == .gru ? bhh : nil,
                                                     h0: hx?.select(dim: 0, index: k), c0: cx?.select(dim: 0, index: k), reverse: direction == 1)  // hs [T, N, H]
                outputs.append(hs)
                lastH.append(hs.select(dim: 0, index: direction == 1 ? 0 : steps - 1))
                if let finalC { lastC.append(finalC) }
            }
            x = d == 2 ? Tensor.cat(outputs, dim: 2) : outputs[0]
            if dropout > 0 && isTraining && layer < numLayers - 1 { x = x.dropout(p: dropout, training: true, generator: generator) }
        }
        let output = unbatched ? x.squeeze(1) : (batchFirst ? x.transpose(0, 1) : x)
        let hN = Tensor.stack(lastH, dim: 0), cN = mode == .lstm ? Tensor.stack(lastC, dim: 0) : nil
        return (output, unbatched ? hN.squeeze(1) : hN, cN.map { unbatched ? $0.squeeze(1) : $0 })
    }
}

/// An Elman recurrent network, like `torch.nn.RNN`: h_t = tanh(W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh)
/// (or relu). Parameters and shapes as `RNNBase` (G = 1).
public final class RNN: RNNBase {
    /// The activation of an `RNN`.
    public enum Nonlinearity: String, Sendable {
        /// h = tanh(pre), the default; h = max(pre, 0).
        case tanh, relu
    }

    /// An `RNN`; omitted arguments take `torch.nn.RNN`'s defaults.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, nonlinearity: Nonlinearity = .tanh, bias: Bool = true,
                batchFirst: Bool = false, dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32, generator: Generator? = nil) {
        super.init(mode: nonlinearity == .tanh ? .rnnTanh : .rnnReLU, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: dtype, generator: generator)
    }

    /// The output sequence [T, N, D·H] and the last hidden state of every layer and direction
    /// [layers·D, N, H]; `h0` of that shape, or nil for zeros.
    public func callAsFunction(_ input: Tensor, _ h0: Tensor?) -> (output: Tensor, h: Tensor) {
        let r = run(input, h0: h0, c0: nil)
        return (r.output, r.h)
    }
}

/// Long short-term memory, like `torch.nn.LSTM`: gates i, f, g, o (that order in the weights),
/// c_t = f·c_(t−1) + i·g, h_t = o·tanh(c_t). Parameters and shapes as `RNNBase` (G = 4).
public final class LSTM: RNNBase {
    /// An `LSTM`; omitted arguments take `torch.nn.LSTM`'s defaults (`proj_size` is not supported).
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32, generator: Generator? = nil) {
        super.init(mode: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: dtype, generator: generator)
    }

    /// The output sequence [T, N, D·H] and the last (h, c) of every layer and direction, each
    /// [layers·D, N, H]; `state` of those shapes, or nil for zeros.
    public func callAsFunction(_ input: Tensor, _ state: (h: Tensor, c: Tensor)?) -> (output: Tensor, state: (h: Tensor, c: Tensor)) {
        let r = run(input, h0: state?.h, c0: state?.c)
        return (r.output, (r.h, r.c!))
    }
}

/// Gated recurrent unit, like `torch.nn.GRU`: gates r, z, n (that order in the weights),
/// n = tanh(W_in·x + b_in + r·(W_hn·h + b_hn)), h_t = (1 − z)·n + z·h_(t−1). Parameters and shapes as
/// `RNNBase` (G = 3).
public final class GRU: RNNBase {
    /// A `GRU`; omitted arguments take `torch.nn.GRU`'s defaults.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32, generator: Generator? = nil) {
        super.init(mode: .gru, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: dtype, generator: generator)
    }

    /// The output sequence [T, N, D·H] and the last hidden state [layers·D, N, H]; `h0` of that
    /// shape, or nil for zeros.
    public func callAsFunction(_ input: Tensor, _ h0: Tensor?) -> (output: Tensor, h: Tensor) {
        let r = run(input, h0: h0, c0: nil)
        return (r.output, r.h)
    }
}

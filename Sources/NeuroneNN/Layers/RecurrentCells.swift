import NeuroneDevice
import NeuroneTensor

/// What `RNNCell`, `LSTMCell` and `GRUCell` share, like `torch.nn.RNNCellBase`: one time step,
/// with parameters `weight_ih` [G·H, in], `weight_hh` [G·H, H], `bias_ih`, `bias_hh` [G·H], drawn
/// from U[−1/√H, 1/√H]. The step is the recurrent layers' fused one (`Tensor.recurrence` with T = 1).
public class RNNCellBase: Module {
    /// W_ih [G·H, in] and W_hh [G·H, H], gate blocks in PyTorch's order.
    @Parameter("weight_ih") public var weightIH: Tensor
    @Parameter("weight_hh") public var weightHH: Tensor
    /// b_ih and b_hh [G·H], or nil without bias.
    @OptionalParameter("bias_ih") public var biasIH: Tensor?
    @OptionalParameter("bias_hh") public var biasHH: Tensor?
    /// The sizes given at creation.
    public let inputSize: Int, hiddenSize: Int
    let kind: RecurrentCellKind

    init(_ kind: RecurrentCellKind, inputSize: Int, hiddenSize: Int, bias: Bool, dtype: DType, generator: Generator?) {
        let name = kind == .lstm ? "LSTMCell" : kind == .gru ? "GRUCell" : "RNNCell"
        check(inputSize > 0 && hiddenSize > 0, "\(name): input_size and hidden_size must be positive, got \(inputSize), \(hiddenSize)")
        check(dtype == .float32 || dtype == .float64, "\(name): float32 or float64 parameters, got \(dtype)")
        (self.kind, self.inputSize, self.hiddenSize) = (kind, inputSize, hiddenSize)
        let gh = kind.gateCount * hiddenSize
        func make(_ shape: [Int]) -> Tensor { Init.standardTensor(shape, fanIn: hiddenSize, dtype: dtype, generator: generator) }
        super.init()
        weightIH = make([gh, inputSize])
        weightHH = make([gh, hiddenSize])
        biasIH = bias ? make([gh]) : nil
        biasHH = bias ? make([gh]) : nil
    }

    public override var extraDescription: String {
        "\(inputSize), \(hiddenSize)" + (biasIH == nil ? ", bias=False" : "") + (kind == .rnnReLU ? ", nonlinearity='relu'" : "")
    }

    /// One step: input [N, in] or [in], h and c [N, H] or [H] (nil: zeros). Returns h' (and c').
    func step(_ input: Tensor, h: Tensor?, c: Tensor?) -> (h: Tensor, c: Tensor?) {
        let name = typeName
        check((input.rank == 1 || input.rank == 2) && input.shape[input.rank - 1] == inputSize,
              "\(name): input must be [N, \(inputSize)] or [\(inputSize)], got \(describeShape(input.shape))")
        let unbatched = input.rank == 1
        let x = unbatched ? input.unsqueeze(0) : input
        let n = x.shape[0]
        func state(_ t: Tensor?, _ what: String) -> Tensor? {
            guard let t else { return nil }
            let expected = unbatched ? [hiddenSize] : [n, hiddenSize]
            check(t.shape == expected, "\(name): \(what) must be \(describeShape(expected)), got \(describeShape(t.shape))")
            return unbatched ? t.unsqueeze(0) : t
        }
        let projectionBias: Tensor? = kind == .gru ? biasIH : biasIH.map { $0 + biasHH! }
        let xp = x.linear(weight: weightIH, bias: projectionBias).unsqueeze(0)  // [1, N, G·H]
        let (hs, finalC) = Tensor.recurrence(kind, inputProjection: xp, hiddenWeight: weightHH, hiddenBias: kind == .gru ? biasHH : nil,
                                             h0: state(h, "hx"), c0: state(c, "cx"), reverse: false, consumingInputProjection: true)
        var hOut = hs.select(dim: 0, index: 0), cOut = finalC
        if unbatched { hOut = hOut.squeeze(0); cOut = cOut?.squeeze(0) }
        return (hOut, cOut)
    }
}

/// One step of an Elman RNN, like `torch.nn.RNNCell`: h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh) (or relu).
public final class RNNCell: RNNCellBase {
    /// An `RNNCell`; omitted arguments take PyTorch's defaults.
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, nonlinearity: RNN.Nonlinearity = .tanh,
                dtype: DType = .float32, generator: Generator? = nil) {
        super.init(nonlinearity == .tanh ? .rnnTanh : .rnnReLU, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, dtype: dtype, generator: generator)
    }
    /// h' from zeros.
    public override func forward(_ input: Tensor) -> Tensor { step(input, h: nil, c: nil).h }
    /// h' from `h` [N, H] (or [H]); nil is zeros.
    public func callAsFunction(_ input: Tensor, _ h: Tensor?) -> Tensor { step(input, h: h, c: nil).h }
}

/// One step of an LSTM, like `torch.nn.LSTMCell` (gates i, f, g, o).
public final class LSTMCell: RNNCellBase {
    /// An `LSTMCell`; omitted arguments take PyTorch's defaults.
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, dtype: DType = .float32, generator: Generator? = nil) {
        super.init(.lstm, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, dtype: dtype, generator: generator)
    }
    /// h' from zero states.
    public override func forward(_ input: Tensor) -> Tensor { step(input, h: nil, c: nil).h }
    /// (h', c') from `state` ([N, H] each, or [H]); nil is zeros.
    public func callAsFunction(_ input: Tensor, _ state: (h: Tensor, c: Tensor)?) -> (h: Tensor, c: Tensor) {
        let r = step(input, h: state?.h, c: state?.c)
        return (r.h, r.c!)
    }
}

/// One step of a GRU, like `torch.nn.GRUCell` (gates r, z, n).
public final class GRUCell: RNNCellBase {
    /// A `GRUCell`; omitted arguments take PyTorch's defaults.
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, dtype: DType = .float32, generator: Generator? = nil) {
        super.init(.gru, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, dtype: dtype, generator: generator)
    }
    /// h' from zeros.
    public override func forward(_ input: Tensor) -> Tensor { step(input, h: nil, c: nil).h }
    /// h' from `h` [N, H] (or [H]); nil is zeros.
    public func callAsFunction(_ input: Tensor, _ h: Tensor?) -> Tensor { step(input, h: h, c: nil).h }
}

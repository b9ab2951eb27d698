import NeuroneDevice
import NeuroneTensor

/// y = x·Wᵀ + b, like `torch.nn.Linear`. Weight [out, in], bias [out]; input [*, in].
/// Default initialisation is PyTorch's: both drawn from U[−1/√in, 1/√in].
public final class Linear: Module {
    @Parameter public var weight: Tensor
    @OptionalParameter public var bias: Tensor?
    /// The `inFeatures` given at creation.
    public let inFeatures: Int
    /// The `outFeatures` given at creation.
    public let outFeatures: Int

    /// A `Linear`; omitted arguments take `torch.nn.Linear`'s defaults.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, dtype: DType = .float32, generator: Generator? = nil) {
        check(inFeatures > 0 && outFeatures > 0, "Linear: features must be positive, got in=\(inFeatures), out=\(outFeatures)")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weight = Init.standardTensor([outFeatures, inFeatures], fanIn: inFeatures, dtype: dtype, generator: generator)
        self.bias = bias ? Init.standardTensor([outFeatures], fanIn: inFeatures, dtype: dtype, generator: generator) : nil
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        checkInput(input)
        return input.linear(weight: weight, bias: bias)
    }

    /// The layer with `activation` applied in its output pass (`Tensor.linear(…, activation:)`).
    public override func forward(_ input: Tensor, activation: FusedActivation) -> Tensor {
        checkInput(input)
        return input.linear(weight: weight, bias: bias, activation: activation)
    }

    public override var fusesActivation: Bool { true }

    private func checkInput(_ input: Tensor) {
        check(input.rank >= 1 && input.shape[input.rank - 1] == inFeatures,
              "Linear(in_features=\(inFeatures), out_features=\(outFeatures)): input of shape \(describeShape(input.shape)) has \(input.rank == 0 ? 0 : input.shape[input.rank - 1]) features in its last dim, expected \(inFeatures)")
    }

    public override var extraDescription: String { "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias == nil ? "False" : "True")" }

    /// Sets the layer by hand in one call: `weight` has one row per output neuron (out × in), as
    /// the course writes a layer's weights, and `bias` one value per output (or one shared value).
    public func assign(weight rows: [[Double]], bias values: [Double]? = nil) {
        check(rows.count == outFeatures && rows.allSatisfy { $0.count == inFeatures },
              "Linear.assign: weight must be \(outFeatures) rows of \(inFeatures) values, got \(rows.map { $0.count })")
        withNoGrad { weight.copy(from: rows.flatMap { $0 }) }
        if let v = values {
            guard let b = bias else { fail("Linear.assign: this layer has no bias (created with bias: false)") }
            check(v.count == outFeatures || v.count == 1, "Linear.assign: bias must have \(outFeatures) values (or 1 shared), got \(v.count)")
            withNoGrad { b.copy(from: v.count == 1 ? [Double](repeating: v[0], count: outFeatures) : v) }
        }
    }
}

/// Returns its input.
public final class Identity: Module {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input }
}

/// Flattens dims startDim…endDim (1…−1 by default, keeping the batch dim).
public final class Flatten: Module {
    /// The `startDim`, `endDim` given at creation.
    public let startDim: Int, endDim: Int
    /// A `Flatten`; omitted arguments take `torch.nn.Flatten`'s defaults.
    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { input.flatten(startDim: startDim, endDim: endDim) }
    public override var extraDescription: String { "start_dim=\(startDim), end_dim=\(endDim)" }
}

/// Splits dim `dim` into `sizes`.
public final class Unflatten: Module {
    /// The `dim`, `sizes` given at creation.
    public let dim: Int, sizes: [Int]
    /// A `Unflatten`; omitted arguments take `torch.nn.Unflatten`'s defaults.
    public init(dim: Int, sizes: [Int]) {
        self.dim = dim
        self.sizes = sizes
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor {
        let d = normalizeDim(dim, input.rank, "Unflatten")
        check(sizes.reduce(1, *) == input.shape[d] || sizes.contains(-1),
              "Unflatten: sizes \(sizes) do not multiply to the size \(input.shape[d]) of dim \(d) (input shape \(describeShape(input.shape)))")
        return input.reshape(Array(input.shape[..<d]) + sizes + Array(input.shape[(d + 1)...]))
    }
    public override var extraDescription: String { "dim=\(dim), unflattened_size=\(sizes)" }
}

/// Zeroes elements with probability p during training and scales the rest by 1/(1 − p).
/// Identity in evaluation mode.
public final class Dropout: Module {
    /// The `p` given at creation.
    public let p: Double
    let generator: Generator?
    /// A `Dropout`; omitted arguments take `torch.nn.Dropout`'s defaults.
    public init(_ p: Double = 0.5, generator: Generator? = nil) {
        check(p >= 0 && p <= 1, "Dropout: probability has to be between 0 and 1, but got \(p)")
        self.p = p
        self.generator = generator
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { input.dropout(p: p, training: isTraining, generator: generator) }
    public override var extraDescription: String { "p=\(p)" }
}

/// Zeroes whole channels (dim 1 of [N, C, …]) with probability p during training.
public final class Dropout2d: Module {
    /// The `p` given at creation.
    public let p: Double
    let generator: Generator?
    /// A `Dropout2d`; omitted arguments take `torch.nn.Dropout2d`'s defaults.
    public init(_ p: Double = 0.5, generator: Generator? = nil) {
        check(p >= 0 && p <= 1, "Dropout2d: probability has to be between 0 and 1, but got \(p)")
        self.p = p
        self.generator = generator
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor {
        guard isTraining, p > 0 else { return input }
        check(input.rank >= 3, "Dropout2d: expected an input of shape [N, C, H, W] or [C, H, W], got \(describeShape(input.shape))")
        var maskShape = input.shape
        let channelDim = input.rank == 3 ? 0 : 1
        for d in (channelDim + 1)..<input.rank { maskShape[d] = 1 }
        if input.rank > 4 { for d in 0..<channelDim { maskShape[d] = input.shape[d] } }
        if p >= 1 { return input * 0.0 }
        return input * Tensor.dropoutMask(maskShape, keep: 1 - p, dtype: input.dtype, generator: generator)
    }
    public override var extraDescription: String { "p=\(p)" }
}

extension Tensor {
    /// 1 with probability p, else 0.
    public static func bernoulli(_ shape: [Int], p: Double, dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
        check(p >= 0 && p <= 1, "bernoulli: p must be in [0, 1], got \(p)")
        return (Tensor.rand(shape, dtype: dtype.isFloatingPoint ? dtype : .float64, generator: generator) .< p).to(dtype)
    }

    /// Dropout as a function: in training, zeroes each element with probability p and scales the
    /// rest by 1/(1 − p).
    public func dropout(p: Double = 0.5, training: Bool = true, generator: Generator? = nil) -> Tensor {
        guard training, p > 0 else { return self }
        if p >= 1 { return self * 0.0 }
        return self * Tensor.dropoutMask(shape, keep: 1 - p, dtype: dtype, generator: generator)
    }
}

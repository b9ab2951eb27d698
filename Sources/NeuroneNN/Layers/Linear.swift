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

extension Tensor {
    /// 1 with probability p, else 0.
    public static func bernoulli(_ shape: [Int], p: Double, dtype: DType = .float32, device: Device = .default,
                                 generator: Generator? = nil) -> Tensor {
        check(p >= 0 && p <= 1, "bernoulli: p must be in [0, 1], got \(p)")
        return (Tensor.rand(shape, dtype: dtype.isFloatingPoint ? dtype : .float64, device: device, generator: generator) .< p).to(dtype)
    }

    /// Dropout as a function: in training, zeroes each element with probability p and scales the
    /// rest by 1/(1 − p).
    public func dropout(p: Double = 0.5, training: Bool = true, generator: Generator? = nil) -> Tensor {
        guard training, p > 0 else { return self }
        if p >= 1 { return self * 0.0 }
        return self * Tensor.dropoutMask(shape, keep: 1 - p, dtype: dtype, generator: generator, device: device)
    }
}

import NeuroneDevice
import NeuroneTensor

/// Layer normalisation over the trailing `normalizedShape` dims (biased variance), with an
/// elementwise affine transform, like `torch.nn.LayerNorm`.
public final class LayerNorm: Module {
    @OptionalParameter public var weight: Tensor?
    @OptionalParameter public var bias: Tensor?
    /// The `normalizedShape` given at creation.
    public let normalizedShape: [Int]
    /// The `eps` given at creation.
    public let eps: Double

    /// A `LayerNorm`; omitted arguments take `torch.nn.LayerNorm`'s defaults.
    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true, dtype: DType = .float32) {
        check(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 }, "LayerNorm: normalized shape must be non-empty and positive, got \(normalizedShape)")
        self.normalizedShape = normalizedShape
        self.eps = eps
        self.weight = elementwiseAffine ? Tensor.ones(normalizedShape, dtype: dtype) : nil
        self.bias = elementwiseAffine && bias ? Tensor.zeros(normalizedShape, dtype: dtype) : nil
        super.init()
    }

    /// A `LayerNorm`; omitted arguments take `torch.nn.LayerNorm`'s defaults.
    public convenience init(_ features: Int, eps: Double = 1e-5) { self.init([features], eps: eps) }

    public override func forward(_ x: Tensor) -> Tensor {
        let k = normalizedShape.count
        check(x.rank >= k && Array(x.shape.suffix(k)) == normalizedShape,
              "LayerNorm(\(normalizedShape)): input of shape \(describeShape(x.shape)) does not end with the normalized shape")
        return x.layerNorm(normalizedCount: normalizedShape.reduce(1, *), weight: weight, bias: bias, eps: eps)
    }

    public override var extraDescription: String { "\(normalizedShape), eps=\(eps), elementwise_affine=\(weight != nil ? "True" : "False")" }
}

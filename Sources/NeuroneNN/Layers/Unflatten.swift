import NeuroneDevice
import NeuroneTensor

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

import NeuroneDevice
import NeuroneTensor

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
        return input * Tensor.dropoutMask(maskShape, keep: 1 - p, dtype: input.dtype, generator: generator, device: input.device)
    }
    public override var extraDescription: String { "p=\(p)" }
}

import NeuroneDevice
import NeuroneTensor

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

import NeuroneDevice
import NeuroneTensor

/// One row of a model summary.
public struct LayerSummary: Equatable, Sendable {
    /// The module's dotted name, as in the state dict ("0", "conv1").
    public let name: String
    /// The layer type ("Conv2d").
    public let type: String
    /// The output shape for one sample (no batch dim).
    public let outputShape: [Int]
    /// Parameters of the layer.
    public let params: Int
    /// Trainable parameters of the layer.
    public let trainableParams: Int
    /// Multiplications of the forward pass for one sample (linear and convolution layers).
    public let multiplications: Int
    /// For a recurrent layer, the time steps it ran (its multiplications are this many times those
    /// of one step); nil for other layers.
    public var timeSteps: Int? = nil
}

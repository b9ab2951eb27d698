import NeuroneDevice
import NeuroneTensor

/// How a loss combines its per-element values.
public enum Reduction: String, Sendable {
    case none, mean, sum
}

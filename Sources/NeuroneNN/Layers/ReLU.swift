import NeuroneDevice
import NeuroneTensor

/// Activation layers; each is the tensor function of the same name as a `Module`.
public final class ReLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.relu() }
}

import NeuroneDevice
import NeuroneTensor

/// The `Tanh` activation as a layer (`torch.nn.Tanh`).
public final class Tanh: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.tanh() }
}

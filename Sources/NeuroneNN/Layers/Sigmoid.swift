import NeuroneDevice
import NeuroneTensor

/// The `Sigmoid` activation as a layer (`torch.nn.Sigmoid`).
public final class Sigmoid: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.sigmoid() }
}

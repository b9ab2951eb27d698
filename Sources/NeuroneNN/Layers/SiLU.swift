import NeuroneDevice
import NeuroneTensor

/// The `SiLU` activation as a layer (`torch.nn.SiLU`).
public final class SiLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.silu() }
}

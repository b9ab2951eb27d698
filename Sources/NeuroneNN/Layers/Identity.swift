import NeuroneDevice
import NeuroneTensor

/// Returns its input.
public final class Identity: Module {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input }
}

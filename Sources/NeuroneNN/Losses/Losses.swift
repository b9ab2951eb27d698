import NeuroneDevice
import NeuroneTensor

extension Tensor {
    func reduced(_ r: Reduction) -> Tensor {
        switch r {
        case .none: return self
        case .mean: return mean()
        case .sum: return sum()
        }
    }
}

import NeuroneDevice
import NeuroneTensor

extension Module {
    /// A summary for per-sample inputs of shape `input`.
    public func summary(input: [Int], dtype: DType = .float32) -> ModelSummary { ModelSummary(model: self, input: input, dtype: dtype) }
}

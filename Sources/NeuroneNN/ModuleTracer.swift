import NeuroneDevice
import NeuroneTensor

/// Records the layers a forward pass calls, with their input and output shapes, for summaries
/// (like forward hooks in PyTorch): every leaf module, and every module that asks to be shown as
/// one layer (`Module.summarizedAsOneLayer`, e.g. MultiheadAttention with its inner projection),
/// without the modules it calls itself.
package final class ModuleTracer {
    package struct Call {
        package let module: Module
        package let inputShape: [Int]
        package let outputShape: [Int]
    }

    package nonisolated(unsafe) static var current: ModuleTracer?

    package init() {}
    package private(set) var calls: [Call] = []
    /// The module shown as one layer whose forward pass is running, if any.
    private var unit: ObjectIdentifier?

    func enter(_ module: Module) {
        if unit == nil && module.summarizedAsOneLayer { unit = ObjectIdentifier(module) }
    }

    func exit(_ module: Module, input: Tensor, output: Tensor) {
        if let u = unit {
            guard u == ObjectIdentifier(module) else { return }
            unit = nil
        } else if !module.summarizedAsOneLayer {
            return
        }
        calls.append(Call(module: module, inputShape: input.shape, outputShape: output.shape))
    }
}

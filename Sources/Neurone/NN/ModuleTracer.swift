/// Records the leaf modules a forward pass calls, with their input and output shapes, for
/// summaries (like forward hooks in PyTorch).
final class ModuleTracer {
    struct Call {
        let module: Module
        let inputShape: [Int]
        let outputShape: [Int]
    }

    nonisolated(unsafe) static var current: ModuleTracer?
    private(set) var calls: [Call] = []
    private var depth = 0

    func enter() { depth += 1 }
    func exit(_ module: Module, input: Tensor, output: Tensor, isLeaf: Bool) {
        depth -= 1
        if isLeaf { calls.append(Call(module: module, inputShape: input.shape, outputShape: output.shape)) }
    }
}

import NeuroneDevice

/// One recorded op in the autograd graph: its inputs and the function that maps the gradient
/// of its output to the gradients of those inputs (a vector-Jacobian product).
/// The closure is written beside the forward formula of each op.
final class Node {
    let name: String
    var inputs: [Tensor]
    var backward: ((Tensor) -> [Tensor?])?
    var freed = false

    init(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }

    /// Drops the saved tensors once the graph has been used (unless retained).
    func free() {
        backward = nil
        inputs = []
        freed = true
    }
}

/// Runs `body` without recording the autograd graph (like `torch.no_grad()`).
@discardableResult
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    let saved = GradMode.enabled
    GradMode.enabled = false
    defer { GradMode.enabled = saved }
    return try body()
}

/// Runs `body` with graph recording on, even inside `withNoGrad`.
@discardableResult
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    let saved = GradMode.enabled
    GradMode.enabled = true
    defer { GradMode.enabled = saved }
    return try body()
}

extension Tensor {
    /// True when an op on these inputs must record a node.
    @inline(__always) package static func needsGrad(_ a: Tensor) -> Bool { GradMode.enabled && a._requiresGrad }
    @inline(__always) static func needsGrad(_ a: Tensor, _ b: Tensor) -> Bool {
        GradMode.enabled && (a._requiresGrad || b._requiresGrad)
    }

    /// Attaches a graph node to `self` (an op's fresh output) when grad mode is on and an input
    /// requires grad. Returns self.
    @inline(__always)
    package func recording(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.enabled else { return self }
        var any = false
        for t in inputs where t._requiresGrad { any = true; break }
        if !any { return self }
        gradFn = Node(name, inputs, backward)
        _requiresGrad = true
        return self
    }

    /// A leaf that shares this tensor's data but is cut from the graph.
    public func detach() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }
}

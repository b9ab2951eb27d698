import NeuroneDevice

extension Tensor {
    /// Computes the gradient of this tensor with respect to every leaf that requires grad and
    /// adds it to that leaf's `grad` (gradients accumulate; zero them between steps).
    ///
    /// - Parameters:
    ///   - gradient: ∂L/∂self. May be omitted only when self has one element (then 1).
    ///   - retainGraph: keep the graph so that `backward` can run through it again.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) {
        check(_requiresGrad, "backward: element 0 of tensors does not require grad and does not have a grad_fn (shape \(describeShape(shape)))")
        let seed: Tensor
        if let g = gradient {
            check(g.shape == shape, "backward: gradient has shape \(describeShape(g.shape)) but the tensor has shape \(describeShape(shape))")
            seed = g.dtype == dtype ? g.detach() : g.to(dtype)
        } else {
            check(count == 1, "backward: grad can be implicitly created only for scalar outputs, got shape \(describeShape(shape)); pass a gradient of that shape")
            seed = Tensor.ones(shape, dtype: dtype, device: device)
        }

        // Topological order by iterative post-order DFS over tensors that require grad.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (t, start) = stack.popLast() {
            var next = start
            if let node = t.gradFn {
                check(!node.freed, "backward: trying to backward through the graph a second time (through \(node.name)); the saved tensors were freed after the first call. Pass retainGraph: true to the first backward to keep them")
                var pushed = false
                while next < node.inputs.count {
                    let input = node.inputs[next]
                    next += 1
                    if input._requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                        visited.insert(ObjectIdentifier(input))
                        stack.append((t, next))
                        stack.append((input, 0))
                        pushed = true
                        break
                    }
                }
                if pushed { continue }
            }
            order.append(t)
        }

        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        // Gradients that own their storage outright (fresh results of a backward function, not
        // the upstream gradient or a view of it) can become a leaf's `grad` without a copy.
        var owned = Set<ObjectIdentifier>()
        withNoGrad {
            for t in order.reversed() {
                let id = ObjectIdentifier(t)
                guard let g = grads.removeValue(forKey: id) else { continue }
                let isOwned = owned.remove(id) != nil
                if t.gradFn == nil || t.retainsGrad {
                    if let existing = t.grad {
                        t.grad = existing + g
                    } else if isOwned && g.isContiguous && g.offset == 0 && g.storage.byteCount == g.count * g.dtype.byteSize && !t.retainsGrad {
                        t.grad = g
                    } else {
                        t.grad = g.contiguousCopy()
                    }
                    // every consumer of t has run: its gradient of this pass is final
                    for entry in t.postAccumulateGradHooks { entry.hook(t) }
                }
                guard let node = t.gradFn else { continue }
                guard let fn = node.backward else { continue }
                let inputGrads = fn(g)
                var seenStorage = Set<ObjectIdentifier>([ObjectIdentifier(g.storage)])
                for (input, ig) in zip(node.inputs, inputGrads) {
                    guard let ig = ig, input._requiresGrad else { continue }
                    check(ig.shape == input.shape,
                          "internal error: \(node.name) backward produced a gradient of shape \(describeShape(ig.shape)) for an input of shape \(describeShape(input.shape))")
                    let key = ObjectIdentifier(input)
                    var cast = ig
                    // a 0-d operand from another device (PyTorch's scalar exception) takes its gradient home
                    if _slowPath(cast.storage.device != input.storage.device) { cast = cast.to(device: input.storage.device) }
                    if cast.dtype != input.dtype { cast = cast.to(input.dtype) }
                    let fresh = seenStorage.insert(ObjectIdentifier(cast.storage)).inserted
                    if let existing = grads[key] {
                        grads[key] = existing + cast
                        owned.insert(key)
                    } else {
                        grads[key] = cast
                        if fresh { owned.insert(key) } else { owned.remove(key) }
                    }
                }
                if !retainGraph { node.free() }
            }
        }
        Autograd.runQueuedCallbacks()
    }

    /// Calls `hook(self)` each time `backward` has accumulated this leaf's gradient of the pass
    /// into `grad` — after every op that uses the tensor has passed its part back — like PyTorch's
    /// `register_post_accumulate_grad_hook`. Data-parallel training starts sending a bucket of
    /// gradients as soon as the hooks of all its parameters have run. For leaves only. The
    /// handle returned removes the hook.
    @discardableResult
    public func registerPostAccumulateGradHook(_ hook: @escaping (Tensor) -> Void) -> RemovableHandle {
        check(isLeaf, "registerPostAccumulateGradHook: the tensor is not a leaf (made by \(gradFn?.name ?? "?")); hooks run on leaves, whose grad backward fills")
        let id = (postAccumulateGradHooks.map(\.id).max() ?? 0) + 1
        postAccumulateGradHooks.append((id, hook))
        return RemovableHandle { [weak self] in self?.postAccumulateGradHooks.removeAll { $0.id == id } }
    }
}

/// Removes the hook it was returned for (PyTorch's `RemovableHandle`); removing twice does nothing.
public struct RemovableHandle {
    let removal: () -> Void
    /// Removes the hook.
    public func remove() { removal() }
}

/// The autograd engine's callbacks, as PyTorch's `Variable._execution_engine.queue_callback`.
public enum Autograd {
    nonisolated(unsafe) static var queued: [() -> Void] = []

    /// Queues `callback` to run once when the `backward` call now running has finished (every
    /// gradient computed and every hook called); called from a hook. Outside a backward pass the
    /// callback runs at the end of the next one.
    public static func queueCallback(_ callback: @escaping () -> Void) { queued.append(callback) }

    static func runQueuedCallbacks() {
        while !queued.isEmpty {
            let callbacks = queued
            queued = []
            for c in callbacks { c() }
        }
    }
}

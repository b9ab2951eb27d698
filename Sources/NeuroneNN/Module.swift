import NeuroneDevice
import NeuroneTensor

/// The base class of every layer and network, like `torch.nn.Module`.
///
/// Parameters (`@Parameter`), buffers (`@Buffer`) and sub-modules (stored properties whose value
/// is a `Module`, an optional `Module` or an array of modules) are found by reflection, in
/// declaration order: no registration. Their hierarchical names are PyTorch's `state_dict` names
/// for the same structure (`conv1.weight`, `layers.0.bias`; `0.weight` inside a `Sequential`).
///
/// Subclasses override `forward(_:)`; calling a module (`model(x)`) runs it.
open class Module {
    /// True in training mode (the default): dropout drops and batch norm uses batch statistics.
    public private(set) var isTraining = true

    /// An empty module; subclasses declare their parameters and sub-modules as properties.
    public init() {}

    /// The computation. Subclasses override it.
    open func forward(_ input: Tensor) -> Tensor {
        fail("\(type(of: self)) does not implement forward(_:)")
    }

    /// Runs `forward(_:)`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard let tracer = ModuleTracer.current else { return forward(input) }
        tracer.enter(self)
        let output = forward(input)
        tracer.exit(self, input: input, output: output)
        return output
    }

    /// Runs `body` — a call of this module other than `callAsFunction(_:)`, such as attention with
    /// masks — as a call of the module for summaries (`ModuleTracer`), with `input` as its input.
    package func traced(_ input: Tensor, _ body: () -> Tensor) -> Tensor {
        guard let tracer = ModuleTracer.current else { return body() }
        tracer.enter(self)
        let output = body()
        tracer.exit(self, input: input, output: output)
        return output
    }

    /// The output passed through `activation`: `forward(input)` and then the activation as its
    /// own op, unless the layer overrides this to fuse it into its output pass (Conv2d and Linear do).
    open func forward(_ input: Tensor, activation: FusedActivation) -> Tensor {
        activation.apply(forward(input))
    }

    /// Runs the module and `activation` on its output (`conv1(x, activation: .relu)` for
    /// `relu(conv1(x))`), fused where the layer can. Under a tracer (summary, explain) the module
    /// runs alone and the activation after it, so that hooks see the layer's own output.
    public func callAsFunction(_ input: Tensor, activation: FusedActivation) -> Tensor {
        if ModuleTracer.current != nil { return activation.apply(self(input)) }
        return forward(input, activation: activation)
    }

    /// True for layers whose `forward(_:activation:)` fuses the activation (Sequential then fuses
    /// a following activation layer into them).
    open var fusesActivation: Bool { false }

    /// What this model's output is (logits, probabilities, log-probabilities) when the model says
    /// so itself, as a model whose forward ends in a function rather than a layer must; nil:
    /// decided from its last leaf module (`Trainer.outputKind(of:)`).
    open var declaredOutputKind: OutputKind? { nil }

    /// Whether summaries show this module as one row (true for leaves; a layer with inner modules,
    /// like MultiheadAttention, overrides it).
    open var summarizedAsOneLayer: Bool { namedChildren.isEmpty }

    /// The dtype this module takes its input in when it is not a float (`Embedding`: int64 token
    /// indices; a `Sequential`: its first layer's), so that shape passes and data pipelines feed it
    /// the right kind of tensor. nil: floating point.
    open var expectedInputDType: DType? { nil }

    /// A short name of the layer type for summaries ("Linear", "Conv2d").
    open var typeName: String { String(describing: type(of: self)) }

    /// The layer's arguments as PyTorch prints them ("in_features=784, out_features=10").
    open var extraDescription: String { "" }

    // MARK: discovery

    private struct Slots {
        var parameters: [(String, Tensor?)] = []
        /// How to put another tensor in place of each present parameter, by name.
        var parameterSetters: [(String, (Tensor) -> Void)] = []
        var buffers: [(String, Tensor)] = []
        var children: [(String, Module)] = []
    }

    private func slots() -> Slots {
        var result = Slots()
        var mirrors: [Mirror] = []
        var m: Mirror? = Mirror(reflecting: self)
        while let mirror = m {
            mirrors.append(mirror)
            m = mirror.superclassMirror
        }
        for mirror in mirrors.reversed() {
            for child in mirror.children {
                guard var label = child.label else { continue }
                if label.hasPrefix("_") { label.removeFirst() }
                switch child.value {
                case let p as Parameter:
                    result.parameters.append((p.stateName ?? label, p.wrappedValue))
                    result.parameterSetters.append((p.stateName ?? label, { p.wrappedValue = $0 }))
                case let p as OptionalParameter:
                    result.parameters.append((p.stateName ?? label, p.wrappedValue))
                    if p.wrappedValue != nil { result.parameterSetters.append((p.stateName ?? label, { p.wrappedValue = $0 })) }
                case let b as Buffer: result.buffers.append((b.stateName ?? label, b.wrappedValue))
                case let list as [Parameter]:  // a layer with a variable number of parameters (RNNBase)
                    for (i, p) in list.enumerated() {
                        result.parameters.append((p.stateName ?? "\(label).\(i)", p.wrappedValue))
                        result.parameterSetters.append((p.stateName ?? "\(label).\(i)", { p.wrappedValue = $0 }))
                    }
                case let module as Module: result.children.append((label, module))
                case let list as [Module]:
                    for (i, module) in list.enumerated() { result.children.append(("\(label).\(i)", module)) }
                case let optional as Module?:
                    if let module = optional { result.children.append((label, module)) }
                default: break
                }
            }
        }
        return result
    }

    /// Direct sub-modules with their names. `Sequential` overrides this to name them 0, 1, 2…
    open var namedChildren: [(String, Module)] { slots().children }

    /// This module's own parameters (not those of sub-modules), absent optional ones included as nil.
    var ownParameters: [(String, Tensor?)] { slots().parameters }
    var ownBuffers: [(String, Tensor)] { slots().buffers }

    /// Every module in the tree, depth first, with its dotted name ("" for self).
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var out: [(String, Module)] = [(prefix, self)]
        for (name, child) in namedChildren {
            out += child.namedModules(prefix: prefix.isEmpty ? name : prefix + "." + name)
        }
        return out
    }

    /// Every parameter with its PyTorch state-dict name, in PyTorch's order.
    public func namedParameters() -> [(String, Tensor)] {
        namedModules().flatMap { (prefix, module) in
            module.ownParameters.compactMap { name, t in t.map { (prefix.isEmpty ? name : prefix + "." + name, $0) } }
        }
    }

    /// Every parameter tensor.
    public func parameters() -> [Tensor] { namedParameters().map { $0.1 } }

    /// Every buffer with its state-dict name.
    public func namedBuffers() -> [(String, Tensor)] {
        namedModules().flatMap { (prefix, module) in
            module.ownBuffers.map { (prefix.isEmpty ? $0.0 : prefix + "." + $0.0, $0.1) }
        }
    }

    // MARK: modes

    /// Sets training mode on this module and every sub-module.
    public func train(_ mode: Bool = true) {
        for (_, m) in namedModules() { m.isTraining = mode }
    }

    /// Sets the mode of this module only (not its children).
    func setOwnTrainingMode(_ mode: Bool) { isTraining = mode }

    /// Sets evaluation mode (`train(false)`).
    public func eval() { train(false) }

    /// Stops gradients to every parameter (`requiresGrad = false`).
    public func freeze() { for p in parameters() { p.requiresGrad = false } }
    /// Lets gradients flow to every parameter again.
    public func unfreeze() { for p in parameters() { p.requiresGrad = true } }

    /// Clears the gradients of every parameter.
    public func zeroGrad() { for p in parameters() { p.grad = nil } }

    /// Number of parameter elements.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }
    /// Number of parameter elements that require grad.
    public var trainableParameterCount: Int { parameters().filter { $0.requiresGrad }.reduce(0) { $0 + $1.count } }

    // MARK: state

    /// Parameters then buffers of each module, in PyTorch's `state_dict()` order and naming.
    public func stateDict() -> [(String, Tensor)] {
        namedModules().flatMap { (prefix, module) -> [(String, Tensor)] in
            let full = { (n: String) in prefix.isEmpty ? n : prefix + "." + n }
            let params = module.ownParameters.compactMap { n, t in t.map { (full(n), $0.detach()) } }
            return params + module.ownBuffers.map { (full($0.0), $0.1.detach()) }
        }
    }

    /// Copies tensors into this module's parameters and buffers by name, in place.
    ///
    /// Throws `StateDictError` naming every missing, unexpected (when `strict`) and mis-shaped
    /// entry before changing anything.
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws {
        let own = stateDict()
        var missing: [String] = [], mismatched: [String] = []
        for (name, t) in own {
            guard let src = state[name] else { missing.append(name); continue }
            if src.shape != t.shape {
                mismatched.append("\(name): expected shape \(describeShape(t.shape)), found \(describeShape(src.shape))")
            }
        }
        let ownNames = Set(own.map { $0.0 })
        let unexpected = strict ? state.keys.filter { !ownNames.contains($0) }.sorted() : []
        if !mismatched.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            throw StateDictError(missing: strict ? missing : [], unexpected: unexpected, mismatched: mismatched)
        }
        withNoGrad {
            for (name, t) in own { if let src = state[name] { t.copy(from: src) } }
        }
    }

    /// Moves every parameter and buffer of this module and its sub-modules to `device`, in
    /// place, like PyTorch's `module.to(device)`; parameters keep `requiresGrad` and lose their
    /// `grad`. Returns the module, for chaining.
    @discardableResult
    public func to(_ device: Device) -> Self {
        for slot in tensorSlots() where slot.tensor.device != device {
            slot.replace(slot.tensor.detach().to(device: device))
        }
        return self
    }

    /// Runs `body` with every parameter and buffer replaced by an uninitialised stand-in of the
    /// same shape and dtype on `device` — on `Device.meta`, a model with no weights in memory —
    /// then puts the original tensors back: the same objects, so an optimiser holding them is
    /// unaffected.
    package func withStandIns<R>(on device: Device, _ body: () throws -> R) rethrows -> R {
        let slots = tensorSlots()
        let originals = slots.map { $0.tensor }
        for slot in slots { slot.replace(Tensor.zeros(slot.tensor.shape, dtype: slot.tensor.dtype, device: device)) }
        defer { for (slot, t) in zip(slots, originals) { slot.replace(t) } }
        return try body()
    }

    /// A parameter or buffer of this module or a sub-module: its tensor, and how to replace it
    /// keeping `requiresGrad` as it was.
    private struct TensorSlot {
        let tensor: Tensor
        let replace: (Tensor) -> Void
    }

    private func tensorSlots() -> [TensorSlot] {
        var out: [TensorSlot] = []
        for (_, module) in namedModules() {
            var m: Mirror? = Mirror(reflecting: module)
            while let mirror = m {
                for child in mirror.children {
                    switch child.value {
                    case let p as Parameter:
                        let trainable = p.wrappedValue.requiresGrad
                        out.append(TensorSlot(tensor: p.wrappedValue) { t in
                            p.wrappedValue = t
                            if t.isLeaf && t.requiresGrad != trainable { t.requiresGrad = trainable }
                        })
                    case let p as OptionalParameter:
                        guard let current = p.wrappedValue else { continue }
                        let trainable = current.requiresGrad
                        out.append(TensorSlot(tensor: current) { t in
                            p.wrappedValue = t
                            if t.isLeaf && t.requiresGrad != trainable { t.requiresGrad = trainable }
                        })
                    case let b as Buffer:
                        out.append(TensorSlot(tensor: b.wrappedValue) { t in b.wrappedValue = t })
                    case let list as [Parameter]:
                        for p in list {
                            let trainable = p.wrappedValue.requiresGrad
                            out.append(TensorSlot(tensor: p.wrappedValue) { t in
                                p.wrappedValue = t
                                if t.isLeaf && t.requiresGrad != trainable { t.requiresGrad = trainable }
                            })
                        }
                    default: break
                    }
                }
                m = mirror.superclassMirror
            }
        }
        return out
    }

    /// Puts the given tensors in place of the parameters of those state-dict names — the tensors
    /// themselves, not copies — as a functional call or a finite-difference check needs.
    package func replaceParameters(_ replacements: [String: Tensor]) {
        for (prefix, module) in namedModules() {
            for (name, set) in module.slots().parameterSetters {
                if let t = replacements[prefix.isEmpty ? name : prefix + "." + name] { set(t) }
            }
        }
    }

    /// Sets the named parameter or buffer from Swift values (row-major), e.g. the hand-wired
    /// weights of a course exercise: `net.set("0.weight", to: [1, -1, -1, 1])`.
    public func set<T: TensorScalar>(_ name: String, to values: [T]) {
        guard let t = stateDict().first(where: { $0.0 == name })?.1 else {
            fail("set(_:to:): no parameter or buffer named '\(name)'; the names are \(stateDict().map { $0.0 })")
        }
        withNoGrad { t.copy(from: values) }
    }
}

extension Module: CustomStringConvertible {
    /// PyTorch-style tree: `Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n …)`.
    public var description: String {
        let children = namedChildren
        if children.isEmpty { return "\(typeName)(\(extraDescription))" }
        var lines = ["\(typeName)(" + extraDescription]
        for (name, child) in children {
            let text = child.description.split(separator: "\n", omittingEmptySubsequences: false)
                .enumerated().map { $0.offset == 0 ? String($0.element) : "  " + $0.element }.joined(separator: "\n")
            lines.append("  (\(name)): " + text)
        }
        lines.append(")")
        return lines.joined(separator: "\n")
    }
}

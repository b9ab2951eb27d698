import NeuroneDevice
import NeuroneTensor

/// Layers applied one after the other; sub-modules are named 0, 1, 2… as in PyTorch.
public final class Sequential: Module {
    /// The layers, in order.
    public let layers: [Module]

    /// Layers applied in order.
    public init(_ layers: [Module]) {
        self.layers = layers
        super.init()
    }

    /// Layers applied in order.
    public convenience init(_ layers: Module...) { self.init(layers) }

    public override var namedChildren: [(String, Module)] { layers.enumerated().map { ("\($0.offset)", $0.element) } }

    /// The first layer's.
    public override var expectedInputDType: DType? { layers.first?.expectedInputDType }

    /// Runs the layers in order; a layer followed by a `ReLU`, `Tanh` or `Sigmoid` layer runs with
    /// that activation fused (`callAsFunction(_:activation:)`: the same values, one pass fewer),
    /// except under a tracer, where every layer runs on its own.
    public override func forward(_ input: Tensor) -> Tensor {
        if ModuleTracer.current != nil { return layers.reduce(input) { $1($0) } }
        var h = input, i = 0
        while i < layers.count {
            if i + 1 < layers.count, layers[i].fusesActivation, let a = FusedActivation(module: layers[i + 1]) {
                h = layers[i](h, activation: a)
                i += 2
            } else {
                h = layers[i](h)
                i += 1
            }
        }
        return h
    }

    /// The layer at position i.
    public subscript(i: Int) -> Module { layers[i] }
    /// Number of layers.
    public var count: Int { layers.count }
}

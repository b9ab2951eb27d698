import NeuroneDevice
import NeuroneTensor

/// Marks a module property as a trainable parameter: found by `Module.namedParameters()`,
/// saved by `stateDict()`, created with `requiresGrad = true`.
///
///     final class Affine: Module {
///         @Parameter var weight: Tensor
///         init() { weight = Tensor.ones([3]); super.init() }
///     }
///
/// The state-dict name is the property name unless one is given: `@Parameter("in_proj_weight")`.
@propertyWrapper
public final class Parameter {
    /// The parameter tensor; assigning a floating-point leaf makes it require grad.
    public var wrappedValue: Tensor {
        didSet { if !wrappedValue.requiresGrad && wrappedValue.isLeaf && wrappedValue.dtype.isFloatingPoint { wrappedValue.requiresGrad = true } }
    }
    let stateName: String?

    /// A parameter holding `wrappedValue`, saved under `name` (default: the property name).
    public init(wrappedValue: Tensor, _ name: String? = nil) {
        self.wrappedValue = wrappedValue
        self.stateName = name
        if wrappedValue.isLeaf && wrappedValue.dtype.isFloatingPoint { wrappedValue.requiresGrad = true }
    }

    /// `@Parameter("name") var w: Tensor` without an initial value; assign it in `init`.
    public init(_ name: String) {
        self.wrappedValue = Tensor.zeros([0])
        self.stateName = name
    }
}

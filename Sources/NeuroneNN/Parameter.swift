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

/// A parameter that may be absent, such as a layer's bias with `bias: false`.
@propertyWrapper
public final class OptionalParameter {
    /// The parameter tensor, or nil when absent.
    public var wrappedValue: Tensor? {
        didSet { if let t = wrappedValue, t.isLeaf, t.dtype.isFloatingPoint { t.requiresGrad = true } }
    }
    let stateName: String?

    /// An optional parameter, saved under `name` (default: the property name).
    public init(wrappedValue: Tensor?, _ name: String? = nil) {
        self.wrappedValue = wrappedValue
        self.stateName = name
        if let t = wrappedValue, t.isLeaf, t.dtype.isFloatingPoint { t.requiresGrad = true }
    }

    /// `@OptionalParameter("name") var b: Tensor?` without an initial value; assign it in `init`.
    public init(_ name: String) {
        self.wrappedValue = nil
        self.stateName = name
    }
}

/// Marks a module property as a buffer: state that is saved and loaded but not trained
/// (BatchNorm's running statistics).
@propertyWrapper
public final class Buffer {
    /// The buffer tensor.
    public var wrappedValue: Tensor
    let stateName: String?

    /// A buffer holding `wrappedValue`, saved under `name` (default: the property name).
    public init(wrappedValue: Tensor, _ name: String? = nil) {
        self.wrappedValue = wrappedValue
        self.stateName = name
    }

    /// `@Buffer("name") var b: Tensor` without an initial value; assign it in `init`.
    public init(_ name: String) {
        self.wrappedValue = Tensor.zeros([0])
        self.stateName = name
    }
}

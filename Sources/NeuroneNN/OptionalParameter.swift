import NeuroneDevice
import NeuroneTensor

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

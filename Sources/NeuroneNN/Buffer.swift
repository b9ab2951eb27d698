import NeuroneDevice
import NeuroneTensor

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

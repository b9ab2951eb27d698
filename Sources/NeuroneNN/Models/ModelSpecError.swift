import NeuroneDevice
import NeuroneTensor

/// An error in a model spec, an input shape or a model name: the message names the token, its
/// position and the shapes involved.
public struct ModelSpecError: Error, CustomStringConvertible, Equatable {
    /// What is wrong, naming the layer, its position and the shapes.
    public let message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }
}

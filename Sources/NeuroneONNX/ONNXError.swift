/// An ONNX file or a model that cannot be exported or imported: the message names the node or
/// layer, what was expected and what was found.
public struct ONNXError: Error, CustomStringConvertible {
    /// The whole message.
    public let message: String
    /// An error with this message.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

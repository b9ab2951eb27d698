/// A message or setting the playground refuses: the message names the field, what it expects and
/// what it found. The server answers it with an error frame and keeps the session.
public struct PlaygroundError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What was refused: the field, what it expects and what it found.
    public let message: String
    /// An error with this message.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import NeuroneTraining
import Foundation

/// Bad options of an explain command.
public struct ExplainError: Error, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import Foundation

/// A problem with a safetensors file: the message names the file and what is wrong.
public struct SafetensorsError: Error, CustomStringConvertible {
    /// What is wrong, naming the file.
    public let message: String
    public var description: String { message }
}

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import Foundation

/// Training stopped because the loss became NaN or infinite.
public struct TrainingError: Error, CustomStringConvertible {
    /// What happened, with the step.
    public let message: String
    public var description: String { message }
}

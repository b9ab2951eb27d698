import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import Foundation

/// A problem of a training run, its data, model or checkpoint (the loss became NaN, a checkpoint
/// file is corrupt, the model does not fit the data…), with a message naming it.
public struct TrainingError: Error, CustomStringConvertible {
    /// What happened, and where.
    public let message: String
    public var description: String { message }

    /// An error saying `message`.
    public init(message: String) { self.message = message }
}

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import Foundation

/// One epoch of a training run.
public struct EpochRecord: Sendable, Codable, Equatable {
    /// The epoch, from 1.
    public let epoch: Int
    /// Mean training loss over the epoch's batches.
    public let trainLoss: Double
    /// Training accuracy over the epoch (in training mode, as the batches went by).
    public let trainAccuracy: Double
    /// Validation loss after the epoch, when there is a validation set.
    public let valLoss: Double?
    /// Validation accuracy after the epoch.
    public let valAccuracy: Double?
    /// The learning rate (first group) during the epoch.
    public let learningRate: Double
    /// Wall time of the epoch, validation included.
    public let seconds: Double

    /// A record of one epoch.
    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, valLoss: Double?, valAccuracy: Double?, learningRate: Double, seconds: Double) {
        self.epoch = epoch; self.trainLoss = trainLoss; self.trainAccuracy = trainAccuracy
        self.valLoss = valLoss; self.valAccuracy = valAccuracy; self.learningRate = learningRate; self.seconds = seconds
    }
}

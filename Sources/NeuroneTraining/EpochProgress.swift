import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import Foundation

/// How far a training epoch has gone, with its running sums.
public struct EpochProgress: Sendable, Codable, Equatable {
    /// Batches trained on.
    public var batchesDone = 0
    /// Σ batch loss × batch size.
    public var lossSum = 0.0
    /// Correct predictions so far.
    public var correct = 0
    /// Samples so far.
    public var seen = 0
    /// Predictions so far, when a sample holds several (a sequence model predicts every position);
    /// nil: one per sample.
    public var predictions: Int?
    /// Wall time spent in the epoch so far (before an interruption).
    public var seconds = 0.0

    /// Nothing done yet.
    public init() {}

    /// Mean loss over the samples seen.
    public var meanLoss: Double { lossSum / Double(Swift.max(seen, 1)) }
    /// Accuracy over the predictions made.
    public var accuracy: Double { Double(correct) / Double(Swift.max(predictions ?? seen, 1)) }
}

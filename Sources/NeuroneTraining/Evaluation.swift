import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import Foundation

/// Loss and accuracy of a model on a data set.
public struct Evaluation: Sendable {
    /// Mean loss.
    public let loss: Double
    /// Fraction of correct predictions (for a sequence model: of all positions predicted).
    public let accuracy: Double
    /// Samples evaluated.
    public let count: Int
    /// confusion[true][predicted]
    public let confusion: [[Int]]
}

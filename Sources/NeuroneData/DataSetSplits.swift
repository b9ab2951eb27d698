import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import CNeuroneData
import Foundation

/// A data set split into training and test parts.
public struct DataSetSplits {
    /// The data set's name.
    public let name: String
    /// The training part.
    public let train: TensorDataset
    /// The test part.
    public let test: TensorDataset
    public let description: String
    /// For a text data set, its characters: the classes, and what the token indices mean.
    public var vocabulary: Vocabulary?
    /// Number of classes.
    public var classCount: Int { train.classNames.count }
}

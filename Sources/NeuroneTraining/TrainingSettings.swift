import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import Foundation

/// The settings of a training run: what `neurone train` takes, and what a checkpoint directory
/// records so that `--resume` rebuilds the same run.
public struct TrainingSettings: Codable, Equatable, Sendable {
    /// A named model or a model spec.
    public var model = "digits-cnn"
    /// A data-set name or a CSV path.
    public var dataset = "digits"
    /// Directory searched first for data files.
    public var dataDir: String?
    /// A CSV data set's label column (name or index).
    public var labelColumn: String?
    /// Total epochs.
    public var epochs = 15
    /// Samples per batch.
    public var batchSize = 32
    /// Optimiser name (`OptimizerFactory.names`).
    public var optimizer = "adam"
    /// Learning rate; nil: the optimiser's default.
    public var lr: Double?
    /// Momentum (SGD, RMSprop).
    public var momentum = 0.0
    /// Weight decay.
    public var weightDecay = 0.0
    /// Schedule spelling (`OptimizerFactory.scheduleSyntax`).
    public var scheduler = "none"
    /// Fraction of the training set held out for validation.
    public var valSplit = 0.1
    /// Seed of every random number of the run.
    public var seed: UInt64 = 0
    /// Download a missing MNIST, Fashion-MNIST or USPS into the cache first.
    public var download = false
    /// Training-data augmentation, comma-separated: `shift:N`, `crop:PADDING`, `flip`; "none" for none.
    public var augment = "none"
    /// A text data set's sequence length (characters per sample); nil: `DataSets.defaultSequenceLength`.
    public var sequenceLength: Int?
    /// A checkpoint (a .safetensors file or a directory holding model.safetensors) whose weights
    /// start a new run — fine-tuning, e.g. of a model read by `neurone import`; nil: the model's
    /// own seeded initialisation.
    public var initialWeights: String?
    /// Input normalisation: "MEAN,STD" or "auto" (computed on the training split); nil: none.
    public var normalize: String?

    /// The longest sequence a text data set is cut into.
    public static let maxSequenceLength = 1 << 20

    /// The defaults of `neurone train`.
    public init() {}

    /// Throws a `TrainingError` naming the first value a run cannot use: settings also come from
    /// a checkpoint's training-state.json, which may have been edited or damaged.
    public func validate() throws {
        func bad(_ what: String, _ value: Any, _ expected: String) -> TrainingError {
            TrainingError(message: "invalid training settings: \(what) is \(value); expected \(expected)")
        }
        if batchSize <= 0 { throw bad("the batch size", batchSize, "a positive number of samples") }
        if epochs < 0 { throw bad("the number of epochs", epochs, "0 or more") }
        if !(valSplit >= 0 && valSplit < 1) { throw bad("the validation fraction", valSplit, "a fraction in [0, 1)") }
        if !(momentum.isFinite && momentum >= 0) { throw bad("the momentum", momentum, "a finite number ≥ 0") }
        if !(weightDecay.isFinite && weightDecay >= 0) { throw bad("the weight decay", weightDecay, "a finite number ≥ 0") }
        if let lr, !(lr.isFinite && lr > 0) { throw bad("the learning rate", lr, "a finite number > 0") }
        if let l = sequenceLength, !(1...TrainingSettings.maxSequenceLength).contains(l) {
            throw bad("the sequence length", l, "1…\(TrainingSettings.maxSequenceLength) characters")
        }
    }

    /// The transforms `augment` names, for inputs of shape `sampleShape`.
    public func transforms(sampleShape: [Int]) throws -> [Transform] {
        if augment.lowercased() == "none" || augment.isEmpty { return [] }
        var out: [Transform] = []
        for item in augment.lowercased().split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let parts = item.split(separator: ":").map(String.init)
            let image = sampleShape.count == 3
            switch (parts.first, parts.count) {
            case ("shift"?, 2) where Int(parts[1]).map { $0 >= 0 } == true && image: out.append(RandomShift(maxShift: Int(parts[1])!))
            case ("crop"?, 2) where Int(parts[1]).map { $0 >= 0 } == true && image:
                out.append(RandomCrop(height: sampleShape[1], width: sampleShape[2], padding: Int(parts[1])!))
            case ("flip"?, 1) where image: out.append(RandomHorizontalFlip())
            default:
                throw TrainingError(message: "invalid --augment item '\(item)'; valid: shift:N, crop:PADDING, flip (comma-separated, for image data sets; inputs here are \(sampleShape))")
            }
        }
        return out
    }
}

import ArgumentParser
import Foundation
import Neurone

/// `neurone eval`: loss, accuracy and per-class accuracy of a checkpoint on a data set.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint: loss, accuracy, per-class accuracy, optionally a confusion-matrix SVG.",
        discussion: "neurone eval --checkpoint neurone-run   (model and data set are read from neurone-run/model.json)")

    @Option(help: "The model (named or spec); default: the one recorded in the checkpoint directory's model.json.")
    var model: String?

    @Option(help: "A .safetensors file or a directory written by neurone train.")
    var checkpoint: String

    @Option(help: "Data set; default: the one recorded in model.json.")
    var dataset: String?

    @Option(help: "test or train.")
    var split: String = "test"

    @Option(name: .customLong("data-dir"), help: "Directory holding data-set files.")
    var dataDir: String?

    @Flag(help: "Download MNIST, Fashion-MNIST or USPS into ~/.cache/neurone/NAME when not found.")
    var download = false

    @Option(name: .customLong("label-column"), help: "For a CSV data set: the label column's name or 0-based index (default: model.json's, else the last).")
    var labelColumn: String?

    @Option(help: "Input normalisation: MEAN,STD, auto (computed on the data set's training split) or none; default: the one model.json records.")
    var normalize: String?

    @Option(help: "Write the confusion matrix to this SVG file.")
    var confusion: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if split != "test" && split != "train" { throw ValidationError("--split must be 'test' or 'train', got '\(split)'") }
    }

    func run() throws {
        let location = try CheckpointLocation(checkpoint)
        let file = location.file, recorded = location.recorded
        let modelName = try location.model(model)
        let dataName = dataset ?? recorded["dataset"] as? String ?? "digits"
        let seed = (recorded["seed"] as? NSNumber)?.uint64Value ?? 0
        // A language model reads its text with its own vocabulary and sequence length.
        let vocabulary = DataSets.isText(dataName) ? try TrainingRun.readVocabulary(location.directory) : nil
        let length = recorded["sequence_length"] as? Int ?? DataSets.defaultSequenceLength
        let loaded = try DataSets.load(dataName, seed: seed, dataDir: dataDir, labelColumn: labelColumn ?? recorded["label_column"] as? String,
                                  download: download, log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
                                  sequenceLength: length, vocabulary: vocabulary)
        let normalization = normalize == "auto" ? try Normalization.fit(loaded.train, name: loaded.name) : try location.normalization(normalize)
        let data = try normalization.map { try $0.apply(loaded) } ?? loaded
        let (net, _) = try NamedModels.make(modelName, input: data.train.sampleShape, classes: vocabulary?.count)
        try TrainingRun.checkOutput(of: net, input: data.train.sampleShape, fits: data, modelName: modelName)
        try net.load(from: file)
        let trainer = Trainer(model: net, optimizer: SGD(net.parameters(), lr: 0))
        let part = split == "test" ? data.test : data.train
        let e = trainer.evaluate(part, classes: data.classCount)
        let perClass = e.confusion.enumerated().map { i, row in Double(row[i]) / Double(Swift.max(1, row.reduce(0, +))) }
        if let path = confusion {
            try writeAtomically(confusionMatrixSVG(e.confusion, classNames: part.classNames, title: "\(modelName) on \(dataName) (\(split))"), to: path)
        }
        if json {
            let text = data.vocabulary == nil ? "" : ",\"perplexity\":\(Foundation.exp(e.loss)),\"bits_per_character\":\(e.loss / Foundation.log(2.0))"
            print("{\"loss\":\(e.loss),\"accuracy\":\(e.accuracy),\"count\":\(e.count)\(text),\"per_class_accuracy\":[\(perClass.map { String($0) }.joined(separator: ","))]}")
        } else if let vocabulary = data.vocabulary {
            // a language model: the mean loss per character, as perplexity and bits
            print("\(modelName) on \(dataName) \(split) (\(e.count) sequences of \(data.train.sampleShape[0]) characters): loss \(String(format: "%.4f", e.loss)) per character (perplexity \(String(format: "%.2f", Foundation.exp(e.loss))), \(String(format: "%.3f", e.loss / Foundation.log(2.0))) bits), next character right \(String(format: "%.2f%%", e.accuracy * 100)); vocabulary of \(vocabulary.count)")
        } else {
            print("\(modelName) on \(dataName) \(split) (\(e.count) samples): loss \(String(format: "%.4f", e.loss)), accuracy \(String(format: "%.2f%%", e.accuracy * 100))")
            for (i, a) in perClass.enumerated() {
                let name = i < part.classNames.count ? part.classNames[i] : String(i)
                print("  class \(i) \(name): \(String(format: "%.2f%%", a * 100))")
            }
            if let path = confusion { print("wrote \(path)") }
        }
    }
}

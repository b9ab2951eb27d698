import ArgumentParser
import Foundation
import Neurone

/// `neurone sample`: generate text with a character-level language model trained by `neurone train`.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text with a character-level language model (a checkpoint of neurone train on a text data set).",
        discussion: """
        neurone train --dataset words --model char-lstm --out words-lstm
        neurone sample --checkpoint words-lstm --count 20 --temperature 0.8
        Each sample starts after a line break (or after --prefix) and ends at the next line break: for the word list, one new word.
        The model, its sequence length and vocabulary are read from the directory's model.json and vocabulary.json.
        """)

    @Option(help: "A directory written by neurone train on a text data set.")
    var checkpoint: String

    @Option(parsing: .unconditional, help: "Number of samples.")
    var count: Int = 20

    @Option(parsing: .unconditional, help: "Temperature: 1 samples the model's own distribution, lower is more conservative, 0 takes the likeliest character.")
    var temperature: Double = 1

    @Option(help: "Text each sample starts with (default: a line break, i.e. the start of a line).")
    var prefix: String?

    @Option(name: .customLong("max-length"), parsing: .unconditional, help: "The most characters generated per sample.")
    var maxLength: Int = 100

    @Option(help: "Seed of the random draws.")
    var seed: UInt64 = 0

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if !(1...100_000).contains(count) { throw ValidationError("--count must be in 1…100000, got \(count)") }
        if !(temperature >= 0 && temperature.isFinite) { throw ValidationError("--temperature must be a finite number ≥ 0, got \(temperature)") }
        if !(1...100_000).contains(maxLength) { throw ValidationError("--max-length must be in 1…100000, got \(maxLength)") }
    }

    func run() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: checkpoint, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("--checkpoint: \(checkpoint) is not a directory written by neurone train")
        }
        let location = try CheckpointLocation(checkpoint)
        let vocabulary = try TrainingRun.readVocabulary(checkpoint)
        guard let length = location.recorded["sequence_length"] as? Int else {
            throw TrainingError(message: "\(checkpoint)/model.json records no sequence_length: the checkpoint is not of a language model trained on a text data set")
        }
        let modelName = try location.model(nil)
        let (net, _) = try NamedModels.make(modelName, input: [length], classes: vocabulary.count)
        try net.load(from: location.file)
        let sampler = TextSampler(model: net, vocabulary: vocabulary, context: length)
        let samples = try sampler.sample(count: count, temperature: temperature, prefix: prefix, maxLength: maxLength, generator: Generator(seed: seed))
        if json {
            print("{\"samples\":[\(samples.map(jsonString).joined(separator: ","))],\"temperature\":\(temperature),\"seed\":\(seed)}")
        } else {
            for s in samples { print(s) }
        }
    }
}

import Foundation
import NeuroneNN
import NeuroneData
import NeuroneIO

/// A checkpoint named on the command line: a .safetensors file or a directory written by
/// `neurone train`, with the settings recorded in the model.json beside it (empty when absent).
public struct CheckpointLocation {
    /// The .safetensors file.
    public let file: String
    /// model.json's fields, each type-checked (`TrainingRun.readModelJSON`).
    public let recorded: [String: Any]
    /// The directory holding the checkpoint (and its model.json, vocabulary.json).
    public let directory: String

    /// The checkpoint at `path` (a file or a directory); throws when it does not exist or its
    /// model.json is corrupt.
    public init(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw TrainingError(message: "--checkpoint: \(path) does not exist")
        }
        file = isDir.boolValue ? path + "/model.safetensors" : path
        let dir = isDir.boolValue ? path : URL(fileURLWithPath: path).deletingLastPathComponent().path
        directory = dir
        let jsonPath = dir + "/model.json"
        if let data = FileManager.default.contents(atPath: jsonPath) {
            // present but unreadable is corrupt, not absent
            recorded = try TrainingRun.readModelJSON(data, path: jsonPath)
        } else {
            recorded = [:]
        }
    }

    /// The vocabulary.json beside the checkpoint (a language model's), nil when there is none.
    public func vocabulary() throws -> Vocabulary? {
        let path = directory + "/vocabulary.json"
        return FileManager.default.fileExists(atPath: path) ? try TrainingRun.readVocabulary(directory) : nil
    }

    /// The model given on the command line, else the one recorded.
    public func model(_ given: String?) throws -> String {
        guard let m = given ?? recorded["model"] as? String else {
            throw TrainingError(message: "no --model given and no model.json next to \(file) to say which model it holds")
        }
        return m
    }

    /// The per-sample input shape given on the command line ("1x28x28"), else the one recorded;
    /// either goes through `ModelSpec.parseShape`'s checks.
    public func inputShape(_ given: String?) throws -> [Int] {
        if let s = given { return try ModelSpec.parseShape(s) }
        if let s = recorded["input"] as? [Any] {
            return try ModelSpec.parseShape(s.compactMap { ($0 as? NSNumber)?.intValue }.map(String.init).joined(separator: "x"))
        }
        throw TrainingError(message: "no --input shape given and none recorded in model.json next to \(file)")
    }

    /// The input normalisation given on the command line ("MEAN,STD", "none"), else the one
    /// model.json records, else none. "auto" is resolved by the caller that has the data.
    public func normalization(_ given: String?) throws -> Normalization? {
        if let g = given {
            if g == "none" { return nil }
            if g == "auto" { throw TrainingError(message: "--normalize auto needs the training data; give MEAN,STD here (model.json beside the checkpoint records the values a run used)") }
            return try Normalization.parse(g)
        }
        guard let a = recorded["normalize"] as? [NSNumber], a.count == 2 else { return nil }
        return try Normalization(mean: a[0].doubleValue, std: a[1].doubleValue)
    }

    /// The model (given or recorded) built for the input shape (given or recorded) with the
    /// checkpoint's weights loaded, and that shape.
    public func loadModel(_ given: String?, input: String?) throws -> (Module, [Int]) {
        let name = try model(given), shape = try inputShape(input)
        let (net, _) = try NamedModels.make(name, input: shape, classes: try vocabulary()?.count)
        try net.load(from: file)
        return (net, shape)
    }
}

import ArgumentParser
import Neurone
import Foundation

/// A checkpoint named on the command line: a .safetensors file or a directory written by
/// `neurone train`, with the settings recorded in the model.json beside it (empty when absent).
struct CheckpointLocation {
    let file: String
    let recorded: [String: Any]
    /// The directory holding the checkpoint (and its model.json, vocabulary.json).
    let directory: String

    init(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ValidationError("--checkpoint: \(path) does not exist")
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
    func vocabulary() throws -> Vocabulary? {
        let path = directory + "/vocabulary.json"
        return FileManager.default.fileExists(atPath: path) ? try TrainingRun.readVocabulary(directory) : nil
    }

    /// The model given on the command line, else the one recorded.
    func model(_ given: String?) throws -> String {
        guard let m = given ?? recorded["model"] as? String else {
            throw ValidationError("no --model given and no model.json next to \(file) to say which model it holds")
        }
        return m
    }
}

import ArgumentParser
import Foundation

/// A checkpoint named on the command line: a .safetensors file or a directory written by
/// `neurone train`, with the settings recorded in the model.json beside it (empty when absent).
struct CheckpointLocation {
    let file: String
    let recorded: [String: Any]

    init(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ValidationError("--checkpoint: \(path) does not exist")
        }
        file = isDir.boolValue ? path + "/model.safetensors" : path
        let dir = isDir.boolValue ? path : URL(fileURLWithPath: path).deletingLastPathComponent().path
        let jsonPath = dir + "/model.json"
        if let data = FileManager.default.contents(atPath: jsonPath) {
            // Present but unreadable is corrupt, not absent; each field is checked where it is used.
            guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw ValidationError("\(jsonPath) is corrupt: not a JSON object (written by neurone train; delete it and pass --model and --input, or train again)")
            }
            for (key, ok) in [("model", obj["model"].map { $0 is String }), ("dataset", obj["dataset"].map { $0 is String }),
                              ("label_column", obj["label_column"].map { $0 is String }),
                              ("seed", obj["seed"].map { ($0 as? NSNumber).map { $0.doubleValue >= 0 && $0.doubleValue == $0.doubleValue.rounded() } ?? false }),
                              ("input", obj["input"].map { ($0 as? [Any]).map { !$0.isEmpty && $0.allSatisfy { ($0 as? NSNumber).map { $0.intValue > 0 && $0.intValue <= Int(Int32.max) && $0.doubleValue == Double($0.intValue) } ?? false } } ?? false })]
            where ok == false {
                throw ValidationError("\(jsonPath) is corrupt: its \"\(key)\" is \(obj[key].map { "\($0)" } ?? "missing"); expected \(key == "input" ? "a list of positive sizes" : key == "seed" ? "a whole number ≥ 0" : "a string")")
            }
            recorded = obj
        } else {
            recorded = [:]
        }
    }

    /// The model given on the command line, else the one recorded.
    func model(_ given: String?) throws -> String {
        guard let m = given ?? recorded["model"] as? String else {
            throw ValidationError("no --model given and no model.json next to \(file) to say which model it holds")
        }
        return m
    }
}

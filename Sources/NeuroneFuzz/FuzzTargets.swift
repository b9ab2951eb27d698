import Foundation
import Neurone
import NeuroneONNX
import NeuroneDevice
import NeuronePlayground

/// The parsers a user's bytes reach, each as a fuzz target: an input may give any thrown error
/// (that is the contract) but must never trap, abort or exhaust memory.
enum FuzzTargets {
    /// Target names, as `scripts/fuzz` and Fuzz/corpus/ know them.
    static let names = ["safetensors", "idx", "compressed", "csv", "png", "pgm", "usps", "model-spec", "training-state", "model-json", "text", "vocabulary", "onnx", "blas-cache", "playground-message"]

    /// Runs target `name` on one input.
    static func run(_ name: String, _ bytes: [UInt8]) {
        switch name {
        case "safetensors":
            if let (tensors, _) = try? Safetensors.decode(Data(bytes), source: "fuzz") {
                for t in tensors.values { _ = t.toArray(as: Double.self) }
            }
        case "idx":
            // the rank the header announces, so that every rank's path is reached
            let rank = bytes.count > 3 ? Int(bytes[3]) : 1
            _ = try? IDX.parseUInt8(bytes, source: "fuzz", expectedRank: rank)
        case "compressed":
            _ = try? CompressedFile.inflate(bytes, source: "fuzz")
        case "csv":
            if let t = try? CSVTable.parse(String(decoding: bytes, as: UTF8.self), source: "fuzz") { _ = t.inputs.toArray(as: Float.self) }
        case "png":
            _ = try? PNG.decode(bytes, source: "fuzz")
        case "pgm":
            _ = try? PGM.decode(bytes, source: "fuzz")
        case "usps":
            _ = try? USPS.parse(bytes, source: "fuzz")
        case "model-spec":
            // "INPUT SHAPE\nSPEC": the shape parser, the spec parser and builder, and a summary
            let text = String(decoding: bytes, as: UTF8.self)
            let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let input = try? ModelSpec.parseShape(String(parts[0])),
                  let model = try? ModelSpec.build(String(parts[1]), input: input) else { return }
            _ = model.summary(input: input)
        case "training-state":
            // what --resume reads before the data set is loaded
            _ = try? TrainingRun.decodeState(Data(bytes), statePath: "fuzz")
        case "model-json":
            // what eval and predict read beside a checkpoint
            _ = try? TrainingRun.readModelJSON(Data(bytes), path: "fuzz")
        case "text":
            // a text data set: UTF-8 check, vocabulary, language-model sequences (length from the first byte)
            guard let text = try? TextData.decode(bytes, source: "fuzz") else { return }
            let v = Vocabulary(of: text)
            guard let tokens = try? v.encode(text, source: "fuzz") else { fatalError("a text's own vocabulary must code it") }
            if let d = try? TextData.sequences(tokens, length: 1 + Int(bytes[0] % 64), vocabulary: v, source: "fuzz") {
                _ = d.labels.toArray(as: Int64.self)
            }
        case "vocabulary":
            // a checkpoint's vocabulary.json, then a text coded with it and decoded back
            guard let v = try? Vocabulary.decode(Data(bytes), source: "fuzz") else { return }
            let text = String(String.UnicodeScalarView(v.characters.reversed()))
            if let tokens = try? v.encode(text, source: "fuzz"), (try? v.decode(tokens)) != text { fatalError("vocabulary round trip") }
        case "onnx":
            // an .onnx file for neurone import: protobuf, the graph checks, the chain, the model and its weights
            guard let model = try? ONNXImport.decode(Data(bytes), source: "fuzz"),
                  let imported = try? ONNXImport.convert(model, source: "fuzz") else { return }
            _ = try? imported.module()
        case "blas-cache":
            // the BLAS check's cached decision (~/.cache/neurone/blas-check-*.txt), read at the first product;
            // whatever it accepts must write back to the same text
            let text = String(decoding: bytes, as: UTF8.self)
            if let choices = BLASDecision.parseCache(text, key: "fuzz"), BLASDecision.parseCache(BLASDecision.cacheText(key: "fuzz", choices), key: "fuzz") != choices {
                fatalError("blas-cache round trip")
            }
            // and the OpenBLAS core choice's file (blas-check-*.txt as well)
            if let c = BLASDecision.parseCoreCache(text, key: "fuzz"),
               BLASDecision.parseCoreCache(BLASDecision.coreCacheText(key: "fuzz", core: c.core, before: c.before, after: c.after), key: "fuzz").map({ $0 == c }) != true {
                fatalError("core cache round trip")
            }
        case "playground-message":
            // a WebSocket message to neurone serve: the JSON reader, the message and settings checks; a
            // config builds its session and trains one epoch; settings must read back from what the server sends
            let text = String(decoding: bytes, as: UTF8.self)
            guard let message = try? ClientMessage.parse(text) else { return }
            if case .config(let settings) = message {
                guard case .object(let o)? = try? JSONValue.parse(settings.json), (try? PlaygroundSettings.parse(o)) == settings else {
                    fatalError("playground settings round trip")
                }
                if let session = try? PlaygroundSession(settings) {
                    session.trainEpoch()
                    _ = ServerMessage.frame(session.frame())
                }
            }
        default:
            fatalError("neurone-fuzz: unknown target '\(name)'; targets: \(names.joined(separator: ", "))")
        }
    }

    /// The fuzzer's memory limit, not the machine's, bounds what a spec may allocate.
    static func limitAllocations() { CheckedSize.allocationLimit = 64 << 20 }
}

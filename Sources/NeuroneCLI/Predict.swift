import ArgumentParser
import Foundation
import Neurone

/// `neurone predict`: run a checkpoint on images (PGM) or on a tensor stored in safetensors.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images, or run a model on a tensor file (evaluation mode).",
        discussion: """
        neurone predict --checkpoint neurone-run digit.pgm ...
            prints each image's class probabilities (binary or ASCII PGM, resized by nearest neighbour to the model's input).
        neurone predict --model SPEC|NAME --input SHAPE --checkpoint FILE --inputs IN.safetensors --outputs OUT.safetensors
            runs the model on the tensor named "input" and writes the tensor "output": the way to compare Neurone
            with another framework on the same weights and inputs.
        """)

    @Option(help: "The model (named or spec); default: the one in the checkpoint directory's model.json.")
    var model: String?

    @Option(help: "Per-sample input shape, e.g. 1x28x28; default: model.json's.")
    var input: String?

    @Option(help: "A .safetensors file or a directory written by neurone train.")
    var checkpoint: String

    @Option(help: "A safetensors file holding a tensor named \"input\" (batch first).")
    var inputs: String?

    @Option(help: "Where to write the tensor \"output\" (safetensors).")
    var outputs: String?

    @Argument(help: "PGM images to classify.")
    var images: [String] = []

    func validate() throws {
        if (inputs == nil) != (outputs == nil) { throw ValidationError("--inputs and --outputs go together") }
        if inputs == nil && images.isEmpty { throw ValidationError("give images to classify, or --inputs and --outputs") }
    }

    func run() throws {
        let location = try CheckpointLocation(checkpoint)
        let file = location.file, recorded = location.recorded
        let modelName = try location.model(model)
        let shape: [Int]
        if let s = input { shape = try ModelSpec.parseShape(s) }
        else if let s = recorded["input"] as? [Any] { shape = s.compactMap { ($0 as? NSNumber)?.intValue } }
        else { throw ValidationError("no --input shape given and none recorded in model.json") }
        let (net, _) = try NamedModels.make(modelName, input: shape)
        try net.load(from: file)
        net.eval()
        if let inPath = inputs, let outPath = outputs {
            let (t, _) = try Safetensors.read(inPath)
            guard let x = t["input"] else { throw ValidationError("\(inPath) has no tensor named \"input\" (it has \(t.keys.sorted().joined(separator: ", ")))") }
            guard Array(x.shape.dropFirst()) == shape else {
                throw ValidationError("\(inPath): tensor \"input\" has shape \(x.shape); expected [N, \(shape.map(String.init).joined(separator: ", "))]")
            }
            let y = withNoGrad { net(x.to(.float32)) }
            try Safetensors.write([("output", y)], to: outPath, metadata: ["format": "pt", "producer": "neurone"])
            print("wrote \(outPath): output \(y.shape)")
            return
        }
        let kind = Trainer.outputKind(of: net)
        for path in images {
            let x = try readPGM(path, shape: shape)
            var y = withNoGrad { net(x.unsqueeze(0)) }.squeeze(0)
            switch kind {
            case .logits: y = y.softmax(dim: 0)
            case .logProbabilities: y = y.exp()
            case .probabilities: break
            }
            let p = y.toArray(as: Double.self)
            let best = p.indices.max { p[$0] < p[$1] }!
            let top = p.indices.sorted { p[$0] > p[$1] }.prefix(3).map { "\($0): \(String(format: "%.3f", p[$0]))" }
            print("\(path): class \(best) (\(String(format: "%.1f%%", p[best] * 100))); top: \(top.joined(separator: ", "))")
        }
    }
}

/// Reads a binary (P5) or ASCII (P2) grey-level PGM into [1, H, W] in [0, 1], resized by nearest
/// neighbour to the model's input when the sizes differ.
func readPGM(_ path: String, shape: [Int]) throws -> Tensor {
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
    let bytes = [UInt8](data)
    var pos = 0
    func token() -> String? {
        while pos < bytes.count {
            if bytes[pos] == UInt8(ascii: "#") { while pos < bytes.count && bytes[pos] != 10 { pos += 1 } }
            else if bytes[pos] == 32 || bytes[pos] == 10 || bytes[pos] == 13 || bytes[pos] == 9 { pos += 1 }
            else { break }
        }
        let start = pos
        while pos < bytes.count && !(bytes[pos] == 32 || bytes[pos] == 10 || bytes[pos] == 13 || bytes[pos] == 9) { pos += 1 }
        return start < pos ? String(decoding: bytes[start..<pos], as: UTF8.self) : nil
    }
    guard let magic = token(), magic == "P5" || magic == "P2" else { throw ValidationError("\(path): not a PGM image (expected P5 or P2; PNG is not read yet)") }
    guard let w = token().flatMap(Int.init), let h = token().flatMap(Int.init), let maxv = token().flatMap(Int.init), w > 0, h > 0, maxv > 0, maxv < 256 else {
        throw ValidationError("\(path): malformed PGM header")
    }
    var pixels = [Float]()
    if magic == "P5" {
        pos += 1
        guard bytes.count - pos >= w * h else { throw ValidationError("\(path): PGM data truncated (\(bytes.count - pos) of \(w * h) bytes)") }
        pixels = bytes[pos..<(pos + w * h)].map { Float($0) / Float(maxv) }
    } else {
        for _ in 0..<(w * h) {
            guard let v = token().flatMap(Int.init) else { throw ValidationError("\(path): PGM data truncated") }
            pixels.append(Float(v) / Float(maxv))
        }
    }
    guard shape.count == 3 && shape[0] == 1 else { throw ValidationError("\(path): the model takes \(shape) inputs, not 1-channel images") }
    let (oh, ow) = (shape[1], shape[2])
    var out = [Float](repeating: 0, count: oh * ow)
    for y in 0..<oh { for x in 0..<ow { out[y * ow + x] = pixels[(y * h / oh) * w + (x * w / ow)] } }
    return Tensor(out, shape: [1, oh, ow])
}

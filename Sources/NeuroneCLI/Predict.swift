import ArgumentParser
import Foundation
import Neurone

/// `neurone predict`: run a checkpoint on images (PNG, PGM) or on a tensor stored in safetensors.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images, or run a model on a tensor file (evaluation mode).",
        discussion: """
        neurone predict --checkpoint neurone-run digit.pgm ...
            prints each image's class probabilities (PNG, or binary or ASCII PGM; resized by nearest neighbour to the
            model's input, turned to grey or RGB as the model takes).
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

    @Argument(help: "PNG or PGM images to classify.")
    var images: [String] = []

    @Option(help: "Input normalisation: MEAN,STD or none; default: the one model.json records.")
    var normalize: String?

    func validate() throws {
        if (inputs == nil) != (outputs == nil) { throw ValidationError("--inputs and --outputs go together") }
        if inputs == nil && images.isEmpty { throw ValidationError("give images to classify, or --inputs and --outputs") }
    }

    func run() throws {
        let location = try CheckpointLocation(checkpoint)
        let (net, shape) = try location.loadModel(model, input: input)
        let normalization = try location.normalization(normalize)
        func prepared(_ x: Tensor) -> Tensor { normalization.map { $0.apply(x) } ?? x }
        net.eval()
        if let inPath = inputs, let outPath = outputs {
            let (t, _) = try Safetensors.read(inPath)
            guard let x = t["input"] else { throw ValidationError("\(inPath) has no tensor named \"input\" (it has \(t.keys.sorted().joined(separator: ", ")))") }
            guard Array(x.shape.dropFirst()) == shape else {
                throw ValidationError("\(inPath): tensor \"input\" has shape \(x.shape); expected [N, \(shape.map(String.init).joined(separator: ", "))]")
            }
            if let embedding = (net as? Sequential)?.layers.first as? Embedding {
                // token indices: whole numbers within the table
                guard x.dtype == .int64 || x.dtype == .int32 else {
                    throw ValidationError("\(inPath): the model starts with an embedding and takes token indices (int64), but tensor \"input\" is \(x.dtype)")
                }
                if let bad = x.toArray(as: Int64.self).first(where: { $0 < 0 || $0 >= Int64(embedding.numEmbeddings) }) {
                    throw ValidationError("\(inPath): tensor \"input\" holds the token index \(bad); the embedding has \(embedding.numEmbeddings) rows (0…\(embedding.numEmbeddings - 1))")
                }
            }
            let typed = x.to(net.expectedInputDType ?? .float32)
            let y = withNoGrad { net(typed.dtype.isFloatingPoint ? prepared(typed) : typed) }
            try Safetensors.write([("output", y)], to: outPath, metadata: ["format": "pt", "producer": "neurone"])
            print("wrote \(outPath): output \(y.shape)")
            return
        }
        let kind = Trainer.outputKind(of: net)
        for path in images {
            guard shape.count == 3, shape[0] == 1 || shape[0] == 3 else {
                throw ValidationError("the model takes inputs of shape \(shape), not images [1 or 3, H, W]; use --inputs/--outputs")
            }
            let x = try Image.read(path).resized(width: shape[2], height: shape[1]).tensor(channels: shape[0])
            var y = withNoGrad { net(prepared(x.unsqueeze(0))) }.squeeze(0)
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

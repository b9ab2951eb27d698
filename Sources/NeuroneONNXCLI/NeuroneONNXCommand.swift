import ArgumentParser
import Foundation
import Neurone
import NeuroneONNX

/// `neurone-onnx`: ONNX export and import, a program of its own so that `neurone` builds without
/// the protobuf library; `neurone export` and `neurone import` run it.
@main
struct NeuroneONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neurone-onnx",
        abstract: "ONNX export and import for Neurone models (run as `neurone export` and `neurone import`).",
        version: "0.1.0",
        subcommands: [Export.self, Import.self])
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a trained model as an ONNX file (for ONNX Runtime and every runtime that reads ONNX).",
        discussion: """
        The model runs once, in evaluation mode, on a seeded random batch while each layer writes its ONNX nodes; the weights become initializers named by their state-dict names. The layers export knows are listed in docs/ONNX.md. The file is written to a temporary name and renamed, never left half-written.

        Examples:
          neurone export --checkpoint runs/mlp --onnx mlp.onnx
          neurone export --checkpoint lenet5.safetensors --model lenet5 --input 1x28x28 --onnx lenet5.onnx --dynamic-batch
        """)

    @Option(help: "A .safetensors file or a directory written by neurone train.")
    var checkpoint: String

    @Option(help: "The model (named or spec); default: the one recorded in the checkpoint directory's model.json.")
    var model: String?

    @Option(help: "Per-sample input shape, e.g. 1x28x28 or 784; default: the one recorded in model.json.")
    var input: String?

    @Option(help: "The ONNX file to write.")
    var onnx: String

    @Option(parsing: .unconditional, help: "ONNX opset, \(ONNXExport.opsets.lowerBound)…\(ONNXExport.opsets.upperBound).")
    var opset = ONNXExport.defaultOpset

    @Option(help: "Input normalisation written as the graph's first nodes: MEAN,STD or none; default: the one model.json records.")
    var normalize: String?

    @Flag(name: .customLong("dynamic-batch"), help: "Make the batch dimension symbolic (\"batch\") instead of the traced batch size.")
    var dynamicBatch = false

    @Option(parsing: .unconditional, help: "Batch size of the sample the model is traced with (and of the graph without --dynamic-batch).")
    var batch = 1

    @Option(parsing: .unconditional, help: "Seed of the sample input.")
    var seed: UInt64 = 0

    @Option(help: "Also write the sample input and Neurone's output on it to this .safetensors file (\"input\", \"output\"), to compare with a runtime.")
    var sample: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if !ONNXExport.opsets.contains(opset) {
            throw ValidationError("--opset must be in \(ONNXExport.opsets.lowerBound)…\(ONNXExport.opsets.upperBound), got \(opset)")
        }
        if batch < 1 || batch > 1 << 16 { throw ValidationError("--batch must be in 1…65536, got \(batch)") }
        if !onnx.hasSuffix(".onnx") { throw ValidationError("--onnx: expected a file name ending in .onnx, got '\(onnx)'") }
    }

    func run() throws {
        let location = try CheckpointLocation(checkpoint)
        let (net, shape) = try location.loadModel(model, input: input)
        let name = try location.model(model)
        let normalization = try location.normalization(normalize)
        var result = try ONNXExport.export(net, sampleShape: shape, batch: batch, dynamicBatch: dynamicBatch, opset: opset, seed: seed,
                                           normalization: normalization,
                                           docString: "Neurone model \(name), input \(shape.map(String.init).joined(separator: "x"))")
        // a language model's characters travel with it, for import
        let vocabulary = try location.vocabulary()
        if let v = vocabulary { result.setMetadata(ONNXImport.vocabularyKey, String(decoding: v.json(), as: UTF8.self)) }
        try ONNXExport.write(result, to: onnx)
        if let path = sample {
            try Safetensors.write([("input", result.input), ("output", result.output)], to: path, metadata: ["producer": "neurone", "format": "pt"])
        }
        let g = result.model.graph
        let weights = g.initializer.reduce(0) { $0 + $1.dims.reduce(1) { $0 * Int($1) } }
        let ops = Dictionary(grouping: g.node, by: { $0.opType }).mapValues { $0.count }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: onnx)[.size] as? Int) ?? 0
        if json {
            let object: [String: Any] = [
                "onnx": onnx, "opset": opset, "ir_version": result.model.irVersion, "nodes": g.node.count, "initializers": g.initializer.count,
                "parameters": weights, "bytes": bytes, "input": result.input.shape, "output": result.output.shape, "dynamic_batch": dynamicBatch,
                "ops": ops, "normalize": normalization.map { [$0.mean, $0.std] } as Any? ?? NSNull(),
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let opList = ops.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }
            print("wrote \(onnx): opset \(opset), \(g.node.count) nodes (\(opList.joined(separator: ", "))), \(g.initializer.count) initializers holding \(weights) values, \(bytes) bytes")
            let batchText = dynamicBatch ? "batch" : String(batch)
            print("input \"input\" \(([batchText] + shape.map(String.init)).joined(separator: "×")) \(result.input.dtype), output \"output\" \(([batchText] + result.output.shape.dropFirst().map(String.init)).joined(separator: "×"))")
            if let n = normalization { print("the graph starts with the normalisation (x - \(n.mean)) / \(n.std): it takes raw inputs") }
            if let v = vocabulary { print("the vocabulary (\(v.count) characters) is in the file's metadata as '\(ONNXImport.vocabularyKey)'") }
            if let path = sample { print("wrote \(path): the sample input and Neurone's output on it") }
        }
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read an ONNX model (from torch.onnx.export, Neurone or another tool) as a Neurone checkpoint directory.",
        discussion: """
        The graph must be a chain of layers Neurone has (docs/ONNX.md lists the operators); it becomes a model spec and its weights, written as model.safetensors and model.json in the output directory, so that neurone eval, predict, export and train --init read it like a checkpoint of neurone train. An operator import does not read is named with its node.

        Examples:
          neurone import --onnx mnist_cnn.onnx --out imported --dataset mnist
          neurone eval --checkpoint imported
          neurone train --init imported --dataset mnist --epochs 1 --out finetuned
        """)

    @Option(help: "The ONNX file to read.")
    var onnx: String

    @Option(help: "The directory to write model.safetensors and model.json into (created if needed).")
    var out: String

    @Option(help: "The data set to record in model.json, the default of eval and train --init.")
    var dataset: String?

    @Option(help: "A language model's vocabulary.json (written by neurone train) to keep beside the weights; default: the one Neurone's export puts in the file's metadata.")
    var vocabulary: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let imported = try ONNXImport.read(onnx)
        let model = try imported.module()
        // a language model's characters: given, or kept in the file by Neurone's export
        var characters: Vocabulary?
        if let path = vocabulary { characters = try Vocabulary.read(path) }
        else if let text = imported.metadata[ONNXImport.vocabularyKey] {
            characters = try Vocabulary.decode(Data(text.utf8), source: "\(onnx)'s metadata '\(ONNXImport.vocabularyKey)'")
        }
        if let v = characters, let first = imported.sources.first?.layer, first.hasPrefix("embedding("),
           let rows = first.dropFirst("embedding(".count).split(separator: ",").first.flatMap({ Int($0) }), rows != v.count {
            throw ONNXError("the vocabulary has \(v.count) characters but the model's embedding has \(rows) rows: not the vocabulary this model was trained with")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        if let v = characters { try writeFileAtomically(v.json(), to: out + "/vocabulary.json") }
        try model.save(to: out + "/model.safetensors", metadata: ["format": "pt", "producer": "neurone", "model": imported.spec, "imported_from": onnx])
        var object: [String: Any] = ["model": imported.spec, "input": imported.inputShape, "imported_from": onnx, "opset": imported.opset]
        if let d = dataset { object["dataset"] = d }
        if let n = imported.normalization { object["normalize"] = [n.mean, n.std] }
        // a language model: the context it reads, as neurone train records it (for neurone sample)
        if characters != nil, imported.inputShape.count == 1 { object["sequence_length"] = imported.inputShape[0] }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try writeFileAtomically(data + Data("\n".utf8), to: out + "/model.json")
        if json {
            var result = object
            result["out"] = out
            result["parameters"] = model.parameterCount
            result["vocabulary"] = characters?.count ?? NSNull()
            result["layers"] = imported.sources.map { ["layer": $0.layer, "nodes": $0.nodes] }
            print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("read \(onnx) (opset \(imported.opset)): \(imported.sources.count) layers, \(model.parameterCount) parameters, input \(imported.inputShape.map(String.init).joined(separator: "x"))")
            for (layer, nodes) in imported.sources { print("  \(layer)  ← \(nodes.joined(separator: ", "))") }
            print("wrote \(out)/model.safetensors and \(out)/model.json (model: \(imported.spec))\(characters.map { ", and vocabulary.json (\($0.count) characters)" } ?? "")")
            if characters == nil, imported.inputDType == .int64 {
                print("note: no vocabulary in the file; a language model on a text data set needs the one it was trained with: --vocabulary FILE")
            }
        }
    }
}

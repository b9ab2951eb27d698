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
        abstract: "ONNX export for Neurone models (run as `neurone export`).",
        version: "0.1.0",
        subcommands: [Export.self])
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
        let result = try ONNXExport.export(net, sampleShape: shape, batch: batch, dynamicBatch: dynamicBatch, opset: opset, seed: seed,
                                           docString: "Neurone model \(name), input \(shape.map(String.init).joined(separator: "x"))")
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
                "ops": ops,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let opList = ops.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }
            print("wrote \(onnx): opset \(opset), \(g.node.count) nodes (\(opList.joined(separator: ", "))), \(g.initializer.count) initializers holding \(weights) values, \(bytes) bytes")
            let batchText = dynamicBatch ? "batch" : String(batch)
            print("input \"input\" \(([batchText] + shape.map(String.init)).joined(separator: "×")) \(result.input.dtype), output \"output\" \(([batchText] + result.output.shape.dropFirst().map(String.init)).joined(separator: "×"))")
            if let path = sample { print("wrote \(path): the sample input and Neurone's output on it") }
        }
    }
}

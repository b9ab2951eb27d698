import ArgumentParser
import Foundation
import Neurone

/// What `bench train` and `bench infer` share: the model, shapes, batch sizes and threads swept.
struct BenchModelOptions: ParsableArguments {
    @Option(help: "A named model or a model spec.")
    var model: String = "mnist-cnn"

    @Option(help: "Per-sample input shape, e.g. 1x28x28 (default: the named model's).")
    var input: String?

    @Option(name: .customLong("batch-size"), help: "Batch size (repeatable).")
    var batchSizes: [Int] = [64]

    @Option(help: "Thread counts (repeatable; default: NEURONE_NUM_THREADS or all cores).")
    var threads: [Int] = []

    @Option(help: "Steps timed per repeat.")
    var steps: Int = 10

    @Option(help: "Timed repeats (the median is reported).")
    var repeats: Int = 5

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Flag(name: .customLong("against-peak"), help: "Also set the products' GFLOP/s against the FMA peak (neurone bench peak's probe at the widest level, the same threads), measured before each timed repeat so that both see the same state of the host: the multiplications per sample are neurone summary's (forward, or a training step's), and the median of the repeats' shares is printed.")
    var againstPeak = false

    func validate() throws {
        for b in batchSizes where b <= 0 { throw ValidationError("--batch-size must be positive, got \(b)") }
        for t in threads where t <= 0 { throw ValidationError("--threads must be positive, got \(t)") }
        if steps <= 0 || repeats <= 0 { throw ValidationError("--steps and --repeats must be positive") }
    }

    /// The model, its input shape, its number of outputs (classes) and, for a sequence model
    /// (outputs [N, T, classes], e.g. a language model), T; built with seed 0.
    func build() throws -> (Module, [Int], Int, Int?) {
        let shape = try input.map { try ModelSpec.parseShape($0) }
        let (net, inputShape) = try NamedModels.make(model, input: shape, generator: Generator(seed: 0))
        let out = withNoGrad { () -> Tensor in
            net.eval(); defer { net.train() }
            return net(Tensor.zeros([1] + inputShape, dtype: net.expectedInputDType ?? .float32))
        }
        switch out.rank {
        case 2: return (net, inputShape, out.shape[1], nil)
        case 3: return (net, inputShape, out.shape[2], out.shape[1])
        default: throw ValidationError("\(model) produces outputs of shape \(out.shape); bench needs [N, classes] or [N, T, classes]")
        }
    }

    /// A seeded batch for `net`: float inputs, or token indices within its embedding; one label
    /// per sample, or per position of a sequence model.
    func batch(_ net: Module, _ b: Int, _ inputShape: [Int], classes: Int, positions: Int?) -> (Tensor, Tensor) {
        let g = Generator(seed: 1)
        let x: Tensor
        if net.expectedInputDType == .int64 {
            let rows = ((net as? Sequential)?.layers.first as? Embedding)?.numEmbeddings ?? classes
            x = Tensor.randint(0, rows, [b] + inputShape, generator: g)
        } else {
            x = Tensor.randn([b] + inputShape, generator: g)
        }
        return (x, Tensor.randint(0, classes, [b] + (positions.map { [$0] } ?? []), generator: g))
    }

    /// Runs `body(batch)` for each batch size and thread count; prints one line or object each.
    func sweep(kind: String, optimizerName: String?, _ body: (Module, Tensor, Tensor) -> Void) throws {
        let threadCounts = threads.isEmpty ? [Threading.threadCount] : threads
        for t in threadCounts {
            Threading.threadCount = t
            for b in batchSizes {
                let (net, inputShape, classes, positions) = try build()
                let (x, y) = batch(net, b, inputShape, classes: classes, positions: positions)
                body(net, x, y)  // first steps: buffers and optimiser state appear
                body(net, x, y)
                // with --against-peak, one run of bench peak's probe before each repeat
                var peaks: [Double] = []
                let top = FMAPeak.levels.first ?? (name: "generic", level: 0)
                let probe = { peaks.append(FMAPeak.measure(level: top.level, threads: t, iterations: FMAPeak.runIterations(top.level))) }
                let times = timedRepeats(warmup: 1, repeats: repeats, before: againstPeak ? probe : nil) { for _ in 0..<steps { body(net, x, y) } }
                let secs = median(times)
                var limit: (gflops: Double, peak: Double, share: Double)?
                if againstPeak {
                    let summary = net.summary(input: inputShape)
                    let flops = 2 * Double(kind == "train" ? summary.trainingMultiplications : summary.totalMultiplications) * Double(b * steps)
                    limit = (median(times.map { flops / $0 / 1e9 }), median(peaks), median(zip(times, peaks).map { flops / $0 / 1e9 / $1 }))
                }
                // Tensor memory taken from the system in steady state: one more round, counted.
                let allocations = MemoryStats.systemAllocations, bytes = MemoryStats.systemAllocatedBytes
                for _ in 0..<steps { body(net, x, y) }
                let newAllocations = Double(MemoryStats.systemAllocations - allocations) / Double(steps)
                let newMiB = Double(MemoryStats.systemAllocatedBytes - bytes) / Double(steps) / 1_048_576
                let rate = Double(b * steps) / secs
                if json {
                    var fields = ["\"kind\":\"\(kind)\"", "\"model\":\(jsonString(model))", "\"batch\":\(b)", "\"threads\":\(t)"]
                    if let o = optimizerName { fields.append("\"optimizer\":\"\(o)\"") }
                    fields += ["\"samples_per_s\":\(formatNumber(rate, 1))", "\"ms_per_step\":\(formatNumber(secs / Double(steps) * 1e3, 3))",
                               "\"peak_rss_mb\":\(formatNumber(MemoryStats.peakResidentMiB, 1))",
                               "\"new_buffers_per_step\":\(formatNumber(newAllocations, 2))", "\"new_mb_per_step\":\(formatNumber(newMiB, 3))"]
                    if let l = limit {
                        fields += ["\"gflops\":\(formatNumber(l.gflops, 2))", "\"peak_level\":\"\(top.name)\"",
                                   "\"peak_gflops\":\(formatNumber(l.peak, 2))", "\"peak_share\":\(formatNumber(l.share, 4))"]
                    }
                    print("{" + fields.joined(separator: ",") + "}")
                } else {
                    print("\(kind) \(model) batch \(b), \(t) threads: \(formatNumber(rate, 0)) samples/s (\(formatNumber(secs / Double(steps) * 1e3, 2)) ms/step), peak RSS \(formatNumber(MemoryStats.peakResidentMiB, 0)) MiB, \(formatNumber(newAllocations, 1)) new buffers/step after warm-up")
                    if let l = limit {
                        print("  products \(formatNumber(l.gflops, 1)) GFLOP/s: \(formatNumber(100 * l.share, 0)) % of the FMA peak (\(top.name), \(formatNumber(l.peak, 1)) GFLOP/s at \(t) threads; medians of \(repeats) repeats, each after its own peak probe)")
                    }
                }
            }
        }
    }
}

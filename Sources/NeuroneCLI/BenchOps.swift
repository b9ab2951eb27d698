import ArgumentParser
import Foundation
import Neurone

struct BenchOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "GB/s of add, relu, sigmoid and sum over large float32 tensors, next to copy bandwidth; and the cost per op of a chain of small-tensor ops, forward + backward.")

    @Option(help: "Elements per tensor for the bandwidth tests.")
    var count: Int = 10_000_000

    @Option(help: "Thread count (default: NEURONE_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Timed runs per measurement.")
    var repeats: Int = 15

    @Flag(help: "Print one JSON object per line.")
    var json = false

    func validate() throws {
        if count <= 0 { throw ValidationError("--count must be positive, got \(count)") }
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive, got \(t)") }
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() {
        if let t = threads { Threading.threadCount = t }
        let g = Generator(seed: 1)
        let x = Tensor.randn([count], generator: g), y = Tensor.randn([count], generator: g)
        let bytes = Double(count * 4)
        var results: [(String, Double, Double)] = []  // name, seconds, bytes moved
        withNoGrad {
            results.append(("copy", medianSeconds(warmup: 2, repeats: repeats) { _ = x.clone() }, 2 * bytes))
            results.append(("add", medianSeconds(warmup: 2, repeats: repeats) { _ = x + y }, 3 * bytes))
            results.append(("relu", medianSeconds(warmup: 2, repeats: repeats) { _ = x.relu() }, 2 * bytes))
            results.append(("sigmoid", medianSeconds(warmup: 2, repeats: repeats) { _ = x.sigmoid() }, 2 * bytes))
            results.append(("sum", medianSeconds(warmup: 2, repeats: repeats) { _ = x.sum() }, bytes))
        }
        let copyGBs = results[0].2 / results[0].1 / 1e9
        for (name, secs, moved) in results {
            let gbs = moved / secs / 1e9
            if json {
                print("{\"op\":\"\(name)\",\"count\":\(count),\"threads\":\(Threading.threadCount),\"gbps\":\(formatNumber(gbs, 2)),\"vs_copy\":\(formatNumber(gbs / copyGBs, 3))}")
            } else {
                print("\(name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(count) float32, \(Threading.threadCount) threads: \(formatNumber(secs * 1e3, 2)) ms, \(formatNumber(gbs)) GB/s (\(formatNumber(gbs / copyGBs, 2))× copy)")
            }
        }
        // Small-tensor chain: 6 ops forward, then backward.
        let w = Tensor.randn([16], generator: g).requiringGrad(), b = Tensor.randn([16], generator: g).requiringGrad()
        let xs = Tensor.randn([16], generator: g)
        let opsInChain = 6.0
        let secs = medianSeconds(warmup: 200, repeats: 2000) {
            let out = ((xs * w + b).relu().sigmoid() * 2.0).sum()
            out.backward()
            w.grad = nil
            b.grad = nil
        }
        let perOp = secs / opsInChain * 1e6
        if json {
            print("{\"op\":\"small_chain\",\"shape\":[16],\"ops\":6,\"us_per_op\":\(formatNumber(perOp, 3)),\"us_per_step\":\(formatNumber(secs * 1e6, 3))}")
        } else {
            print("small-tensor chain (6 ops on [16], forward + backward): \(formatNumber(secs * 1e6, 2)) µs per step, \(formatNumber(perOp, 2)) µs per op")
        }
    }
}

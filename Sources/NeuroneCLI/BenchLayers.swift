import ArgumentParser
import Foundation
import Neurone

/// `neurone bench layers`: forward + backward of the mnist-cnn layers at a given batch size.
struct BenchLayers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "Forward + backward time of Conv2d, max-pooling and Linear on the mnist-cnn shapes (batch 64 by default).",
        discussion: "scripts/bench_compare.py --layers runs the same shapes through PyTorch in the same run.")

    @Option(help: "Batch size.")
    var batch: Int = 64

    @Option(help: "Thread count (default: NEURONE_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Timed runs per layer.")
    var repeats: Int = 20

    @Option(help: "Only the layers whose name contains this text (e.g. conv2).")
    var only: String?

    @Flag(help: "Print one JSON object per line: {\"layer\":…,\"batch\":N,\"threads\":T,\"ms\":X}.")
    var json = false

    func validate() throws {
        if batch <= 0 { throw ValidationError("--batch must be positive, got \(batch)") }
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive, got \(t)") }
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    /// The layers of PyTorch's MNIST example with their input shapes; `inputGrad` says whether
    /// the input needs a gradient, as it does in training for every layer but the first.
    static func cases(batch n: Int, generator g: Generator) -> [(String, Module, [Int], Bool)] {
        [
            ("conv1 1→32 3×3 on 28×28", Conv2d(1, 32, kernelSize: 3, generator: g), [n, 1, 28, 28], false),
            ("conv2 32→64 3×3 on 26×26", Conv2d(32, 64, kernelSize: 3, generator: g), [n, 32, 26, 26], true),
            ("maxpool 2×2 on 64×24×24", MaxPool2d(2), [n, 64, 24, 24], true),
            ("fc1 9216→128", Linear(9216, 128, generator: g), [n, 9216], true),
            ("fc2 128→10", Linear(128, 10, generator: g), [n, 128], true),
        ]
    }

    func run() {
        if let t = threads { Threading.threadCount = t }
        let g = Generator(seed: 0)
        for (name, layer, shape, inputGrad) in Self.cases(batch: batch, generator: g) where only.map({ name.contains($0) }) ?? true {
            let x = Tensor.randn(shape, generator: g)
            if inputGrad { x.requiresGrad = true }
            let out = withNoGrad { layer(x) }
            let seed = Tensor.randn(out.shape, generator: g)
            let secs = medianSeconds(warmup: 3, repeats: repeats) {
                let y = layer(x)
                y.backward(seed)
                x.grad = nil
                layer.zeroGrad()
            }
            if json {
                print("{\"layer\":\"\(name)\",\"batch\":\(batch),\"threads\":\(Threading.threadCount),\"ms\":\(formatNumber(secs * 1e3, 3))}")
            } else {
                print("\(name.padding(toLength: 28, withPad: " ", startingAt: 0)) batch \(batch), \(Threading.threadCount) threads: \(formatNumber(secs * 1e3, 2)) ms forward + backward")
            }
        }
    }
}

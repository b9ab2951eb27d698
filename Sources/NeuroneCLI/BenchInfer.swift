import ArgumentParser
import Foundation
import Neurone

/// `neurone bench infer`: samples/s of evaluation-mode forward passes.
struct BenchInfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Samples/s of evaluation-mode forward passes without gradients on synthetic data, median of repeats.")

    @OptionGroup var options: BenchModelOptions

    func run() throws {
        try options.sweep(kind: "infer", optimizerName: nil) { net, x, _ in
            net.eval()
            _ = withNoGrad { net(x) }
        }
    }
}

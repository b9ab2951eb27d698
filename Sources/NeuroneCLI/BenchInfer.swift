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
            // evaluation mode set once, before the timed steps, as bench/torch_reference.py does:
            // eval() walks the module tree by reflection (~33 µs for the attention model, 5 % of
            // its batch-64 forward on two threads), which a step need not repeat
            if net.isTraining { net.eval() }
            _ = withNoGrad { net(x) }
        }
    }
}

import ArgumentParser
import Foundation
import Neurone

/// `neurone bench train`: samples/s of full training steps on synthetic data.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Samples/s of training steps (forward, loss, backward, optimiser step) on synthetic data, median of repeats.",
        discussion: "bench/compare runs the same models in PyTorch side by side. Example: neurone bench train --model mnist-cnn --batch-size 64 --batch-size 256 --threads 1 --threads 2 --json")

    @OptionGroup var options: BenchModelOptions

    @Option(help: "Optimiser: \(OptimizerFactory.names.joined(separator: ", ")).")
    var optimizer: String = "sgd"

    @Option(help: "Learning rate (default: the optimiser's).")
    var lr: Double?

    func validate() throws {
        if !OptimizerFactory.names.contains(optimizer.lowercased()) {
            throw ValidationError("unknown optimizer '\(optimizer)'; valid: \(OptimizerFactory.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        var cache: (ObjectIdentifier, Optimizer, Trainer)?
        try options.sweep(kind: "train", optimizerName: optimizer.lowercased()) { net, x, y in
            if cache?.0 != ObjectIdentifier(net) {
                let opt = try! OptimizerFactory.make(optimizer, parameters: net.parameters(), lr: lr ?? 0.01 * (optimizer.lowercased() == "adadelta" ? 100 : 1))
                cache = (ObjectIdentifier(net), opt, Trainer(model: net, optimizer: opt))
            }
            let (_, opt, trainer) = cache!
            opt.zeroGrad()
            let loss = trainer.loss(net(x), y)
            loss.backward()
            opt.step()
        }
    }
}

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

    @Flag(help: "Data-parallel, under mpirun (the default there): --batch-size is the global batch and each process trains on its part; prints samples/s per process and overall, and the share of step time spent waiting for the gradient sums.")
    var distributed = false

    @Option(name: .customLong("bucket-mb"), help: "With --distributed: the most gradient MiB summed in one bucket.")
    var bucketMB: Double = 25

    func validate() throws {
        if !(bucketMB > 0 && bucketMB.isFinite && bucketMB <= 1_048_576) { throw ValidationError("--bucket-mb must be positive (MiB), got \(bucketMB)") }
        if distributed && MPIProcessGroup.launch == nil { throw ValidationError("--distributed: this process was not started by mpirun; \(MPIProcessGroup.launchHelp)") }
        if options.againstPeak && (distributed || MPIProcessGroup.launch != nil) {
            throw ValidationError("--against-peak measures one process; it is not taken with --distributed or under mpirun")
        }
        if !OptimizerFactory.names.contains(optimizer.lowercased()) {
            throw ValidationError("unknown optimizer '\(optimizer)'; valid: \(OptimizerFactory.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        if distributed || MPIProcessGroup.launch != nil {
            let group = try MPIProcessGroup.shared()
            return try group.runEndingTheJobOnError { try runDistributed(group) }
        }
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

extension BenchTrain {
    /// One process of a data-parallel benchmark: this rank's part of each global batch, the model
    /// wrapped in DistributedDataParallel; the slowest rank's median sets the overall rate.
    func runDistributed(_ group: MPIProcessGroup) throws {
        let (rank, n) = (group.rank, group.worldSize)
        let threadCounts = options.threads.isEmpty ? [MPIProcessGroup.threadsPerLocalProcess ?? ProcessInfo.processInfo.activeProcessorCount] : options.threads
        for t in threadCounts {
            Threading.threadCount = t
            for b in options.batchSizes {
                let part = DistributedSampler.part(count: b, rank: rank, worldSize: n)
                guard part.count > 0 else { throw ValidationError("--batch-size \(b) is smaller than the \(n) processes: every process needs a sample") }
                let (net, inputShape, classes, positions) = try options.build()
                let (xs, ys) = options.batch(net, b, inputShape, classes: classes, positions: positions)
                let (x, y) = (xs[part].contiguous(), ys[part].contiguous())
                let ddp = try DistributedDataParallel(net, processGroup: group, bucketCapMB: bucketMB)
                ddp.gradientScale = Double(part.count) / Double(b)
                let opt = try OptimizerFactory.make(optimizer, parameters: net.parameters(), lr: lr ?? 0.01 * (optimizer.lowercased() == "adadelta" ? 100 : 1))
                let trainer = Trainer(model: net, optimizer: opt, distributed: ddp)
                let step = { opt.zeroGrad(); trainer.loss(ddp(x), y).backward(); opt.step() }
                step(); step()
                var seconds: [Double] = [], waits: [Double] = [], reduces: [Double] = []
                for r in 0...options.repeats {
                    try group.barrier()
                    let before = ddp.statistics
                    let t0 = Date()
                    for _ in 0..<options.steps { step() }
                    let dt = Date().timeIntervalSince(t0)
                    if r > 0 {
                        seconds.append(dt)
                        waits.append(ddp.statistics.waitSeconds - before.waitSeconds)
                        reduces.append(ddp.statistics.reduceSeconds - before.reduceSeconds)
                    }
                }
                let order = seconds.indices.sorted { seconds[$0] < seconds[$1] }
                let mid = order[order.count / 2]
                let (secs, wait, reduce) = (seconds[mid], waits[mid], reduces[mid])
                // every rank's numbers, in its own slots
                var mine = [Double](repeating: 0, count: 4 * n)
                (mine[4 * rank], mine[4 * rank + 1], mine[4 * rank + 2], mine[4 * rank + 3]) = (secs, wait, reduce, Double(part.count))
                let all = try group.allReduce(mine)
                guard rank == 0 else { continue }
                let steps = Double(options.steps)
                let ranks = Array(0..<n)
                let slowest: Double = ranks.map { (r: Int) -> Double in all[4 * r] }.max() ?? secs
                let overall = Double(b) * steps / slowest
                let perRank: [Double] = ranks.map { (r: Int) -> Double in all[4 * r + 3] * steps / all[4 * r] }
                let waitShare: Double = ranks.map { (r: Int) -> Double in all[4 * r + 1] / all[4 * r] }.max() ?? 0
                let reduceShare: Double = ranks.map { (r: Int) -> Double in all[4 * r + 2] / all[4 * r] }.max() ?? 0
                let bytes = ddp.bucketNames.isEmpty ? 0 : net.parameters().filter(\.requiresGrad).reduce(0) { $0 + $1.count * $1.dtype.byteSize }
                let ms = formatNumber(slowest / Double(options.steps) * 1e3, 3)
                let mb = formatNumber(Double(bytes) / 1_048_576, 3)
                let buckets = ddp.bucketNames.count
                if options.json {
                    var fields: [String] = ["\"kind\":\"train\"", "\"distributed\":true", "\"model\":" + jsonString(options.model), "\"batch\":\(b)",
                                            "\"processes\":\(n)", "\"threads\":\(t)", "\"optimizer\":\"" + optimizer.lowercased() + "\""]
                    fields.append("\"samples_per_s\":" + formatNumber(overall, 1))
                    fields.append("\"samples_per_s_per_rank\":[" + perRank.map { formatNumber($0, 1) }.joined(separator: ",") + "]")
                    fields.append("\"ms_per_step\":" + ms)
                    fields.append("\"allreduce_share\":" + formatNumber(reduceShare, 4))
                    fields.append("\"wait_share\":" + formatNumber(waitShare, 4))
                    fields.append("\"gradient_mb\":" + mb)
                    fields.append("\"buckets\":\(buckets)")
                    print("{" + fields.joined(separator: ",") + "}")
                } else {
                    let rates = perRank.map { formatNumber($0, 0) }.joined(separator: ", ")
                    let head = "train \(options.model) global batch \(b), \(n) processes × \(t) threads (\(group.name)): "
                    let speed = formatNumber(overall, 0) + " samples/s (" + ms + " ms/step); per process " + rates + " samples/s; "
                    let comm = "gradients " + mb + " MiB in \(buckets) bucket\(buckets == 1 ? "" : "s"), " + formatNumber(reduceShare * 100, 1)
                        + " % of step time in allreduce, " + formatNumber(waitShare * 100, 1) + " % waited for (the rest hidden behind backward)"
                    print(head + speed + comm)
                }
            }
        }
    }
}

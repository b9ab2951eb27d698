import ArgumentParser
import Foundation
import Neurone

/// `neurone train`: train a model on a data set, with learning curves and a checkpoint.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on a data set; write history.csv, curves.svg, model.safetensors and model.json.",
        discussion: """
        With no arguments: the digits-cnn model on the embedded 8×8 digits (no download), Adam, 15 epochs.
        Example: neurone train --model "flatten linear(32) relu linear(10)" --dataset digits --optimizer sgd --lr 0.1 --momentum 0.9
        """)

    @Option(help: "A named model (neurone models) or a model spec (docs/MODELS.md).")
    var model: String = "digits-cnn"

    @Option(help: "Data set: \(DataSets.all.map { $0.name }.joined(separator: ", ")), or a CSV file (PATH.csv).")
    var dataset: String = "digits"

    @Option(name: .customLong("label-column"), help: "For a CSV data set: the label column's name or 0-based index (default: the last).")
    var labelColumn: String?

    @Option(name: .customLong("data-dir"), help: "Directory holding data-set files (searched before $NEURONE_DATA and ~/.cache/neurone/NAME).")
    var dataDir: String?

    @Option(help: "Epochs.")
    var epochs: Int = 15

    @Option(name: .customLong("batch-size"), help: "Batch size (1 = online SGD; a huge value = full batch).")
    var batchSize: Int = 32

    @Option(help: "Optimiser: sgd, adam, adamw, rmsprop, adagrad, adadelta.")
    var optimizer: String = "adam"

    @Option(help: "Learning rate (default: 0.01 for sgd, adagrad; 1.0 for adadelta; 0.001 otherwise).")
    var lr: Double?

    @Option(help: "Momentum (sgd, rmsprop).")
    var momentum: Double = 0

    @Option(name: .customLong("weight-decay"), help: "Weight decay.")
    var weightDecay: Double = 0

    @Option(help: "Learning-rate schedule: none, step:SIZE:GAMMA, exp:GAMMA, cosine:TMAX.")
    var scheduler: String = "none"

    @Option(name: .customLong("val-split"), help: "Fraction of the training set held out for validation.")
    var valSplit: Double = 0.1

    @Option(help: "Seed of every random number (weights, shuffling, split).")
    var seed: UInt64 = 0

    @Option(help: "Threads (default: NEURONE_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Output directory.")
    var out: String = "neurone-run"

    @Flag(help: "Print one JSON object at the end instead of the per-epoch table.")
    var json = false

    func validate() throws {
        if epochs <= 0 { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if batchSize <= 0 { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        if let l = lr, !(l > 0 && l.isFinite) { throw ValidationError("--lr must be positive, got \(l)") }
        if !(valSplit >= 0 && valSplit < 1) { throw ValidationError("--val-split must be in [0, 1), got \(valSplit)") }
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive, got \(t)") }
        let names = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"]
        if !names.contains(optimizer.lowercased()) {
            throw ValidationError("unknown optimizer '\(optimizer)'; valid: \(names.joined(separator: ", "))")
        }
        _ = try parseScheduler()
    }

    enum Schedule { case none, step(Int, Double), exp(Double), cosine(Int) }

    func parseScheduler() throws -> Schedule {
        let parts = scheduler.lowercased().split(separator: ":").map(String.init)
        switch parts.first {
        case "none"?: return .none
        case "step"? where parts.count == 3: if let s = Int(parts[1]), let g = Double(parts[2]), s > 0 { return .step(s, g) }
        case "exp"? where parts.count == 2: if let g = Double(parts[1]) { return .exp(g) }
        case "cosine"? where parts.count == 2: if let t = Int(parts[1]), t > 0 { return .cosine(t) }
        default: break
        }
        throw ValidationError("invalid --scheduler '\(scheduler)'; valid: none, step:SIZE:GAMMA (e.g. step:1:0.7), exp:GAMMA, cosine:TMAX")
    }

    func makeOptimizer(_ params: [Tensor]) -> Optimizer {
        switch optimizer.lowercased() {
        case "sgd": return SGD(params, lr: lr ?? 0.01, momentum: momentum, weightDecay: weightDecay)
        case "adamw": return AdamW(params, lr: lr ?? 0.001, weightDecay: weightDecay == 0 ? 0.01 : weightDecay)
        case "rmsprop": return RMSprop(params, lr: lr ?? 0.001, weightDecay: weightDecay, momentum: momentum)
        case "adagrad": return Adagrad(params, lr: lr ?? 0.01, weightDecay: weightDecay)
        case "adadelta": return Adadelta(params, lr: lr ?? 1.0, weightDecay: weightDecay)
        default: return Adam(params, lr: lr ?? 0.001, weightDecay: weightDecay)
        }
    }

    func run() throws {
        if let t = threads { Threading.threadCount = t }
        let start = Date()
        manualSeed(seed)
        let data = try DataSets.load(dataset, seed: seed, dataDir: dataDir, labelColumn: labelColumn)
        let (model, inputShape) = try NamedModels.make(model, input: data.train.sampleShape, generator: Generator(seed: seed))
        let (train, val) = valSplit > 0 ? data.train.split(fraction: valSplit, generator: Generator(seed: seed &+ 1)) : (data.train, nil as TensorDataset?)
        let opt = makeOptimizer(model.parameters())
        let sched: LRScheduler?
        switch try parseScheduler() {
        case .none: sched = nil
        case .step(let s, let g): sched = StepLR(opt, stepSize: s, gamma: g)
        case .exp(let g): sched = ExponentialLR(opt, gamma: g)
        case .cosine(let t): sched = CosineAnnealingLR(opt, tMax: t)
        }
        let trainer = Trainer(model: model, optimizer: opt, scheduler: sched)
        let loader = DataLoader(train, batchSize: batchSize, shuffle: true, generator: Generator(seed: seed &+ 2))
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let interactive = isatty(fileno(stderr)) != 0
        if !json {
            print("training \(self.model) on \(data.name): \(train.count) train, \(val?.count ?? 0) validation, \(data.test.count) test samples; \(model.parameterCount) parameters; \(Threading.threadCount) threads")
        }
        var history: [EpochRecord] = []
        for epoch in 1...epochs {
            let t0 = Date()
            let lrNow = opt.learningRates[0]
            let (loss, acc) = try trainer.trainEpoch(loader) { batch, batches, running in
                guard interactive && !json else { return }
                let width = 24, done = width * batch / batches
                let elapsed = Date().timeIntervalSince(t0)
                let rate = Double(Swift.min(batch * batchSize, train.count)) / Swift.max(elapsed, 1e-9)
                let left = elapsed / Double(batch) * Double(batches - batch)
                let bar = String(repeating: "=", count: done) + (done < width ? ">" : "") + String(repeating: " ", count: Swift.max(0, width - done - 1))
                FileHandle.standardError.write(Data(String(format: "\repoch %d/%d [%@] %d/%d  %.0f samples/s  loss %.4f  %.0fs left ", epoch, epochs, bar, batch, batches, rate, running, left).utf8))
            }
            if interactive && !json { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let v = val.map { trainer.evaluate($0, classes: data.classCount) }
            let record = EpochRecord(epoch: epoch, trainLoss: loss, trainAccuracy: acc, valLoss: v?.loss, valAccuracy: v?.accuracy,
                                     learningRate: lrNow, seconds: Date().timeIntervalSince(t0))
            history.append(record)
            if !json {
                let vtext = v.map { String(format: "  val loss %.4f acc %.2f%%", $0.loss, $0.accuracy * 100) } ?? ""
                print(String(format: "epoch %3d/%d  train loss %.4f acc %.2f%%", epoch, epochs, loss, acc * 100) + vtext + String(format: "  lr %g  %.2fs", lrNow, record.seconds))
            }
            try writeAtomically(historyCSV(history), to: out + "/history.csv")
        }
        let test = trainer.evaluate(data.test, classes: data.classCount)
        try writeAtomically(learningCurvesSVG(history, title: "\(self.model) on \(data.name)"), to: out + "/curves.svg")
        try model.save(to: out + "/model.safetensors", metadata: ["format": "pt", "producer": "neurone", "model": self.model])
        let seconds = Date().timeIntervalSince(start)
        let meta = """
        {"model":\(jsonString(self.model)),"input":[\(inputShape.map(String.init).joined(separator: ","))],"dataset":\(jsonString(data.name)),\
        "optimizer":\(jsonString(optimizer.lowercased())),"lr":\(opt.learningRates[0]),"epochs":\(epochs),"batch_size":\(batchSize),\
        "seed":\(seed),\(labelColumn.map { "\"label_column\":\(jsonString($0))," } ?? "")"threads":\(Threading.threadCount),"scheduler":\(jsonString(scheduler)),"val_split":\(valSplit),\
        "test_accuracy":\(test.accuracy),"test_loss":\(test.loss)}
        """
        try writeAtomically(meta + "\n", to: out + "/model.json")
        let trainSeconds = history.reduce(0) { $0 + $1.seconds }
        let throughput = Double(train.count * epochs) / Swift.max(trainSeconds, 1e-9)
        if json {
            print("{\"test_accuracy\":\(test.accuracy),\"test_loss\":\(test.loss),\"epochs\":\(epochs),\"seconds\":\(String(format: "%.3f", seconds)),\"train_loss\":\(history.last!.trainLoss),\"samples_per_second\":\(String(format: "%.1f", throughput)),\"out\":\(jsonString(out))}")
        } else {
            print(String(format: "test loss %.4f  accuracy %.2f%% (%d samples)  —  %.1fs", test.loss, test.accuracy * 100, test.count, seconds))
            print("wrote \(out)/history.csv, \(out)/curves.svg, \(out)/model.safetensors, \(out)/model.json")
        }
    }
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out + "\""
}

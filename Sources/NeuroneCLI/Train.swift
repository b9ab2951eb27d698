import ArgumentParser
import Foundation
import Neurone

/// Set by the SIGINT handler: finish the batch, write a checkpoint, exit.
nonisolated(unsafe) var interruptRequested: sig_atomic_t = 0

/// `neurone train`: train a model on a data set, with learning curves and a checkpoint.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on a data set; write history.csv, curves.svg, model.safetensors and model.json.",
        discussion: """
        With no arguments: the digits-cnn model on the embedded 8×8 digits (no download), Adam, 15 epochs.
        Example: neurone train --model "flatten linear(32) relu linear(10)" --dataset digits --optimizer sgd --lr 0.1 --momentum 0.9
        After every epoch the output directory holds a checkpoint (model.safetensors, optimizer.safetensors,
        training-state.json). Ctrl-C finishes the current batch, writes a checkpoint and exits with status 130;
        `neurone train --resume DIR` continues as if never stopped (a second Ctrl-C stops at once).
        With --resume, the run's settings come from DIR; only --epochs (the new total), --out, --threads (default: the run's own, which resumes bit for bit) and --json are taken.
        Data-parallel training on several processes or machines: mpirun -np N neurone train … (Open MPI); --batch-size is then
        the batch over all N processes, each trains on its part, and only rank 0 prints and writes files (docs/DISTRIBUTED.md).
        """)

    @Option(help: "A named model (neurone models) or a model spec (docs/MODELS.md) (default: --init's model.json's, else digits-cnn).")
    var model: String?

    @Option(help: "Data set: \(DataSets.all.map { $0.name }.joined(separator: ", ")), a CSV file (PATH.csv), or a UTF-8 text file for a character-level language model (PATH.txt, or text:PATH) (default: --init's model.json's, else digits).")
    var dataset: String?

    @Option(help: "Normalise every input as (x - MEAN) / STD: MEAN,STD (e.g. 0.1307,0.3081, PyTorch's MNIST example) or auto (computed on the training split); recorded in model.json, used by eval, predict and export (default with --init: its model.json's).")
    var normalize: String?

    @Option(name: .customLong("init"), help: "Start from the weights of this checkpoint (a .safetensors file or a directory, e.g. one written by neurone import) instead of a fresh initialisation: fine-tuning.")
    var initialWeights: String?

    @Option(name: .customLong("label-column"), help: "For a CSV data set: the label column's name or 0-based index (default: the last).")
    var labelColumn: String?

    @Option(name: .customLong("data-dir"), help: "Directory holding data-set files (searched before $NEURONE_DATA and ~/.cache/neurone/NAME).")
    var dataDir: String?

    @Flag(help: "Download MNIST, Fashion-MNIST or USPS into ~/.cache/neurone/NAME when not found (checksums verified).")
    var download = false

    @Option(parsing: .unconditional, help: "Epochs (with --resume: the new total; default: the checkpoint's).")
    var epochs: Int?

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Batch size (1 = online SGD; a huge value = full batch).")
    var batchSize: Int = 32

    @Option(help: "Optimiser: \(OptimizerFactory.names.joined(separator: ", ")).")
    var optimizer: String = "adam"

    @Option(parsing: .unconditional, help: "Learning rate (default: 0.01 for sgd, adagrad; 1.0 for adadelta; 0.001 otherwise).")
    var lr: Double?

    @Option(parsing: .unconditional, help: "Momentum (sgd, rmsprop).")
    var momentum: Double = 0

    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Weight decay.")
    var weightDecay: Double = 0

    @Option(help: "Learning-rate schedule: \(OptimizerFactory.scheduleSyntax).")
    var scheduler: String = "none"

    @Option(name: .customLong("seq-len"), parsing: .unconditional, help: "For a text data set: characters per sequence (default \(DataSets.defaultSequenceLength)).")
    var seqLen: Int?

    @Option(help: "Training-data augmentation for images, comma-separated: shift:N (random shifts up to N pixels), crop:P (pad P, random crop), flip; or none.")
    var augment: String = "none"

    @Option(name: .customLong("val-split"), parsing: .unconditional, help: "Fraction of the training set held out for validation.")
    var valSplit: Double = 0.1

    @Option(help: "Seed of every random number (weights, shuffling, split, dropout, augmentation).")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Threads (default: NEURONE_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Output directory (with --resume: default the resumed directory).")
    var out: String?

    @Option(help: "Continue the run checkpointed in this directory.")
    var resume: String?

    @Flag(help: "Print one JSON object at the end instead of the per-epoch table.")
    var json = false

    @Flag(help: "Data-parallel training over the processes mpirun started (the default under mpirun; an error outside it).")
    var distributed = false

    @Option(name: .customLong("bucket-mb"), parsing: .unconditional, help: "Data-parallel training: the most gradient MiB summed in one bucket, each sent as soon as backward has finished it (PyTorch's default 25).")
    var bucketMB: Double = 25

    @Option(parsing: .unconditional, help: "Data-parallel training: seconds a process may wait for the others in one reduction before the job is stopped, naming the rank that did not come (0: no limit).")
    var timeout: Double = MPIProcessGroup.defaultTimeout

    func validate() throws {
        if let e = epochs, e <= 0 { throw ValidationError("--epochs must be positive, got \(e)") }
        if let n = normalize, n != "auto" { _ = try Normalization.parse(n) }
        if resume != nil && initialWeights != nil { throw ValidationError("--init starts a new run; --resume continues one with its own weights: give one of them") }
        if batchSize <= 0 { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        if let l = lr, !(l > 0 && l.isFinite) { throw ValidationError("--lr must be positive, got \(l)") }
        if !(valSplit >= 0 && valSplit < 1) { throw ValidationError("--val-split must be in [0, 1), got \(valSplit)") }
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive, got \(t)") }
        if !(bucketMB > 0 && bucketMB.isFinite && bucketMB <= 1_048_576) { throw ValidationError("--bucket-mb must be positive (MiB, at most 1048576), got \(bucketMB)") }
        if !(timeout >= 0 && timeout.isFinite) { throw ValidationError("--timeout must be a number of seconds ≥ 0, got \(timeout)") }
        if distributed && MPIProcessGroup.launch == nil { throw ValidationError("--distributed: this process was not started by mpirun; \(MPIProcessGroup.launchHelp)") }
        if let l = seqLen, !(1...TrainingSettings.maxSequenceLength).contains(l) {
            throw ValidationError("--seq-len must be in 1…\(TrainingSettings.maxSequenceLength), got \(l)")
        }
        if !OptimizerFactory.names.contains(optimizer.lowercased()) {
            throw ValidationError("unknown optimizer '\(optimizer)'; valid: \(OptimizerFactory.names.joined(separator: ", "))")
        }
        do { _ = try OptimizerFactory.parseSchedule(scheduler) }
        catch { throw ValidationError("invalid --scheduler '\(scheduler)'; valid: \(OptimizerFactory.scheduleSyntax)") }
    }

    func settings() throws -> TrainingSettings {
        var s = TrainingSettings()
        // --init: the checkpoint's model, data set and normalisation unless given
        let start = try initialWeights.map { try CheckpointLocation($0) }
        let recorded = start?.recorded ?? [:]
        s.model = model ?? recorded["model"] as? String ?? s.model
        s.dataset = dataset ?? recorded["dataset"] as? String ?? s.dataset
        s.normalize = try normalize ?? start?.normalization(nil)?.description
        s.initialWeights = initialWeights; s.dataDir = dataDir; s.labelColumn = labelColumn
        s.epochs = epochs ?? s.epochs; s.batchSize = batchSize; s.optimizer = optimizer.lowercased(); s.lr = lr
        s.momentum = momentum; s.weightDecay = weightDecay; s.scheduler = scheduler; s.valSplit = valSplit
        s.seed = seed; s.augment = augment; s.download = download; s.sequenceLength = seqLen
        return s
    }

    func run() throws {
        // Under mpirun every process runs this command; they train one model together.
        guard distributed || MPIProcessGroup.launch != nil else { return try train(group: nil) }
        let group = try MPIProcessGroup.shared()
        group.timeout = timeout
        if group.rank == 0 && group.worldSize > 1 && group.threadLevel < 3 {
            FileHandle.standardError.write(Data("neurone: this MPI grants thread level \(group.threadLevel), not MPI_THREAD_MULTIPLE: no heartbeats, so a hung process is not detected (--timeout has no effect)\(group.threadLevel < 2 ? ", and gradients are summed after backward, not during it" : "")\n".utf8))
        }
        try group.runEndingTheJobOnError { try train(group: group) }
    }

    func train(group: ProcessGroup?) throws {
        if let t = threads { Threading.threadCount = t }
        else if group != nil, let shared = MPIProcessGroup.threadsPerLocalProcess { Threading.threadCount = shared }
        let start = Date()
        // A TrainingError is a problem of the data, the model or the checkpoint, not of the command
        // line: it prints "Error: …" without the usage, and the exit status is 1.
        let run = try resume.map { try TrainingRun.resume(from: $0, epochs: epochs, output: out, processGroup: group, bucketCapMB: bucketMB) }
            ?? TrainingRun(settings: try settings(), directory: out ?? "neurone-run", processGroup: group, bucketCapMB: bucketMB)
        // A resumed run continues bit for bit only with the thread count it was trained with.
        if threads == nil, group == nil, let t = run.recordedThreadCount { Threading.threadCount = t }
        let s = run.settings, dir = run.directory
        // only rank 0 of a data-parallel run prints
        let speaks = run.isWriter
        signal(SIGINT) { _ in
            interruptRequested = 1
            signal(SIGINT, SIG_DFL)  // a second Ctrl-C stops at once
        }
        if group != nil {
            // Ctrl-C on mpirun reaches the processes as SIGTERM (then SIGKILL): every process
            // stops after the same batch (the stop is agreed in each step's reduction) and rank 0
            // writes the checkpoint
            signal(SIGTERM) { _ in
                interruptRequested = 1
                signal(SIGTERM, SIG_DFL)
            }
        }
        let interactive = isatty(fileno(stderr)) != 0 && speaks
        if !json && speaks {
            let resumed = resume.map { " — resumed from \($0) after \(run.history.count) epochs" } ?? ""
            let processes = group.map { " × \($0.worldSize) processes (\($0.name); global batch \(s.batchSize))" } ?? ""
            print("training \(s.model) on \(run.data.name): \(run.train.count) train, \(run.validation?.count ?? 0) validation, \(run.data.test.count) test samples; \(run.model.parameterCount) parameters; \(Threading.threadCount) threads\(processes)\(resumed)")
            let before = run.recordedWorldSize ?? 1, now = group?.worldSize ?? 1
            if resume != nil && before != now {
                print("note: the checkpoint was trained with \(before) process\(before == 1 ? "" : "es"), this run has \(now): the global batches are the same, so training goes on as before, but the gradients add in another order (not bit for bit)")
            }
        }
        var epochStart = Date(), lastDraw = Date.distantPast
        let outcome = try run.run(shouldStop: { interruptRequested != 0 }, onBatch: { epoch, batch, batches, running in
            if batch == 1 { epochStart = Date() }
            guard interactive && !json else { return }
            let now = Date()
            guard batch == batches || now.timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = now
            let width = 24, done = width * batch / batches
            let elapsed = now.timeIntervalSince(epochStart)
            let rate = Swift.min(Double(batch) * Double(s.batchSize), Double(run.train.count)) / Swift.max(elapsed, 1e-9)
            let left = elapsed / Double(batch) * Double(batches - batch)
            let bar = String(repeating: "=", count: done) + (done < width ? ">" : "") + String(repeating: " ", count: Swift.max(0, width - done - 1))
            FileHandle.standardError.write(Data(String(format: "\repoch %d/%d [%@] %d/%d  %.0f samples/s  loss %.4f  %.0fs left ", epoch, s.epochs, bar, batch, batches, rate, running, left).utf8))
        }, onEpoch: { r in
            if interactive && !json { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            guard !json && speaks else { return }
            let vtext = r.valLoss.map { String(format: "  val loss %.4f acc %.2f%%", $0, (r.valAccuracy ?? 0) * 100) } ?? ""
            print(String(format: "epoch %3d/%d  train loss %.4f acc %.2f%%", r.epoch, s.epochs, r.trainLoss, r.trainAccuracy * 100) + vtext + String(format: "  lr %g  %.2fs", r.learningRate, r.seconds))
        })
        switch outcome {
        case .interrupted(let epoch, let batch, let step):
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            guard speaks else { throw ExitCode(130) }
            let message = "interrupted in epoch \(epoch) after batch \(batch) (step \(step)); checkpoint written to \(dir); continue with: neurone train --resume \(dir)"
            if json { print("{\"interrupted\":true,\"epoch\":\(epoch),\"batch\":\(batch),\"step\":\(step),\"out\":\(jsonString(dir))}") }
            else { print(message) }
            throw ExitCode(130)
        case .finished(let test):
            guard speaks else { return }
            let seconds = Date().timeIntervalSince(start)
            let trainSeconds = run.history.reduce(0) { $0 + $1.seconds }
            let throughput = Double(run.train.count * run.history.count) / Swift.max(trainSeconds, 1e-9)
            if json {
                print("{\"test_accuracy\":\(test.accuracy),\"test_loss\":\(test.loss),\"epochs\":\(s.epochs),\"seconds\":\(String(format: "%.3f", seconds)),\"train_loss\":\(run.history.last.map { String($0.trainLoss) } ?? "null"),\"samples_per_second\":\(String(format: "%.1f", throughput)),\"out\":\(jsonString(dir))}")
            } else {
                print(String(format: "test loss %.4f  accuracy %.2f%% (%d samples)  —  %.1fs", test.loss, test.accuracy * 100, test.count, seconds))
                print("wrote \(dir)/history.csv, \(dir)/curves.svg, \(dir)/model.safetensors, \(dir)/model.json (checkpoint: optimizer.safetensors, training-state.json)")
            }
        }
    }
}

/// A JSON string literal of `s`: quotes, backslashes and control characters escaped.
func jsonString(_ s: String) -> String { Safetensors.jsonString(s) }

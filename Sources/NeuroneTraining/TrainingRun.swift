import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import NeuroneDistributed
import Foundation

/// A training run with its files: builds the data, model, optimiser and schedule from
/// `TrainingSettings`, trains epoch by epoch, and after every epoch (and when stopped) writes a
/// checkpoint to its directory from which `resume(from:)` continues exactly as if never stopped:
/// - `model.safetensors`: the weights (PyTorch names), also the last good model after a failure;
/// - `optimizer.safetensors`: the optimiser state (`Optimizer.stateTensors()`);
/// - `training-state.json`: settings, history, position in the epoch, random-generator states;
/// - `history.csv`, `model.json`, and at the end `curves.svg`.
/// All files are written through a temporary file and a rename. The checkpoint is one unit even
/// when the process is killed while writing it: the new weights and optimiser state are first
/// written beside the old ones (`model.safetensors.next`, `optimizer.safetensors.next`), then
/// training-state.json is replaced — the commit — and only then do the `.next` files take the
/// final names. Every file carries its step count, and `resume(from:)` takes, for each, whichever
/// of the final and the `.next` file has the committed step.
public final class TrainingRun {
    /// The run's settings.
    public private(set) var settings: TrainingSettings
    /// The data set.
    public let data: DataSetSplits
    /// The part trained on, and the validation part (nil without one).
    public let train: TensorDataset, validation: TensorDataset?
    /// The model.
    public let model: Module
    /// The per-sample input shape.
    public let inputShape: [Int]
    /// The normalisation applied to every input (`settings.normalize` resolved), nil for none.
    public let normalization: Normalization?
    /// The optimiser.
    public let optimizer: Optimizer
    /// The trainer (loss choice, steps).
    public let trainer: Trainer
    /// The training batches.
    public let loader: DataLoader
    /// The epochs completed so far.
    public private(set) var history: [EpochRecord] = []
    /// Where the files go.
    public let directory: String
    /// For a resumed run, the thread count its checkpoint was trained with (nil for a new run or
    /// a checkpoint that does not record it). Resuming with the same count continues bit for bit;
    /// another count adds the same numbers in another order.
    public private(set) var recordedThreadCount: Int?
    /// For a resumed run, the number of processes its checkpoint was trained with (nil: one, or a
    /// checkpoint that does not record it).
    public private(set) var recordedWorldSize: Int?
    /// The processes of a data-parallel run (nil: this process alone). Every process trains the
    /// same model on its part of each batch; only rank 0 writes files.
    public let processGroup: ProcessGroup?
    /// True for the process that writes the run's files: rank 0, or the only one.
    public var isWriter: Bool { processGroup?.isMain ?? true }

    let loaderGenerator: Generator
    let modelGenerator: Generator
    var epochStartLoaderState: Generator.State
    var position = EpochProgress()

    /// How a call to `run` ended.
    public enum Outcome {
        /// Every epoch done; the test evaluation.
        case finished(test: Evaluation)
        /// Stopped by `shouldStop` after a batch; a checkpoint was written.
        case interrupted(epoch: Int, batch: Int, step: Int)
    }

    /// A new run writing into `directory` (created if needed).
    /// With `settings.initialWeights`, the model starts from that checkpoint's weights.
    /// With `processGroup`, this process is one of a data-parallel run: `settings.batchSize` is the
    /// batch over all processes, gradients are summed in buckets of `bucketCapMB` MiB.
    public convenience init(settings: TrainingSettings, directory: String, processGroup: ProcessGroup? = nil, bucketCapMB: Double = 25) throws {
        try self.init(settings: settings, directory: directory, vocabulary: nil, processGroup: processGroup, bucketCapMB: bucketCapMB)
        if let path = settings.initialWeights {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw TrainingError(message: "--init: \(path) does not exist")
            }
            let file = isDir.boolValue ? path + "/model.safetensors" : path
            do { try model.load(from: file) }
            catch { throw TrainingError(message: "--init: the weights in \(file) do not fit the model \(settings.model): \(error)") }
        }
    }

    /// A run whose text data set is coded with `vocabulary` (a resumed run's), else its own.
    init(settings: TrainingSettings, directory: String, vocabulary: Vocabulary?, processGroup: ProcessGroup?, bucketCapMB: Double) throws {
        try settings.validate()
        self.settings = settings
        self.directory = directory
        self.processGroup = processGroup
        manualSeed(settings.seed)
        let loaded = try DataSets.load(settings.dataset, seed: settings.seed, dataDir: settings.dataDir, labelColumn: settings.labelColumn,
                                       download: settings.download, log: { FileHandle.standardError.write(Data(("neurone: " + $0 + "\n").utf8)) },
                                       sequenceLength: settings.sequenceLength ?? DataSets.defaultSequenceLength, vocabulary: vocabulary)
        normalization = try settings.normalize.map { $0 == "auto" ? try Normalization.fit(loaded.train, name: loaded.name) : try Normalization.parse($0) }
        data = try normalization.map { try $0.apply(loaded) } ?? loaded
        // The model's generator initialises the weights and then draws its dropout masks.
        modelGenerator = Generator(seed: settings.seed)
        (model, inputShape) = try NamedModels.make(settings.model, input: data.train.sampleShape, classes: data.vocabulary?.count, generator: modelGenerator)
        try TrainingRun.checkOutput(of: model, input: inputShape, fits: data, modelName: settings.model)
        if settings.valSplit > 0 {
            let (t, v) = data.train.split(fraction: settings.valSplit, generator: Generator(seed: settings.seed &+ 1))
            (train, validation) = (t, v)
        } else {
            (train, validation) = (data.train, nil)
        }
        optimizer = try OptimizerFactory.make(settings.optimizer, parameters: model.parameters(), lr: settings.lr,
                                              momentum: settings.momentum, weightDecay: settings.weightDecay)
        let schedule = try OptimizerFactory.schedule(settings.scheduler, optimizer: optimizer)
        // every process builds the model from the same seed; the wrapper checks that they agree and
        // copies rank 0's weights to all
        let built = model
        let ddp = try processGroup.map { try DistributedDataParallel(built, processGroup: $0, bucketCapMB: bucketCapMB) }
        trainer = Trainer(model: model, optimizer: optimizer, scheduler: schedule, distributed: ddp)
        loaderGenerator = Generator(seed: settings.seed &+ 2)
        epochStartLoaderState = loaderGenerator.state
        loader = DataLoader(train, batchSize: settings.batchSize, shuffle: true,
                            transforms: try settings.transforms(sampleShape: train.sampleShape), generator: loaderGenerator,
                            sampler: ddp.map { DistributedSampler(rank: $0.processGroup.rank, worldSize: $0.processGroup.worldSize) })
        guard isWriter else { return }
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        catch { throw TrainingError(message: "cannot create the output directory \(directory): \(error.localizedDescription)") }
    }

    /// The vocabulary.json of a checkpoint directory written by a text run; a `TrainingError`
    /// naming the file when it is missing or corrupt.
    public static func readVocabulary(_ directory: String) throws -> Vocabulary {
        do { return try Vocabulary.read(directory + "/vocabulary.json") }
        catch let e as DataSetError { throw TrainingError(message: "\(e.message); the checkpoint in \(directory) is of a text data set and needs its vocabulary") }
    }

    /// Throws unless the model gives one score per class of the data set, [batch, classes] — found
    /// by a pass on `Device.meta` (shapes only, nothing computed or drawn): run before training
    /// starts and before `neurone eval` evaluates a checkpoint on a data set.
    public static func checkOutput(of model: Module, input: [Int], fits data: DataSetSplits, modelName: String) throws {
        if let want = model.expectedInputDType, data.train.inputs.dtype != want {
            throw TrainingError(message: "the model '\(modelName)' takes \(want) inputs (an embedding reads token indices), but \(data.name) holds \(data.train.inputs.dtype) features; start the model with another layer, or give it a data set of tokens")
        }
        guard data.train.labels.dtype == .int64 else { return }
        if let vocabulary = data.vocabulary {
            // token indices read by the model's first layer must be rows of its table
            if let embedding = (model as? Sequential)?.layers.first as? Embedding, embedding.numEmbeddings < vocabulary.count {
                throw TrainingError(message: "the model '\(modelName)' starts with an embedding of \(embedding.numEmbeddings) rows, but \(data.name) has a vocabulary of \(vocabulary.count) characters (tokens 0…\(vocabulary.count - 1)): use embedding(\(vocabulary.count),DIM)")
            }
            guard model.expectedInputDType == .int64 else {
                throw TrainingError(message: "the model '\(modelName)' takes float features, but \(data.name) is text: sequences of token indices; start the model with embedding(\(vocabulary.count),DIM)")
            }
        }
        let labels = data.train.labels.toArray(as: Int64.self) + data.test.labels.toArray(as: Int64.self)
        let classes = Swift.max(data.train.classNames.count, Int(labels.max() ?? -1) + 1)
        let out = model.withStandIns(on: .meta) {
            withNoGrad { model(Tensor.zeros([2] + input, dtype: model.expectedInputDType ?? .float32, device: .meta)) }
        }.shape
        if data.train.labels.rank == 2 {
            // a language model: scores for every position, [batch, T, classes]
            let steps = data.train.labels.shape[1]
            let perSample = out.dropFirst().map(String.init).joined(separator: "×")
            guard out.count == 3, out[1] == steps else {
                throw TrainingError(message: "the model '\(modelName)' gives outputs of shape \(perSample.isEmpty ? "[]" : perSample) per sample, but \(data.name) needs scores for the next character at each of the \(steps) positions: \(steps)×\(classes) (keep the sequence: no 'last' or 'mean', end with linear(\(classes)))")
            }
            guard out[2] >= classes else {
                throw TrainingError(message: "the model '\(modelName)' gives \(out[2]) scores per position, but \(data.name) has \(classes) characters in its vocabulary: its last layer needs \(classes) outputs, e.g. linear(\(classes))")
            }
            return
        }
        let perSample = out.dropFirst().map(String.init).joined(separator: "×")
        guard out.count == 2 else {
            throw TrainingError(message: "the model '\(modelName)' gives outputs of shape \(perSample.isEmpty ? "[]" : perSample) per sample, but training on \(data.name) needs one score per class: [\(classes)] (end the model with linear(\(classes)), after flatten)")
        }
        guard out[1] >= classes else {
            throw TrainingError(message: "the model '\(modelName)' gives \(out[1]) scores per sample, but \(data.name) has \(classes) classes (labels 0…\(classes - 1)): its last layer needs \(classes) outputs, e.g. linear(\(classes))")
        }
    }

    /// Continues the run checkpointed in `directory`: same settings (`epochs` may raise the total),
    /// weights, optimiser state, schedule, history, position in the epoch and random streams.
    /// Files are then written to `output` (default: `directory`).
    /// In a data-parallel run (`processGroup`), every process reads the checkpoint (a directory
    /// all of them see) and goes on with its part of the same global batches.
    public static func resume(from directory: String, epochs: Int? = nil, output: String? = nil,
                              processGroup: ProcessGroup? = nil, bucketCapMB: Double = 25) throws -> TrainingRun {
        let statePath = directory + "/training-state.json"
        guard let bytes = FileManager.default.contents(atPath: statePath) else {
            throw TrainingError(message: "--resume: \(statePath) not found; \(directory) is not a checkpoint directory written by neurone train")
        }
        let saved = try decodeState(bytes, statePath: statePath)
        var settings = saved.settings
        if let e = epochs { settings.epochs = e }
        guard settings.epochs >= saved.history.count else {
            throw TrainingError(message: "--resume: the checkpoint has already done \(saved.history.count) epochs; --epochs \(settings.epochs) is fewer")
        }
        // A text run goes on with the vocabulary it started with: the text is coded with it, and a
        // character the model never saw is an error naming where it is.
        let vocabulary = DataSets.isText(settings.dataset) ? try TrainingRun.readVocabulary(directory) : nil
        let run = try TrainingRun(settings: settings, directory: output ?? directory, vocabulary: vocabulary,
                                  processGroup: processGroup, bucketCapMB: bucketCapMB)
        try saved.validate(against: run, statePath: statePath)
        let (weights, modelFromNext) = try readCommitted(directory, "model.safetensors", steps: saved.steps)
        let (optState, optimizerFromNext) = try readCommitted(directory, "optimizer.safetensors", steps: saved.steps)
        let samePlace = { (a: String, b: String) in URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath().path == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath().path }
        if samePlace(run.directory, directory) && run.isWriter {
            // Finish the interrupted commit before this run writes its own `.next` files.
            run.unfinishedRenames = [(modelFromNext, "model.safetensors"), (optimizerFromNext, "optimizer.safetensors")].filter(\.0).map { directory + "/" + $0.1 }
        }
        try run.model.loadStateDict(weights)
        try run.optimizer.loadStateTensors(optState)
        // The schedule is a function of the epoch: replay its steps from the settings' base rates.
        for _ in 0..<saved.history.count { run.trainer.scheduler?.step() }
        run.optimizer.learningRates = saved.learningRates
        run.trainer.restoreSteps(saved.steps)
        run.history = saved.history
        run.position = saved.position
        run.loaderGenerator.state = try saved.loaderGenerator.state()
        Generator.default.state = try saved.defaultGenerator.state()
        run.modelGenerator.state = try saved.modelGenerator.state()
        run.recordedThreadCount = saved.threads
        run.recordedWorldSize = saved.worldSize
        return run
    }

    /// Trains the remaining epochs. `onBatch(epoch, batch, batches, runningLoss)` follows each
    /// batch, `onEpoch(record)` each epoch; `shouldStop()` is asked after each batch, and a yes
    /// ends the call with a checkpoint. A NaN or infinite loss throws, naming the step and the
    /// last good checkpoint.
    public func run(shouldStop: () -> Bool = { false },
                    onBatch: ((Int, Int, Int, Double) -> Void)? = nil,
                    onEpoch: ((EpochRecord) -> Void)? = nil) throws -> Outcome {
        // only the writer (rank 0 of a data-parallel run) locks the directory and writes in it
        let lock = isWriter ? try DirectoryLock(directory, purpose: "training") : nil
        defer { withExtendedLifetime(lock) {} }
        if isWriter { try finishInterruptedWrites() }
        if let v = data.vocabulary, isWriter {
            do { try writeFileAtomically(v.json(), to: directory + "/vocabulary.json") }
            catch let e as FileWriteError { throw TrainingError(message: e.message) }
        }
        if isWriter { try writeModelJSON(test: nil) }
        while history.count < settings.epochs {
            let epoch = history.count + 1
            // The loader's stream is at this epoch's start (also after a resume in mid-epoch: the
            // batches already done are drawn again and skipped), which the checkpoint records.
            epochStartLoaderState = loaderGenerator.state
            let lrNow = optimizer.learningRates[0]
            let t0 = Date()
            let before = position
            let result: (progress: EpochProgress, completed: Bool)
            do {
                result = try trainer.trainEpoch(loader, from: before, shouldStop: shouldStop) { b, n, l in onBatch?(epoch, b, n, l) }
            } catch let e as TrainingError {
                let last = history.isEmpty ? "no checkpoint was written (it fails in the first epoch)" : "the last good checkpoint (epoch \(history.count)) is in \(directory)"
                throw TrainingError(message: "\(e.message); \(last)")
            }
            var p = result.progress
            p.seconds = before.seconds + Date().timeIntervalSince(t0)
            if !result.completed {
                position = p
                if isWriter { try writeCheckpoint() }
                return .interrupted(epoch: epoch, batch: p.batchesDone, step: trainer.steps)
            }
            let v = validation.map { trainer.evaluate($0, classes: data.classCount) }
            let record = EpochRecord(epoch: epoch, trainLoss: p.meanLoss, trainAccuracy: p.accuracy, valLoss: v?.loss, valAccuracy: v?.accuracy,
                                     learningRate: lrNow, seconds: before.seconds + Date().timeIntervalSince(t0))
            history.append(record)
            position = EpochProgress()
            epochStartLoaderState = loaderGenerator.state
            if isWriter {
                try writeAtomically(historyCSV(history), to: directory + "/history.csv")
                try writeCheckpoint()
            }
            onEpoch?(record)
            if history.count < settings.epochs && shouldStop() {
                return .interrupted(epoch: epoch + 1, batch: 0, step: trainer.steps)
            }
        }
        let test = trainer.evaluate(data.test, classes: data.classCount)
        if isWriter {
            try writeAtomically(learningCurvesSVG(history, title: "\(settings.model) on \(data.name)"), to: directory + "/curves.svg")
            try writeModelJSON(test: test)
        }
        return .finished(test: test)
    }

    /// The suffix of a checkpoint file written but not yet committed.
    static let uncommitted = ".next"

    /// Reads the checkpoint file `name` of `directory` that belongs to the committed step: the file
    /// itself, or its `.next` version when the writer was stopped after the commit but before the
    /// rename (the other one then holds the step before).
    static func readCommitted(_ directory: String, _ name: String, steps: Int) throws -> (tensors: [String: Tensor], fromNext: Bool) {
        var found: [String] = []
        for path in [directory + "/" + name, directory + "/" + name + uncommitted] where FileManager.default.fileExists(atPath: path) {
            let (tensors, meta) = try Safetensors.read(path)
            if meta["steps"] == String(steps) { return (tensors, path.hasSuffix(uncommitted)) }
            found.append("\(path): step \(meta["steps"] ?? "none")")
        }
        throw TrainingError(message: "--resume: training-state.json in \(directory) is at step \(steps), but no \(name) of that step was found (\(found.isEmpty ? "no \(name) at all" : found.joined(separator: "; "))); the files were not written together by neurone train")
    }

    /// Writes the checkpoint of the current step as one unit (see the type's documentation):
    /// the `.next` safetensors files, then training-state.json (the commit), then the renames.
    func writeCheckpoint() throws {
        let steps = String(trainer.steps)
        let modelPath = directory + "/model.safetensors", optimizerPath = directory + "/optimizer.safetensors"
        let next = TrainingRun.uncommitted
        try model.save(to: modelPath + next, metadata: ["format": "pt", "producer": "neurone", "model": settings.model, "steps": steps])
        try Safetensors.write(optimizer.stateTensors(), to: optimizerPath + next, metadata: ["producer": "neurone", "optimizer": settings.optimizer, "steps": steps])
        let state = SavedState(settings: settings, steps: trainer.steps, history: history, position: position,
                               learningRates: optimizer.learningRates,
                               loaderGenerator: .init(epochStartLoaderState), defaultGenerator: .init(Generator.default.state),
                               modelGenerator: .init(modelGenerator.state), threads: Device.default.threadCount,
                               worldSize: processGroup?.worldSize)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(String(decoding: try encoder.encode(state), as: UTF8.self) + "\n", to: directory + "/training-state.json")
        for path in [modelPath, optimizerPath] where rename(path + next, path) != 0 {
            throw TrainingError(message: "cannot rename \(path + next) to \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Checkpoint files of the committed step that a killed writer left under their `.next` names
    /// (found by `resume`), renamed by `run()` once it holds the directory's lock.
    var unfinishedRenames: [String] = []

    /// Cleans up after a writer killed in this directory: finishes its interrupted commit and
    /// removes its temporary files (`.NAME.tmp-PID`). Called with the directory locked, so no
    /// other writer is running.
    func finishInterruptedWrites() throws {
        for path in unfinishedRenames where rename(path + TrainingRun.uncommitted, path) != 0 {
            throw TrainingError(message: "cannot rename \(path + TrainingRun.uncommitted) to \(path): \(String(cString: strerror(errno)))")
        }
        unfinishedRenames = []
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    /// model.json: the settings eval and predict read back (model, input shape, data set, seed),
    /// and the test metrics once known.
    func writeModelJSON(test: Evaluation?) throws {
        var object: [String: Any] = [
            "model": settings.model, "input": inputShape, "dataset": data.name, "optimizer": settings.optimizer.lowercased(),
            "lr": settings.lr ?? OptimizerFactory.defaultLearningRate(settings.optimizer), "epochs": settings.epochs,
            "batch_size": settings.batchSize, "seed": settings.seed, "threads": Device.default.threadCount,
            "scheduler": settings.scheduler, "val_split": settings.valSplit, "augment": settings.augment,
        ]
        if let l = settings.labelColumn { object["label_column"] = l }
        if let n = normalization { object["normalize"] = [n.mean, n.std] }
        if data.vocabulary != nil { object["sequence_length"] = inputShape.first ?? 0 }
        if let t = test { object["test_accuracy"] = t.accuracy; object["test_loss"] = t.loss }
        let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try writeAtomically(String(decoding: json, as: UTF8.self) + "\n", to: directory + "/model.json")
    }

    /// The settings a model.json records (written by `neurone train` beside its checkpoint, read
    /// by `eval` and `predict`), each field type-checked; throws naming the file and the field
    /// when it is corrupt.
    public static func readModelJSON(_ data: Data, path: String) throws -> [String: Any] {
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TrainingError(message: "\(path) is corrupt: not a JSON object (written by neurone train; delete it and pass --model and --input, or train again)")
        }
        func whole(_ v: Any, _ range: ClosedRange<Double>) -> Bool {
            guard let n = v as? NSNumber else { return false }
            let d = n.doubleValue
            return d.isFinite && d.rounded() == d && range.contains(d)
        }
        let checks: [(String, (Any) -> Bool, String)] = [
            ("model", { $0 is String }, "a string"), ("dataset", { $0 is String }, "a string"), ("label_column", { $0 is String }, "a string"),
            ("seed", { whole($0, 0...Double(UInt64.max)) }, "a whole number ≥ 0"),
            ("input", { ($0 as? [Any]).map { !$0.isEmpty && $0.allSatisfy { whole($0, 1...Double(Int32.max)) } } ?? false }, "a list of positive sizes"),
            ("sequence_length", { whole($0, 1...Double(TrainingSettings.maxSequenceLength)) }, "a whole number in 1…\(TrainingSettings.maxSequenceLength)"),
            ("normalize", { v in
                guard let a = v as? [Any], a.count == 2, let m = (a[0] as? NSNumber)?.doubleValue, let s = (a[1] as? NSNumber)?.doubleValue else { return false }
                return m.isFinite && s.isFinite && s > 0
            }, "[mean, std] with a finite mean and a finite positive std"),
        ]
        for (key, ok, expected) in checks {
            if let v = obj[key], !ok(v) { throw TrainingError(message: "\(path) is corrupt: its \"\(key)\" is \(v); expected \(expected)") }
        }
        return obj
    }

    /// Decodes a training-state.json and checks every field that does not depend on the data set
    /// (the rest is checked against the rebuilt run by `SavedState.validate(against:)`).
    package static func decodeState(_ bytes: Data, statePath: String) throws -> SavedState {
        let saved: SavedState
        do { saved = try JSONDecoder().decode(SavedState.self, from: bytes) }
        catch { throw TrainingError(message: "--resume: \(statePath) is not a valid training state: \(error)") }
        guard saved.version == SavedState.currentVersion else {
            throw TrainingError(message: "--resume: \(statePath) has format version \(saved.version); this Neurone reads version \(SavedState.currentVersion)")
        }
        func bad(_ what: String, _ value: Any, _ expected: String) -> TrainingError {
            TrainingError(message: "--resume: \(statePath) is corrupt: \(what) is \(value); expected \(expected)")
        }
        try saved.settings.validate()
        if saved.learningRates.isEmpty { throw bad("the list of learning rates", "empty", "one rate per parameter group") }
        if let r = saved.learningRates.first(where: { !($0.isFinite && $0 >= 0) }) { throw bad("a learning rate", r, "a finite number ≥ 0") }
        if saved.steps < 0 { throw bad("the step count", saved.steps, "0 or more") }
        if saved.history.count > saved.settings.epochs {
            throw bad("the number of epochs done", saved.history.count, "at most the \(saved.settings.epochs) epochs of the run")
        }
        let p = saved.position
        if p.batchesDone < 0 { throw bad("the position in the epoch", "batch \(p.batchesDone)", "0 or more") }
        if p.seen < 0 { throw bad("the samples seen in the epoch", p.seen, "0 or more") }
        if let q = p.predictions, q < 0 { throw bad("the predictions made in the epoch", q, "0 or more") }
        let made = p.predictions ?? p.seen
        if !(0...Swift.max(0, made)).contains(p.correct) { throw bad("the correct predictions in the epoch", p.correct, "0…\(made) (the predictions made)") }
        if !p.lossSum.isFinite { throw bad("the epoch's loss sum", p.lossSum, "a finite number") }
        if !p.seconds.isFinite || p.seconds < 0 { throw bad("the epoch's time", p.seconds, "a finite number of seconds ≥ 0") }
        for g in [saved.loaderGenerator, saved.defaultGenerator, saved.modelGenerator] { _ = try g.state() }
        if let t = saved.threads, !(1...4096).contains(t) { throw bad("the thread count", t, "1…4096") }
        if let n = saved.worldSize, !(1...1 << 20).contains(n) { throw bad("the number of processes", n, "1…\(1 << 20)") }
        return saved
    }

    /// training-state.json.
    package struct SavedState: Codable {
        static let currentVersion = 1
        var version = currentVersion
        var settings: TrainingSettings
        var steps: Int
        var history: [EpochRecord]
        var position: EpochProgress
        var learningRates: [Double]
        var loaderGenerator: SavedGenerator
        var defaultGenerator: SavedGenerator
        var modelGenerator: SavedGenerator
        /// The thread count the run used (absent in files of older versions): reductions split
        /// across threads add in another order, so an exact resume uses the same count.
        var threads: Int?
        /// The number of processes of a data-parallel run (absent: one). The global batches are
        /// the same whatever the number; another number adds the gradients in another order.
        var worldSize: Int?

        /// Throws unless every number the resumed run will use is one it can use: the file may
        /// have been edited or damaged.
        func validate(against run: TrainingRun, statePath: String) throws {
            func bad(_ what: String, _ value: Any, _ expected: String) -> TrainingError {
                TrainingError(message: "--resume: \(statePath) is corrupt: \(what) is \(value); expected \(expected)")
            }
            let groups = run.optimizer.learningRates.count
            if learningRates.count != groups { throw bad("the list of learning rates", learningRates, "\(groups) rate\(groups == 1 ? "" : "s"), one per parameter group") }
            let batches = run.loader.count, samples = run.train.count
            let p = position
            if !(0...batches).contains(p.batchesDone) { throw bad("the position in the epoch", "batch \(p.batchesDone)", "0…\(batches) (the epoch has \(batches) batches)") }
            if !(0...samples).contains(p.seen) { throw bad("the samples seen in the epoch", p.seen, "0…\(samples)") }
            // a sequence model makes one prediction per position of each sample seen
            let positions = run.train.labels.rank == 2 ? run.train.labels.shape[1] : nil
            if positions.map({ (p.predictions ?? 0) != p.seen * $0 }) ?? (p.predictions != nil) {
                throw bad("the predictions made in the epoch", p.predictions.map(String.init) ?? "absent",
                          positions.map { "\(p.seen * $0) (\(p.seen) samples × \($0) positions)" } ?? "absent (one prediction per sample)")
            }
        }
    }

    /// A generator state in JSON: the words in hexadecimal (JSON numbers lose 64-bit precision).
    struct SavedGenerator: Codable {
        var words: [String]
        var spareNormal: Double?

        init(_ s: Generator.State) { words = s.words.map { String($0, radix: 16) }; spareNormal = s.spareNormal }

        func state() throws -> Generator.State {
            let w = words.compactMap { UInt64($0, radix: 16) }
            guard w.count == 4, words.count == 4 else { throw TrainingError(message: "--resume: a generator state in training-state.json is malformed") }
            return Generator.State(words: w, spareNormal: spareNormal)
        }
    }
}

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import NeuroneDistributed
import Foundation

/// Trains a classifier with an optimiser (and an optional schedule) on a `TensorDataset`.
public final class Trainer {
    /// The model trained.
    public let model: Module
    /// Its optimiser.
    public let optimizer: Optimizer
    /// An optional schedule, stepped after each epoch.
    public var scheduler: LRScheduler?
    /// What the model outputs, which decides the loss.
    public let outputKind: OutputKind
    /// Steps taken so far (batches).
    public private(set) var steps = 0
    /// In data-parallel training, the model wrapped for it: each process trains on its part of
    /// every batch (the loader's `sampler`), gradients are summed over the processes weighted by
    /// each part's share of the batch, and the losses and counts of `trainEpoch` and `evaluate`
    /// are those of the whole batch and the whole data set. nil: one process.
    public let distributed: DistributedDataParallel?

    /// A trainer; the loss follows `outputKind(of:)`. With `distributed` (which wraps `model`),
    /// it trains one process of a data-parallel run.
    public init(model: Module, optimizer: Optimizer, scheduler: LRScheduler? = nil, distributed: DistributedDataParallel? = nil) {
        check(distributed.map { $0.module === model } ?? true, "Trainer: the DistributedDataParallel given does not wrap the model given")
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.distributed = distributed
        self.outputKind = Trainer.outputKind(of: model)
    }

    /// The model's own `declaredOutputKind` (`MnistCNN`, which ends with log-softmax:
    /// log-probabilities), else decided from the last leaf module: LogSoftmax → log-probabilities,
    /// Softmax → probabilities, anything else → logits.
    public static func outputKind(of model: Module) -> OutputKind {
        if let kind = model.declaredOutputKind { return kind }
        let leaves = model.namedModules().map { $0.1 }.filter { $0.namedChildren.isEmpty }
        switch leaves.last {
        case is LogSoftmax: return .logProbabilities
        case is Softmax: return .probabilities
        default: return .logits
        }
    }

    /// The classification loss for this model's kind of output (mean over the batch). A sequence
    /// model's output [N, T, C] with labels [N, T] (a language model: the next token at each
    /// position) is scored at every position: the mean over all N·T predictions.
    public func loss(_ output: Tensor, _ labels: Tensor) -> Tensor {
        let (output, labels) = Trainer.positions(output, labels)
        switch outputKind {
        case .logits: return Loss.crossEntropy(output, labels)
        case .logProbabilities: return Loss.nll(output, labels)
        case .probabilities: return Loss.nll(output.clamp(min: 1e-12).log(), labels)
        }
    }

    /// Output and labels with one row per prediction: [N·T, C] and [N·T] for a sequence model's
    /// [N, T, C] and [N, T]; unchanged for a classifier's [N, C] and [N].
    static func positions(_ output: Tensor, _ labels: Tensor) -> (Tensor, Tensor) {
        guard output.rank == 3 && labels.rank == 2 else { return (output, labels) }
        return (output.reshape([-1, output.shape[2]]), labels.reshape([-1]))
    }

    /// The predicted classes (argmax over the last dimension) and the true ones, flattened.
    static func predictions(_ output: Tensor, _ labels: Tensor) -> (predicted: [Int64], truth: [Int64]) {
        let (out, truth) = positions(output, labels)
        return (out.argmax(dim: 1).toArray(as: Int64.self), truth.toArray(as: Int64.self))
    }

    /// One pass over the loader. `progress(batch, batches, runningLoss)` is called after each batch.
    public func trainEpoch(_ loader: DataLoader, progress: ((Int, Int, Double) -> Void)? = nil) throws -> (loss: Double, accuracy: Double) {
        let p = try trainEpoch(loader, from: EpochProgress(), onBatch: progress).progress
        return (p.meanLoss, p.accuracy)
    }

    /// One pass over the loader, or the rest of one: the first `start.batchesDone` batches are drawn
    /// (so the loader's random streams advance as they did) but not trained on, and the sums go on
    /// from `start`'s. After each batch `onBatch(batch, batches, runningLoss)` is called, then
    /// `shouldStop()`: when it says yes the pass ends there, incomplete. The schedule steps only
    /// when the epoch completes.
    public func trainEpoch(_ loader: DataLoader, from start: EpochProgress, shouldStop: () -> Bool = { false },
                           onBatch: ((Int, Int, Double) -> Void)? = nil) throws -> (progress: EpochProgress, completed: Bool) {
        model.train()
        var p = start
        let batches = loader.count
        for (i, batch) in loader.enumerated() {
            if i < start.batchesDone { continue }
            optimizer.zeroGrad()
            let n = batch.labels.shape[0]
            let sequence = batch.labels.rank == 2
            // the numbers of this batch (of the whole batch in data-parallel training)
            var value = 0.0, lossSum = 0.0, correct = 0, predictions = 0, stop = false
            var l: Tensor?
            if n > 0 {
                let out = (distributed ?? model)(batch.inputs)
                let loss = loss(out, batch.labels)
                value = loss.item()
                lossSum = value * Double(n)
                let (scores, truth) = Trainer.positions(out, batch.labels)
                if sequence && out.rank == 3 { predictions = truth.shape[0] }
                correct = withNoGrad { Int((scores.argmax(dim: 1) .== truth).to(.int64).sum().item()) }
                l = loss
            }
            var samples = n
            if let ddp = distributed {
                // one small reduction per step: the batch's loss and counts, whether any process
                // saw a non-finite loss or was asked to stop — so that all decide alike
                let summed = try ddp.processGroup.allReduce([lossSum, value.isFinite ? 0 : 1, Double(correct), Double(predictions), Double(n),
                                                             i + 1 < batches && shouldStop() ? 1 : 0])
                (lossSum, correct, predictions, samples) = (summed[0], Int(summed[2]), Int(summed[3]), Int(summed[4]))
                value = summed[1] > 0 ? .nan : lossSum / Double(Swift.max(samples, 1))
                stop = summed[5] > 0
                ddp.gradientScale = Double(n) / Double(Swift.max(samples, 1))
            }
            steps += 1
            guard value.isFinite else {
                throw TrainingError(message: "the loss became \(value) at step \(steps) (epoch batch \(i + 1) of \(batches)); stopping. Lower the learning rate or check the data")
            }
            if let l { l.backward() } else { try distributed?.synchronizeWithoutBackward() }
            optimizer.step()
            p.lossSum += lossSum
            p.seen += samples
            if sequence && predictions > 0 { p.predictions = (p.predictions ?? 0) + predictions }
            p.correct += correct
            p.batchesDone = i + 1
            onBatch?(i + 1, batches, p.meanLoss)
            if i + 1 < batches && (distributed == nil ? shouldStop() : stop) { return (p, false) }
        }
        scheduler?.step()
        return (p, true)
    }

    /// Sets the step counter (when a run resumes from a checkpoint).
    public func restoreSteps(_ n: Int) { steps = n }

    /// Loss, accuracy and confusion matrix in evaluation mode, without gradients. In
    /// data-parallel training each process evaluates its own contiguous part of `data`
    /// (`DistributedSampler.part`) and the sums are combined: every process returns the numbers
    /// of the whole set.
    public func evaluate(_ data: TensorDataset, batchSize: Int = 256, classes: Int? = nil) -> Evaluation {
        model.eval()
        defer { model.train() }
        let k = classes ?? Swift.max(data.classNames.count, 1)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var lossSum = 0.0, correct = 0, predictions = 0
        var part = data
        if let group = distributed?.processGroup {
            // every process evaluates the model rank 0 writes: its buffers (running statistics)
            do { try withNoGrad { for (_, b) in model.namedBuffers() { try group.broadcast(b, root: 0) } } }
            catch { fail("evaluate: broadcasting rank 0's buffers failed: \(error)") }
            let rows = DistributedSampler.part(count: data.count, rank: group.rank, worldSize: group.worldSize)
            part = data.subset(Array(rows))
        }
        withNoGrad {
            for batch in DataLoader(part, batchSize: batchSize) where batch.labels.shape[0] > 0 {
                let out = model(batch.inputs)
                lossSum += loss(out, batch.labels).item() * Double(batch.labels.shape[0])
                let (pred, truth) = Trainer.predictions(out, batch.labels)
                predictions += truth.count
                for (p, t) in zip(pred, truth) {
                    if p == t { correct += 1 }
                    if Int(t) < k && Int(p) < k { confusion[Int(t)][Int(p)] += 1 }
                }
            }
        }
        if let group = distributed?.processGroup {
            // (MPI's default error handler ends the whole job before a failed reduction returns)
            let summed: [Double]
            do { summed = try group.allReduce([lossSum, Double(correct), Double(predictions)] + confusion.flatMap { $0.map(Double.init) }) }
            catch { fail("evaluate: combining the processes' sums failed: \(error)") }
            (lossSum, correct, predictions) = (summed[0], Int(summed[1]), Int(summed[2]))
            confusion = (0..<k).map { r in (0..<k).map { Int(summed[3 + r * k + $0]) } }
        }
        return Evaluation(loss: lossSum / Double(Swift.max(data.count, 1)), accuracy: Double(correct) / Double(Swift.max(predictions, 1)),
                          count: data.count, confusion: confusion)
    }
}

/// Writes the history as CSV: epoch, train_loss, train_accuracy, val_loss, val_accuracy, learning_rate, seconds.
public func historyCSV(_ history: [EpochRecord]) -> String {
    var lines = ["epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds"]
    for r in history {
        let v = { (x: Double?) in x.map { String(format: "%.6f", $0) } ?? "" }
        lines.append("\(r.epoch),\(String(format: "%.6f", r.trainLoss)),\(String(format: "%.6f", r.trainAccuracy)),\(v(r.valLoss)),\(v(r.valAccuracy)),\(r.learningRate),\(String(format: "%.3f", r.seconds))")
    }
    return lines.joined(separator: "\n") + "\n"
}

/// Writes text to a file atomically (temporary file, then rename).
public func writeAtomically(_ text: String, to path: String) throws {
    do { try writeFileAtomically(Data(text.utf8), to: path) }
    catch let e as FileWriteError { throw TrainingError(message: e.message) }
}

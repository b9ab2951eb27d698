import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
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

    /// A trainer; the loss follows `outputKind(of:)`.
    public init(model: Module, optimizer: Optimizer, scheduler: LRScheduler? = nil) {
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
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
            let out = model(batch.inputs)
            let l = loss(out, batch.labels)
            let value = l.item()
            steps += 1
            guard value.isFinite else {
                throw TrainingError(message: "the loss became \(value) at step \(steps) (epoch batch \(i + 1) of \(batches)); stopping. Lower the learning rate or check the data")
            }
            l.backward()
            optimizer.step()
            let n = batch.labels.shape[0]
            p.lossSum += value * Double(n)
            p.seen += n
            let (scores, truth) = Trainer.positions(out, batch.labels)
            if batch.labels.rank == 2 && out.rank == 3 { p.predictions = (p.predictions ?? 0) + truth.shape[0] }
            p.correct += withNoGrad { Int((scores.argmax(dim: 1) .== truth).to(.int64).sum().item()) }
            p.batchesDone = i + 1
            onBatch?(i + 1, batches, p.meanLoss)
            if i + 1 < batches && shouldStop() { return (p, false) }
        }
        scheduler?.step()
        return (p, true)
    }

    /// Sets the step counter (when a run resumes from a checkpoint).
    public func restoreSteps(_ n: Int) { steps = n }

    /// Loss, accuracy and confusion matrix in evaluation mode, without gradients.
    public func evaluate(_ data: TensorDataset, batchSize: Int = 256, classes: Int? = nil) -> Evaluation {
        model.eval()
        defer { model.train() }
        let k = classes ?? Swift.max(data.classNames.count, 1)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var lossSum = 0.0, correct = 0, predictions = 0
        withNoGrad {
            for batch in DataLoader(data, batchSize: batchSize) {
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

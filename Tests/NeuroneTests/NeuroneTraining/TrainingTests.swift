import Foundation
import XCTest
@testable import Neurone
@testable import NeuroneDevice
@testable import NeuroneCPU
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneOptim
@testable import NeuroneIO
@testable import NeuroneData
@testable import NeuronePlots
@testable import NeuroneTraining
@testable import NeuroneExplain

final class TrainingTests: XCTestCase {
    func testEmbeddedDigits() throws {
        let d = DataSets.digits()
        XCTAssertEqual(d.train.count + d.test.count, 1797)
        XCTAssertEqual(d.test.count, 359)
        XCTAssertEqual(d.train.sampleShape, [1, 8, 8])
        XCTAssertEqual(d.classCount, 10)
        let all = Tensor.cat([d.train.labels, d.test.labels])
        XCTAssertEqual(all.oneHot(numClasses: 10).sum(dim: 0).toArray(as: Int.self), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        XCTAssertEqual(d.train.inputs.min().item(), 0)
        XCTAssertEqual(d.train.inputs.max().item(), 1)
        // the first image of the file is a 0 (the classic sklearn digits.images[0])
        let first = Tensor.cat([d.train.inputs, d.test.inputs]).reshape([1797, 64])
        XCTAssertTrue(first.sum(dim: 1).toArray(as: Float.self).contains(Float(294) / 16))
        XCTAssertThrowsError(try DataSets.load("imagenet")) { e in
            XCTAssertEqual("\(e)", "unknown data set 'imagenet'; known data sets: digits, mnist-5k, mnist, fashion-mnist, usps, xor, moons, circles, spirals, stars, patterns, x-centred, x-shifted, words, fortunes, or a path to a .csv file or a .txt file (text:PATH for any other UTF-8 file)")
        }
    }

    func testEmbeddedMNISTSample() throws {
        let d = try DataSets.load("mnist-5k")
        XCTAssertEqual([d.train.count, d.test.count], [4000, 1000])
        XCTAssertEqual(d.train.sampleShape, [1, 28, 28])
        let all = Tensor.cat([d.train.labels, d.test.labels])
        XCTAssertEqual(all.oneHot(numClasses: 10).sum(dim: 0).toArray(as: Int.self), [Int](repeating: 500, count: 10))
        XCTAssertEqual(d.train.inputs.max().item(), 1)
        // The sample's first row (a 0) has 51, 159, 253, 159, 50 from pixel 127 on.
        let first = Tensor.cat([d.train.inputs, d.test.inputs]).reshape([5000, 784])
        let ink = first.narrow(dim: 1, start: 127, length: 5).sum(dim: 1).toArray(as: Float.self)
        XCTAssertTrue(ink.contains { abs($0 - Float(51 + 159 + 253 + 159 + 50) / 255) < 1e-5 })
    }

    func testLoaderBatchesShuffleAndDropLast() {
        let d = TensorDataset(inputs: Tensor.arange(0, 10, dtype: .float32).reshape([10, 1]), labels: Tensor.arange(10))
        XCTAssertEqual(DataLoader(d, batchSize: 4).map { $0.labels.count }, [4, 4, 2])
        XCTAssertEqual(DataLoader(d, batchSize: 4, dropLast: true).map { $0.labels.count }, [4, 4])
        XCTAssertEqual(DataLoader(d, batchSize: 100).map { $0.labels.count }, [10])
        let a = DataLoader(d, batchSize: 3, shuffle: true, generator: Generator(seed: 1)).flatMap { $0.labels.toArray(as: Int.self) }
        let b = DataLoader(d, batchSize: 3, shuffle: true, generator: Generator(seed: 1)).flatMap { $0.labels.toArray(as: Int.self) }
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.sorted(), Array(0..<10))
        XCTAssertNotEqual(a, Array(0..<10))
        let (x, y) = d.split(fraction: 0.3, generator: Generator(seed: 2))
        XCTAssertEqual(x.count, 7)
        XCTAssertEqual(y.count, 3)
        XCTAssertEqual(Set(x.labels.toArray(as: Int.self) + y.labels.toArray(as: Int.self)).count, 10)
    }

    func trainDigits(seed: UInt64, epochs: Int) throws -> ([EpochRecord], Evaluation) {
        let data = DataSets.digits()
        let (model, _) = try NamedModels.make("digits-cnn", input: nil, generator: Generator(seed: seed))
        let trainer = Trainer(model: model, optimizer: Adam(model.parameters(), lr: 0.003))
        let loader = DataLoader(data.train, batchSize: 32, shuffle: true, generator: Generator(seed: seed))
        var history: [EpochRecord] = []
        for e in 1...epochs {
            let (l, a) = try trainer.trainEpoch(loader)
            history.append(EpochRecord(epoch: e, trainLoss: l, trainAccuracy: a, valLoss: nil, valAccuracy: nil, learningRate: 0.003, seconds: 0))
        }
        return (history, trainer.evaluate(data.test))
    }

    func testTrainingTheDigitsCNNIsAccurateAndReproducible() throws {
        let (h1, e1) = try trainDigits(seed: 0, epochs: 6)
        let (h2, e2) = try trainDigits(seed: 0, epochs: 6)
        XCTAssertEqual(h1.map { $0.trainLoss }, h2.map { $0.trainLoss }, "same seed, same numbers")
        XCTAssertEqual(e1.accuracy, e2.accuracy)
        XCTAssertGreaterThanOrEqual(e1.accuracy, 0.95)
        XCTAssertLessThan(h1.last!.trainLoss, h1.first!.trainLoss)
        XCTAssertEqual(e1.confusion.flatMap { $0 }.reduce(0, +), 359)
        let csv = historyCSV(h1)
        XCTAssertTrue(csv.hasPrefix("epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds\n1,"))
        let svg = learningCurvesSVG(h1)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("polyline") && svg.hasSuffix("</svg>\n"))
        let cm = confusionMatrixSVG(e1.confusion, classNames: DataSets.digits().train.classNames)
        XCTAssertTrue(cm.hasPrefix("<svg") && cm.hasSuffix("</svg>\n"))
        XCTAssertEqual(cm.components(separatedBy: "<rect ").count - 1, 1 + 100)
    }

    func testLossFollowsTheOutputLayer() {
        XCTAssertEqual(Trainer.outputKind(of: Sequential(Linear(2, 2))), .logits)
        XCTAssertEqual(Trainer.outputKind(of: Sequential(Linear(2, 2), LogSoftmax(dim: 1))), .logProbabilities)
        XCTAssertEqual(Trainer.outputKind(of: Sequential(Linear(2, 2), Softmax(dim: 1))), .probabilities)
        XCTAssertEqual(Trainer.outputKind(of: MnistCNN()), .logProbabilities)
    }

    func testNaNLossStopsWithTheStep() {
        let model = Sequential(Linear(2, 2))
        let trainer = Trainer(model: model, optimizer: SGD(model.parameters(), lr: 1e30))
        let d = TensorDataset(inputs: Tensor([1e20, -1e20, 3e20, 1e20] as [Float], shape: [2, 2]), labels: Tensor([0, 1]))
        XCTAssertThrowsError(try { for _ in 0..<5 { _ = try trainer.trainEpoch(DataLoader(d, batchSize: 1)) } }()) { e in
            XCTAssertTrue("\(e)".contains("at step"), "\(e)")
        }
    }
}

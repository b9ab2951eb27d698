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

/// Checkpoints and --resume: a run stopped anywhere and resumed ends bit for bit where an
/// uninterrupted run ends.
final class TrainingRunTests: XCTestCase {
    var dirs: [String] = []
    func tempDir(_ name: String) -> String {
        let d = NSTemporaryDirectory() + "neurone-run-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: d)
        dirs.append(d)
        return d
    }
    override func tearDown() { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }

    /// Dropout (the default generator), augmentation (the loader's stream), Adam's moments and a
    /// step schedule all have to come back exactly.
    var settings: TrainingSettings {
        var s = TrainingSettings()
        s.model = "flatten linear(24) relu dropout(0.3) linear(10)"
        s.epochs = 3
        s.batchSize = 64
        s.scheduler = "step:1:0.5"
        s.augment = "shift:1"
        s.seed = 11
        return s
    }

    func testResumeAfterAStopInMidEpochEqualsAnUninterruptedRun() throws {
        let straight = try TrainingRun(settings: settings, directory: tempDir("straight"))
        guard case .finished(let expected) = try straight.run() else { return XCTFail("not finished") }

        let dir = tempDir("stopped")
        var batches = 0
        let first = try TrainingRun(settings: settings, directory: dir)
        let outcome = try first.run(shouldStop: { batches += 1; return batches == 27 })
        guard case .interrupted(let epoch, let batch, let step) = outcome else { return XCTFail("not interrupted") }
        // 21 batches an epoch; asked after every batch but an epoch's last, and between epochs.
        XCTAssertEqual([epoch, batch, step], [2, 6, 27])
        for f in ["model.safetensors", "optimizer.safetensors", "training-state.json", "history.csv", "model.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + f), f)
        }
        let resumed = try TrainingRun.resume(from: dir)
        XCTAssertEqual(resumed.history.count, 1)
        XCTAssertEqual(resumed.optimizer.learningRates, [0.0005])
        guard case .finished(let test) = try resumed.run() else { return XCTFail("not finished") }
        XCTAssertEqual(test.loss, expected.loss)
        XCTAssertEqual(resumed.history.map { [$0.trainLoss, $0.trainAccuracy, $0.valLoss!, $0.learningRate] },
                       straight.history.map { [$0.trainLoss, $0.trainAccuracy, $0.valLoss!, $0.learningRate] })
        for ((n, a), (_, b)) in zip(straight.model.stateDict(), resumed.model.stateDict()) {
            XCTAssertTrue(a.toArray(as: Float.self) == b.toArray(as: Float.self), n)
        }
        // More epochs than the first run asked for continue the same way.
        let longer = try TrainingRun.resume(from: dir, epochs: 4)
        XCTAssertEqual(longer.settings.epochs, 4)
    }

    /// A writer killed at any point of writing a checkpoint leaves a directory that resumes to the
    /// step of its training-state.json, the old one before the commit and the new one after it.
    func testACheckpointKilledWhileBeingWrittenResumesToOneStep() throws {
        var s = settings
        s.epochs = 2
        let straight = try TrainingRun(settings: s, directory: tempDir("straight2"))
        _ = try straight.run()
        let old = tempDir("old"), new = tempDir("new")
        var m = 0, n = 0
        _ = try TrainingRun(settings: s, directory: old).run(shouldStop: { m += 1; return m == 21 })  // step 21 (after epoch 1)
        _ = try TrainingRun(settings: s, directory: new).run(shouldStop: { n += 1; return n == 27 })  // step 27
        let fm = FileManager.default
        func weights(_ path: String) throws -> [Float] { try Safetensors.read(path).0.sorted { $0.key < $1.key }.flatMap { $0.value.toArray(as: Float.self) } }
        // The stages of writing step 27 over step 21: (files under their .next names, whether the state is committed, files renamed)
        let stages: [(next: [String], committed: Bool, renamed: [String])] = [
            (["model.safetensors"], false, []),
            (["model.safetensors", "optimizer.safetensors"], false, []),
            (["model.safetensors", "optimizer.safetensors"], true, []),
            (["optimizer.safetensors"], true, ["model.safetensors"]),
        ]
        for (i, stage) in stages.enumerated() {
            let dir = tempDir("stage\(i)")
            try fm.copyItem(atPath: old, toPath: dir)
            for f in stage.next { try fm.copyItem(atPath: new + "/" + f, toPath: dir + "/" + f + ".next") }
            for f in stage.renamed { try fm.removeItem(atPath: dir + "/" + f); try fm.copyItem(atPath: new + "/" + f, toPath: dir + "/" + f) }
            if stage.committed { try fm.removeItem(atPath: dir + "/training-state.json"); try fm.copyItem(atPath: new + "/training-state.json", toPath: dir + "/training-state.json") }
            try "half".write(toFile: dir + "/.model.safetensors.next.tmp-99999", atomically: false, encoding: .utf8)
            let resumed = try TrainingRun.resume(from: dir)
            XCTAssertEqual(resumed.trainer.steps, stage.committed ? 27 : 21, "stage \(i)")
            let expected = try weights((stage.committed ? new : old) + "/model.safetensors")
            XCTAssertTrue(resumed.model.stateDict().sorted { $0.0 < $1.0 }.flatMap { $0.1.toArray(as: Float.self) } == expected, "stage \(i)")
            guard case .finished = try resumed.run() else { return XCTFail("stage \(i) not finished") }
            XCTAssertTrue(try weights(dir + "/model.safetensors") == weights(straight.directory + "/model.safetensors"), "stage \(i)")
            XCTAssertEqual(try fm.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".next") || $0.contains(".tmp-") }, [], "stage \(i)")
        }
    }

    func testBadCheckpointsAndSettingsNameTheProblem() throws {
        XCTAssertThrowsError(try TrainingRun.resume(from: "/nonexistent")) {
            XCTAssertEqual("\($0)", "--resume: /nonexistent/training-state.json not found; /nonexistent is not a checkpoint directory written by neurone train")
        }
        var s = settings
        s.epochs = 1
        let dir = tempDir("mixed")
        _ = try TrainingRun(settings: s, directory: dir).run()
        // A model file from another step (a run killed while writing its checkpoint).
        let run = try TrainingRun(settings: s, directory: dir)
        try run.model.save(to: dir + "/model.safetensors", metadata: ["steps": "3"])
        XCTAssertThrowsError(try TrainingRun.resume(from: dir, epochs: 2)) {
            XCTAssertEqual("\($0)", "--resume: training-state.json in \(dir) is at step 21, but no model.safetensors of that step was found (\(dir)/model.safetensors: step 3); the files were not written together by neurone train")
        }
        s.augment = "rotate:5"
        XCTAssertThrowsError(try TrainingRun(settings: s, directory: tempDir("bad"))) {
            XCTAssertEqual("\($0)", "invalid --augment item 'rotate:5'; valid: shift:N, crop:PADDING, flip (comma-separated, for image data sets; inputs here are [1, 8, 8])")
        }
        s.augment = "none"
        s.optimizer = "lbfgs"
        XCTAssertThrowsError(try TrainingRun(settings: s, directory: tempDir("bad"))) {
            XCTAssertEqual("\($0)", "unknown optimizer 'lbfgs'; valid: sgd, adam, adamw, rmsprop, adagrad, adadelta")
        }
        // Settings a DataLoader or a split would stop the program on, from arguments or from an
        // edited checkpoint, throw instead.
        s.optimizer = "adam"
        for (edit, message) in [({ (t: inout TrainingSettings) in t.batchSize = 0 }, "the batch size is 0; expected a positive number of samples"),
                                ({ (t: inout TrainingSettings) in t.valSplit = 1 }, "the validation fraction is 1.0; expected a fraction in [0, 1)"),
                                ({ (t: inout TrainingSettings) in t.valSplit = .nan }, "the validation fraction is nan; expected a fraction in [0, 1)")] {
            var t = s
            edit(&t)
            XCTAssertThrowsError(try TrainingRun(settings: t, directory: tempDir("bad"))) {
                XCTAssertEqual("\($0)", "invalid training settings: " + message)
            }
        }
        let edits = tempDir("edited")
        _ = try TrainingRun(settings: s, directory: edits).run()
        let statePath = edits + "/training-state.json"
        let state = try String(contentsOfFile: statePath, encoding: .utf8)
        let edited = state.replacingOccurrences(of: #""batchSize"\s*:\s*[0-9]+"#, with: "\"batchSize\":0", options: .regularExpression)
        XCTAssertNotEqual(edited, state, "training-state.json records the batch size")
        try edited.write(toFile: statePath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingRun.resume(from: edits, epochs: 2)) {
            XCTAssertTrue("\($0)".contains("the batch size is 0"), "\($0)")
        }
        // A batch size of Int.max (found by scripts/mutate_cli: ⌈n / batch⌉ overflowed) is one
        // batch of the whole set, as in PyTorch.
        try state.replacingOccurrences(of: #""batchSize"\s*:\s*[0-9]+"#, with: "\"batchSize\":9223372036854775807", options: .regularExpression)
            .write(toFile: statePath, atomically: true, encoding: .utf8)
        let huge = try TrainingRun.resume(from: edits, epochs: 2)
        XCTAssertEqual(huge.loader.count, 1)
        guard case .finished = try huge.run() else { return XCTFail("not finished") }
        XCTAssertEqual(DataLoader(huge.train, batchSize: .max, dropLast: true).count, 0)
        XCTAssertEqual(Array(DataLoader(huge.train, batchSize: .max, dropLast: true)).count, 0)
        XCTAssertEqual(Array(DataLoader(huge.train, batchSize: .max - 1)).map { $0.0.shape[0] }, [huge.train.count])
    }

    /// A model that reads token indices cannot train on float features: an error before training,
    /// not a failed check inside the embedding.
    func testAnEmbeddingModelOnFloatFeaturesIsRefused() throws {
        let csv = tempDir("tokens") + ".csv"
        try "a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n".write(toFile: csv, atomically: true, encoding: .utf8)
        dirs.append(csv)
        var s = TrainingSettings()
        s.dataset = csv
        s.model = "embedding(10,4) lstm(8) last linear(2)"
        s.epochs = 1
        XCTAssertThrowsError(try TrainingRun(settings: s, directory: tempDir("tokens-run"))) {
            XCTAssertEqual("\($0)", "the model 'embedding(10,4) lstm(8) last linear(2)' takes int64 inputs (an embedding reads token indices), but \(csv) holds float32 features; start the model with another layer, or give it a data set of tokens")
        }
        s.model = "lstm(8)"  // a 2-feature row is no sequence
        XCTAssertThrowsError(try TrainingRun(settings: s, directory: tempDir("tokens-run2")))
    }

    func testNaNStopsAndKeepsTheLastGoodCheckpoint() throws {
        var s = settings
        s.model = "flatten linear(10)"
        s.optimizer = "sgd"
        s.lr = 1e38
        s.momentum = 0.9
        s.scheduler = "none"
        s.augment = "none"
        let dir = tempDir("nan")
        XCTAssertThrowsError(try TrainingRun(settings: s, directory: dir).run()) {
            XCTAssertEqual("\($0)", "the loss became inf at step 2 (epoch batch 2 of 21); stopping. Lower the learning rate or check the data; no checkpoint was written (it fails in the first epoch)")
        }
        // After a good epoch, the failure points at its checkpoint, which stays.
        s.lr = 0.01
        s.epochs = 1
        let good = try TrainingRun(settings: s, directory: dir)
        _ = try good.run()
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/model.safetensors"))
        let resumed = try TrainingRun.resume(from: dir, epochs: 2)
        resumed.optimizer.learningRates = [1e38]
        XCTAssertThrowsError(try resumed.run()) {
            XCTAssertTrue("\($0)".hasSuffix("the last good checkpoint (epoch 1) is in \(dir)"), "\($0)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/model.safetensors")), before)
    }
}

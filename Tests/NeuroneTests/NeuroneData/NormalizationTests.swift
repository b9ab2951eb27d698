import Foundation
import XCTest
@testable import Neurone

/// `--normalize`: parsing, the statistics of `auto`, and its place in a run, its checkpoint and eval.
final class NormalizationTests: XCTestCase {
    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func testParseAndApply() throws {
        let n = try Normalization.parse("0.1307, 0.3081")
        XCTAssertEqual(n.mean, 0.1307)
        XCTAssertEqual(n.std, 0.3081)
        let y = n.apply(Tensor([0.1307, 0.4388] as [Float])).toArray(as: Float.self)
        XCTAssertEqual(y[0], 0, accuracy: 1e-6)
        XCTAssertEqual(y[1], 1, accuracy: 1e-6)
        XCTAssertEqual(try Normalization.parse(n.description), n)
        for bad in ["0.1", "a,b", "0.5,0", "0.5,-1", "nan,1", "1,inf", "1,2,3", ""] {
            XCTAssertTrue(message { _ = try Normalization.parse(bad) }.contains("--normalize"), bad)
        }
    }

    func testAutoIsTheTrainingSplitsMeanAndStd() throws {
        // values 0, 1, 2, 3: mean 1.5, population std √1.25
        let data = TensorDataset(inputs: Tensor([0, 1, 2, 3] as [Float], shape: [2, 2]), labels: Tensor([0, 1] as [Int64]))
        let n = try Normalization.fit(data, name: "four")
        XCTAssertEqual(n.mean, 1.5, accuracy: 1e-12)
        XCTAssertEqual(n.std, 1.25.squareRoot(), accuracy: 1e-12)
        let constant = TensorDataset(inputs: Tensor.ones([3, 2]), labels: Tensor([0, 1, 0] as [Int64]))
        XCTAssertTrue(message { _ = try Normalization.fit(constant, name: "ones") }.contains("standard deviation is 0"))
        let tokens = TensorDataset(inputs: Tensor([1, 2] as [Int64], shape: [1, 2]), labels: Tensor([0] as [Int64]))
        XCTAssertTrue(message { _ = try Normalization.fit(tokens, name: "words") }.contains("token indices"))
    }

    func testARunRecordsItsNormalisationAndEvalUsesIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("normalize-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var settings = TrainingSettings()
        settings.model = "flatten linear(10)"
        settings.epochs = 1
        settings.normalize = "auto"
        let run = try TrainingRun(settings: settings, directory: dir)
        let raw = try DataSets.load("digits", seed: 0)
        let n = try XCTUnwrap(run.normalization)
        XCTAssertEqual(n, try Normalization.fit(raw.train, name: "digits"))
        // the run trains and tests on normalised inputs
        XCTAssertEqual((run.data.test.inputs - n.apply(raw.test.inputs)).abs().max().item(), 0, accuracy: 1e-6)
        guard case .finished = try run.run() else { return XCTFail("the run did not finish") }
        let location = try CheckpointLocation(dir)
        // model.json's numbers (JSON text: equal to 1e-15)
        let recorded = try XCTUnwrap(try location.normalization(nil))
        XCTAssertEqual(recorded.mean, n.mean, accuracy: 1e-15)
        XCTAssertEqual(recorded.std, n.std, accuracy: 1e-15)
        XCTAssertNil(try location.normalization("none"))
        XCTAssertEqual(try location.normalization("1,2"), try Normalization(mean: 1, std: 2))
        XCTAssertTrue(message { _ = try location.normalization("auto") }.contains("needs the training data"))
        // a damaged record is reported as such
        let json = try XCTUnwrap(FileManager.default.contents(atPath: dir + "/model.json"))
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
        object["normalize"] = [0.5, 0]
        let bad = try JSONSerialization.data(withJSONObject: object)
        XCTAssertTrue(message { _ = try TrainingRun.readModelJSON(bad, path: "m.json") }.contains("m.json is corrupt: its \"normalize\""))
    }
}

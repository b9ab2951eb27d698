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

/// MNIST-style IDX files, raw and gzip-compressed, and what bad files get.
final class DataFileTests: XCTestCase {
    var tiny: String { Bundle.module.url(forResource: "tiny-mnist", withExtension: nil, subdirectory: "Reference")!.path }

    func testReadsRawAndGzippedIDXFiles() throws {
        let d = try DataSets.load("mnist", dataDir: tiny)
        XCTAssertEqual(d.train.inputs.shape, [3, 1, 28, 28])
        XCTAssertEqual(d.test.inputs.shape, [2, 1, 28, 28])
        XCTAssertEqual(d.train.labels.toArray(as: Int.self), [3, 0, 9])
        XCTAssertEqual(d.test.labels.toArray(as: Int.self), [1, 2])
        // pixel (image 1, index 5) = (1·7 + 5) mod 256 = 12, scaled by 1/255
        XCTAssertEqual(d.train.inputs.reshape([3, 784])[1, 5].item(), 12.0 / 255, accuracy: 1e-7)
    }

    func temp() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("neurone-idx-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: tiny) {
            try FileManager.default.copyItem(atPath: tiny + "/" + f, toPath: dir + "/" + f)
        }
        return dir
    }

    func expectError(_ dir: String, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try DataSets.load("mnist", dataDir: dir), file: file, line: line) { e in
            for f in fragments { XCTAssertTrue("\(e)".contains(f), "\"\(f)\" not in: \(e)", file: file, line: line) }
        }
    }

    func testBadFilesNameTheFileAndTheProblem() throws {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let labels = dir + "/train-labels-idx1-ubyte"
        let good = try Data(contentsOf: URL(fileURLWithPath: labels))

        var bytes = [UInt8](good); bytes[0] = 0x12
        try Data(bytes).write(to: URL(fileURLWithPath: labels))
        expectError(dir, [labels, "wrong magic number 0x12000801"])

        bytes = [UInt8](good); bytes.removeLast()
        try Data(bytes).write(to: URL(fileURLWithPath: labels))
        expectError(dir, [labels, "announces 3 = 3 values but the file holds 2"])

        bytes = [UInt8](good); bytes[bytes.count - 1] = 12
        try Data(bytes).write(to: URL(fileURLWithPath: labels))
        expectError(dir, [labels, "label 12 at index 2 is out of range 0...9"])

        bytes = [0, 0, 8, 1, 0, 0, 0, 2, 1, 1]
        try Data(bytes).write(to: URL(fileURLWithPath: labels))
        expectError(dir, ["holds 3 images but", "holds 2 labels"])

        try good.write(to: URL(fileURLWithPath: labels))
        let gz = dir + "/train-images-idx3-ubyte.gz"
        let compressed = try Data(contentsOf: URL(fileURLWithPath: gz))
        try compressed.prefix(compressed.count / 2).write(to: URL(fileURLWithPath: gz))
        expectError(dir, [gz, "cannot decompress"])

        try FileManager.default.removeItem(atPath: gz)
        expectError(dir, ["could not find train-images-idx3-ubyte[.gz]", "looked in \(dir)"])
    }
}

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

/// Safetensors read and written both ways with the Python library and PyTorch
/// (scripts/make_safetensors_reference.py).
final class SafetensorsTests: XCTestCase {
    func ref(_ name: String) throws -> String {
        try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Reference")).path
    }

    /// The tensors of neurone_written.safetensors (the Python script checks the same values).
    static func neuroneTensors() -> [(String, Tensor)] {
        [
            ("weights.f32", Tensor.arange(0, 6, dtype: .float32).reshape([2, 3]) * 0.5 - 1.0),
            ("weights.f64", Tensor([1.0 / 3, -2.5, 1e-300], dtype: .float64)),
            ("counts.i64", Tensor([1, -2, 3, 4_000_000_000] as [Int64], shape: [2, 2])),
            ("counts.i32", Tensor([7, -8, 9] as [Int32])),
            ("mask", Tensor([true, false, true, true])),
            ("scalar", Tensor(Float(2.5))),
            ("empty", Tensor.zeros([0, 3])),
        ]
    }

    func testReadsTheFileOfThePythonLibrary() throws {
        let (t, meta) = try Safetensors.read(ref("python_written"))
        XCTAssertEqual(meta, ["format": "pt", "note": "written by the Python safetensors library"])
        XCTAssertEqual(t["f32"]!.shape, [2, 2])
        XCTAssertEqual(t["f32"]!.floats, [1.5, -2.0, 3.25, 1e-8])
        XCTAssertEqual(t["f64"]!.doubles, [0.1, -1e300, 7.0])
        XCTAssertEqual(t["i64"]!.toArray(as: Int64.self), [-(1 << 40), 5])
        XCTAssertEqual(t["i32"]!.shape, [3, 1])
        XCTAssertEqual(t["i32"]!.toArray(as: Int32.self), [1, 2, -3])
        XCTAssertEqual(t["bool"]!.toArray(as: Bool.self), [false, true])
        XCTAssertEqual(t["scalar"]!.shape, [])
        XCTAssertEqual(t["scalar"]!.item(), 4)
    }

    func testWritesTheCommittedBytesThatPyTorchReads() throws {
        let data = try Safetensors.encode(Self.neuroneTensors(), metadata: ["format": "pt", "producer": "neurone"])
        let committed = try Data(contentsOf: URL(fileURLWithPath: ref("neurone_written")))
        if data != committed {
            // Leave the new bytes where a person can inspect them, copy them over the reference
            // and check them in PyTorch (scripts/make_safetensors_reference.py --verify).
            let actual = FileManager.default.temporaryDirectory.appendingPathComponent("neurone_written.safetensors")
            try data.write(to: actual)
            XCTFail("the encoder's bytes differ from Reference/neurone_written.safetensors; the new file is at \(actual.path)")
        }
        let (back, meta) = try Safetensors.decode(data)
        XCTAssertEqual(meta, ["format": "pt", "producer": "neurone"])
        for (name, t) in Self.neuroneTensors() {
            XCTAssertEqual(back[name]!.shape, t.shape, name)
            XCTAssertEqual(back[name]!.dtype, t.dtype, name)
            XCTAssertEqual(back[name]!.toArray(as: Double.self), t.toArray(as: Double.self), name)
        }
    }

    func testAPyTorchTrainedModelRunsTheSameInNeurone() throws {
        let (model, _) = try NamedModels.make("course-cnn", input: nil)
        let (t, _) = try Safetensors.read(ref("course_cnn_torch"))
        var state = t
        let input = state.removeValue(forKey: "input")!, expected = state.removeValue(forKey: "output")!
        try model.loadStateDict(state)
        model.eval()
        let y = withNoGrad { model(input) }
        XCTAssertLessThan((y - expected).abs().max().item(), 1e-6)
        // and back: Neurone's checkpoint holds the same tensors under the same names
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("neurone-st-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        try model.save(to: path)
        let (saved, _) = try Safetensors.read(path)
        XCTAssertEqual(Set(saved.keys), Set(state.keys))
        for (k, v) in state { XCTAssertEqual(saved[k]!.floats, v.floats, k) }
        let fresh = try NamedModels.make("course-cnn", input: nil).0
        try fresh.load(from: path)
        fresh.eval()
        XCTAssertEqual(withNoGrad { fresh(input) }.floats, y.floats)
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"], "no temporary file left behind")
    }

    /// The named model "attention" with PyTorch's weights (scripts/make_attention_reference.py):
    /// same state-dict names, same output, same input gradient.
    func testAttentionClassifierMatchesPyTorch() throws {
        let (model, _) = try NamedModels.make("attention", input: nil)
        var state = try Safetensors.read(ref("attention_torch")).tensors
        let input = state.removeValue(forKey: "input")!, expected = state.removeValue(forKey: "output")!
        let expectedGrad = state.removeValue(forKey: "input_grad")!
        XCTAssertEqual(Set(model.stateDict().map { $0.0 }), Set(state.keys))
        try model.loadStateDict(state)
        model.eval()
        let x = input.detach().requiringGrad()
        let y = model(x)
        XCTAssertLessThan((y - expected).abs().max().item(), 1e-5)
        (y * y).sum().backward()
        XCTAssertLessThan((x.grad! - expectedGrad).abs().max().item() / expectedGrad.abs().max().item(), 1e-5)
    }

    func testBadFilesGiveClearErrors() throws {
        func message(_ bytes: [UInt8]) -> String {
            do { _ = try Safetensors.decode(Data(bytes), source: "bad.safetensors"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message([1, 2, 3]), "safetensors: bad.safetensors: file too short (3 bytes) for the 8-byte header length")
        XCTAssertTrue(message([255, 0, 0, 0, 0, 0, 0, 0, 123]).contains("header length 255 exceeds the file size (9 bytes)"))
        let good = try Safetensors.encode([("w", Tensor([1.0, 2.0]))])
        XCTAssertTrue(message(Array(good.dropLast(4))).contains("tensor 'w' ends at byte 8 of the data but the data holds 4 bytes: the file is truncated"))
        var header = Array("{\"w\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}".utf8)
        while header.count % 8 != 0 { header.append(32) }
        let f16 = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header + [0, 0]
        XCTAssertTrue(message(f16).contains("tensor 'w' has dtype F16"))
        var h2 = Array("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}".utf8)
        while h2.count % 8 != 0 { h2.append(32) }
        let overlapping = withUnsafeBytes(of: UInt64(h2.count).littleEndian) { Array($0) } + h2 + [UInt8](repeating: 0, count: 8)
        XCTAssertTrue(message(overlapping).contains("tensor 'b' overlaps the tensor before it in the data (it starts at byte 4, before byte 8)"))
        XCTAssertThrowsError(try Safetensors.read("/nonexistent/model.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/model.safetensors"))
        }
        let lin = Linear(2, 3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("neurone-st2-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.appendingPathComponent("lin.safetensors").path
        try Safetensors.write([("weight", Tensor.zeros([4, 2]))], to: p)
        XCTAssertThrowsError(try lin.load(from: p)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains(p) && text.contains("missing keys: bias") && text.contains("weight: expected shape [3, 2], found [4, 2]"), text)
        }
    }
}

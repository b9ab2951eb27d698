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

/// The crashes a mutation fuzzer found (issue 24), each now a clean error naming the problem:
/// sizes from files and arguments are multiplied with overflow checks before anything is
/// allocated, and what a run reads back from a checkpoint is validated field by field.
final class HostileInputTests: XCTestCase {
    var dirs: [String] = []
    func tempDir(_ name: String) -> String {
        let d = NSTemporaryDirectory() + "neurone-hostile-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: d)
        dirs.append(d)
        return d
    }
    override func tearDown() { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }

    /// A safetensors file from its JSON header and body bytes.
    func safetensors(_ header: String, body: [UInt8] = []) -> Data {
        var n = UInt64(header.utf8.count).littleEndian
        var d = Data(bytes: &n, count: 8)
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: body)
        return d
    }

    func assertError(_ expression: @autoclosure () throws -> Any, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(text), "'\($0)' does not contain '\(text)'", file: file, line: line)
        }
    }

    func testSafetensorsSizesAreCheckedAndTheLayoutIsStrict() throws {
        // crash 1: element counts that overflow
        assertError(try Safetensors.decode(safetensors(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}}"#)),
                    contains: "tensor 'a' has a shape [4294967296, 4294967296, 4] whose size overflows")
        assertError(try Safetensors.decode(safetensors(#"{"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}"#)),
                    contains: "whose size overflows")
        // no elements, but strides that would overflow: refused before a tensor is made
        assertError(try Safetensors.decode(safetensors(#"{"a":{"dtype":"F32","shape":[0,4294967296,4294967296,4],"data_offsets":[0,0]}}"#)),
                    contains: "tensor 'a' has a shape [0, 4294967296, 4294967296, 4] whose size overflows")
        // as strict as the reference implementation
        var huge = UInt64(100_000_001).littleEndian
        assertError(try Safetensors.decode(Data(bytes: &huge, count: 8) + Data(count: 16)), contains: "above the format's limit of 100000000 bytes")
        let f = #"{"dtype":"F32","shape":[1],"data_offsets":"#
        assertError(try Safetensors.decode(safetensors(#"{"a":\#(f)[0,4]},"a":\#(f)[4,8]}}"#, body: [UInt8](repeating: 0, count: 8))),
                    contains: "the header names 'a' twice")
        assertError(try Safetensors.decode(safetensors(#"{"a":\#(f)[0,4]},"b":\#(f)[8,12]}}"#, body: [UInt8](repeating: 0, count: 12))),
                    contains: "a gap of 4 bytes before tensor 'b'")
        assertError(try Safetensors.decode(safetensors(#"{"a":\#(f)[0,4]}}"#, body: [UInt8](repeating: 0, count: 6))),
                    contains: "2 bytes after the last tensor")
        assertError(try Safetensors.decode(safetensors(#"{"a":\#(f)[0,4]},"b":\#(f)[2,6]}}"#, body: [UInt8](repeating: 0, count: 6))),
                    contains: "tensor 'b' overlaps the tensor before it")
        assertError(try Safetensors.decode(safetensors(#"{"a":\#(f)[4,0]}}"#, body: [UInt8](repeating: 0, count: 4))),
                    contains: "end before start")
        // a well-formed file still reads, empty tensors and metadata included
        let ok = try Safetensors.decode(safetensors(#"{"__metadata__":{"k":"v"},"a":\#(f)[0,4]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}"#,
                                                    body: [0, 0, 128, 63]))
        XCTAssertEqual(ok.tensors["a"]?.floats, [1])
        XCTAssertEqual(ok.tensors["e"]?.shape, [0])
        XCTAssertEqual(ok.metadata, ["k": "v"])
    }

    func testIDXAndCSVSizesAreChecked() throws {
        // crash 2: dimensions whose product overflows
        let idx: [UInt8] = [0, 0, 8, 3] + [UInt8](repeating: 0xff, count: 12)
        assertError(try IDX.parseUInt8(idx, source: "bad.idx", expectedRank: 3), contains: "bad.idx: the header announces 4294967295×4294967295×4294967295 values")
        let emptyIDX: [UInt8] = [0, 0, 8, 3] + [0, 0, 0, 0] + [UInt8](repeating: 0xff, count: 8)
        assertError(try IDX.parseUInt8(emptyIDX, source: "e.idx", expectedRank: 3), contains: "e.idx: the header announces 0×4294967295×4294967295 values")
        // crash 3: a label of Int.max is a class name, not an overflow
        let t = try CSVTable.parse("x,label\n1,0\n2,9223372036854775807\n", source: "big.csv")
        XCTAssertEqual(t.classNames, ["0", "9223372036854775807"])
        XCTAssertEqual(t.labels.toArray(as: Int64.self), [0, 1])
    }

    func testUSPSLabelsThatAreNoWholeNumberAreRefused() throws {
        // found by the fuzz target: Int(_:) of these labels trapped
        for label in ["1e300", "nan", "-inf", "2.5"] {
            assertError(try USPS.parse(Array("\(label) 1:0.5\n".utf8), source: "u"),
                        contains: "u, line 1: the label '\(label)' is not a whole number")
        }
        XCTAssertEqual(try USPS.parse(Array("3 1:0.5\n".utf8), source: "u").labels.toArray(as: Int64.self), [2])
    }

    func testPNGRejectsWhatTheSpecificationSaysADecoderMustReject() throws {
        let image = Image(width: 2, height: 2, channels: 1, pixels: [0, 64, 128, 255])
        let good = PNG.encode(image)
        XCTAssertEqual(try PNG.decode(good, source: "ok.png").pixels, image.pixels)
        // the chunks of the good file, to put back together with one changed
        var chunks: [(String, [UInt8])] = []
        var pos = 8
        while pos < good.count {
            let len = Int(PNG.readBE32(good, pos))
            chunks.append((String(decoding: good[(pos + 4)..<(pos + 8)], as: UTF8.self), Array(good[(pos + 8)..<(pos + 8 + len)])))
            pos += 12 + len
        }
        func file(_ edit: (inout [(String, [UInt8])]) -> Void) -> [UInt8] {
            var c = chunks
            edit(&c)
            return Array(good[0..<8]) + c.flatMap { PNG.chunk($0.0, $0.1) }
        }
        let iend = chunks.count - 1
        assertError(try PNG.decode(file { $0.insert(("ABCD", [1, 2]), at: iend) }, source: "a.png"), contains: "a.png: unknown critical chunk ABCD")
        XCTAssertNoThrow(try PNG.decode(file { $0.insert(("abCD", [1, 2]), at: iend) }, source: "b.png"), "an unknown ancillary chunk is skipped")
        assertError(try PNG.decode(file { $0[0].1[10] = 1 }, source: "c.png"), contains: "compression method 1; PNG defines only 0")
        assertError(try PNG.decode(file { $0[0].1[11] = 1 }, source: "d.png"), contains: "filter method 1; PNG defines only 0")
        assertError(try PNG.decode(file { $0.swapAt(0, 1) }, source: "e.png"), contains: "a PNG starts with IHDR")
        assertError(try PNG.decode(file { $0[iend].1 = [0] }, source: "f.png"), contains: "IEND has 1 bytes; expected none")
        // image data that inflates to more than the image holds stops at that size
        let bomb = CompressedFile.zlibCompress([UInt8](repeating: 0, count: 1 << 20))
        assertError(try PNG.decode(file { c in c.removeAll { $0.0 == "IDAT" }; c.insert(("IDAT", bomb), at: 1) }, source: "g.png"),
                    contains: "g.png: cannot decompress: the data decompresses to more than 6 bytes (the limit)")
        assertError(try CompressedFile.inflate(bomb, source: "bomb.z", limit: 100_000),
                    contains: "bomb.z: cannot decompress: the data decompresses to more than 100000 bytes (the limit)")
        XCTAssertEqual(try CompressedFile.inflate(bomb, source: "ok.z", limit: 1 << 20).count, 1 << 20)
    }

    func testPGMSizesAndPixelsAreChecked() throws {
        func pgm(_ s: String, _ tail: [UInt8] = []) -> [UInt8] { Array(s.utf8) + tail }
        // crash 5: width × height overflows
        assertError(try PGM.decode(pgm("P5 4294967296 4294967296 255\n", [1]), source: "a.pgm"), contains: "a.pgm: PGM size 4294967296×4294967296 is too large")
        // crash 6: a size far beyond the file is refused before anything is allocated
        assertError(try PGM.decode(pgm("P5 3037000499 3037000499 255\n", [1, 2]), source: "b.pgm"), contains: "PGM data truncated (2 of 9223372030926249001 bytes")
        assertError(try PGM.decode(pgm("P2 3037000499 3037000499 255\n1 2"), source: "c.pgm"), contains: "cannot fit in the")
        // crash 7: a pixel above the maximum value
        assertError(try PGM.decode(pgm("P5 2 1 100\n", [7, 101]), source: "d.pgm"), contains: "d.pgm: pixel 2 of 2 has the value 101, above the maximum value 100")
        assertError(try PGM.decode(pgm("P2 2 1 100\n7 101"), source: "e.pgm"), contains: "invalid at value 2 of 2")
        XCTAssertEqual(try PGM.decode(pgm("P5 2 1 100\n", [0, 100]), source: "f.pgm").pixels, [0, 255])
    }

    func testModelSpecSizesAreCheckedAndASummaryNeedsNoActivationMemory() throws {
        // crash 8: sizes whose product overflows
        assertError(try ModelSpec.parseShape("1x3037000500x3037000500"), contains: "size 3037000500 is larger than 2147483647")
        assertError(try ModelSpec.parseShape("65536x65536x65536"), contains: "holds 65536×65536×65536 elements per sample, more than the 1099511627776 (2^40)")
        assertError(try ModelSpec.build("conv(4611686018427387904,1)", input: [1, 28, 28]),
                    contains: "'out' must be a positive integer up to 2147483647, got '4611686018427387904'")
        assertError(try ModelSpec.build("flatten linear(2147483647)", input: [1, 1 << 20, 1 << 20]),
                    contains: "layer 2 'linear(2147483647)' (column 9): its weights would hold 2147483647×1099511627776 values, more than a tensor can index")
        assertError(try ModelSpec.build("flatten linear(2147483647)", input: [1, 30000, 30000]),
                    contains: "its weights would hold 2147483647×900000000 = 1932735282300000000 values (7.7 EB in float32), more than this machine's")
        assertError(try ModelSpec.build("conv(64,3) flatten linear(10)", input: [1, 99999, 99999]),
                    contains: "layer 3 'linear(10)' (column 20): its weights would hold 10×639961600576 = 6399616005760 values (26 TB in float32), more than this machine's")
        // crash 9: a summary runs on the meta device: a 1×99999×99999 input (40 GB of float32)
        // takes no memory, and the model's own tensors are left as they were
        let model = try ModelSpec.build("conv(4,3) relu maxpool(2) conv(2,3,padding=1)", input: [1, 99999, 99999])
        let before = model.parameters()
        let values = before.map { $0.floats }
        let s = model.summary(input: [1, 99999, 99999])
        XCTAssertEqual(s.layers.map { $0.outputShape }, [[4, 99997, 99997], [4, 99997, 99997], [4, 49998, 49998], [2, 49998, 49998]])
        XCTAssertEqual(s.layers[0].multiplications, 4 * 99997 * 99997 * 9)
        XCTAssertEqual(s.totalParams, 4 * 9 + 4 + 2 * 4 * 9 + 2)
        XCTAssertTrue(zip(before, model.parameters()).allSatisfy { $0 === $1 }, "the same parameter objects")
        XCTAssertEqual(model.parameters().map { $0.floats }, values)
        XCTAssertTrue(model.parameters().allSatisfy { $0.device == .default && $0.requiresGrad })
        // a frozen parameter stays frozen
        model.parameters()[0].requiresGrad = false
        _ = model.summary(input: [1, 8, 8])
        XCTAssertFalse(model.parameters()[0].requiresGrad)
        // found by the fuzz target: same padding with an even kernel pads on the host's default
        // device, which the meta pass mixed with its own
        let even = try ModelSpec.build("conv(8,4,padding=same) batchnorm relu avgpool(1) adaptiveavgpool(1) flatten linear(4)", input: [3, 16, 16])
        XCTAssertEqual(even.summary(input: [3, 16, 16]).layers.map { $0.outputShape }.first, [8, 16, 16])
        // found by the fuzz target (out of memory, Fuzz/crashes/model-spec): layernorm, batchnorm and
        // a per-channel prelu made their weights without weighing them first
        let limit = CheckedSize.allocationLimit
        CheckedSize.allocationLimit = 64 << 20
        defer { CheckedSize.allocationLimit = limit }
        assertError(try ModelSpec.build("gelu(approximate=tanh) flatten layernorm litmax", input: [318238284]),
                    contains: "layer 3 'layernorm' (column 32): its weights would hold 2×318238284 = 636476568 values (2.5 GB in float32), more than the limit of 67 MB")
        assertError(try ModelSpec.build("batchnorm", input: [8388608]), contains: "'batchnorm' (column 1): its weights would hold 4×8388608 = 33554432 values")
        assertError(try ModelSpec.build("prelu(per_channel=true)", input: [16777217, 1]), contains: "its weights would hold 16777217 values (67108868 bytes in float32), more than the limit of 67108864 bytes")
        XCTAssertEqual(try ModelSpec.build("layernorm batchnorm prelu(per_channel=true)", input: [4194304]).parameters().map(\.count).reduce(0, +),
                       5 * 4194304, "within the limit (64 MiB for batchnorm's four vectors): made")
        // an overflowing multiplication count saturates instead of trapping
        XCTAssertEqual(ModelSummary.multiplications(Conv2d(1, 2, kernelSize: [3]), input: [1, 3037000502, 3037000502], output: [2, 3037000500, 3037000500]), .max)
    }

    func testTrainingChecksTheModelAgainstTheDataAndTheResumedState() throws {
        var s = TrainingSettings()
        s.epochs = 1
        s.batchSize = 128
        // crash 4: fewer outputs than classes, or an output that is not [batch, classes]
        s.model = "flatten linear(4)"
        assertError(try TrainingRun(settings: s, directory: tempDir("out")),
                    contains: "the model 'flatten linear(4)' gives 4 scores per sample, but digits has 10 classes (labels 0…9)")
        s.model = "conv(10,3)"
        assertError(try TrainingRun(settings: s, directory: tempDir("out")),
                    contains: "the model 'conv(10,3)' gives outputs of shape 10×6×6 per sample, but training on digits needs one score per class: [10]")
        // settings that SGD or a loader would stop on
        s.model = "flatten linear(10)"
        for (edit, message) in [({ (t: inout TrainingSettings) in t.momentum = .nan }, "the momentum is nan"),
                                ({ (t: inout TrainingSettings) in t.momentum = -1 }, "the momentum is -1.0"),
                                ({ (t: inout TrainingSettings) in t.weightDecay = -1 }, "the weight decay is -1.0"),
                                ({ (t: inout TrainingSettings) in t.lr = 0 }, "the learning rate is 0.0")] {
            var t = s
            edit(&t)
            assertError(try TrainingRun(settings: t, directory: tempDir("bad")), contains: "invalid training settings: " + message)
        }
        // crash 10: a resumed state is validated field by field
        let dir = tempDir("resume")
        _ = try TrainingRun(settings: s, directory: dir).run()
        let statePath = dir + "/training-state.json"
        let state = try String(contentsOfFile: statePath, encoding: .utf8)
        for (pattern, replacement, message) in [
            (#""learningRates"\s*:\s*\[[^\]]*\]"#, #""learningRates":[0.001,0.002]"#, "the list of learning rates is [0.001, 0.002]; expected 1 rate, one per parameter group"),
            (#""learningRates"\s*:\s*\[[^\]]*\]"#, #""learningRates":[-1]"#, "a learning rate is -1.0; expected a finite number ≥ 0"),
            (#""batchesDone"\s*:\s*[0-9]+"#, #""batchesDone":9223372036854775807"#, "the position in the epoch is batch 9223372036854775807; expected 0…"),
            (#""seen"\s*:\s*[0-9]+"#, #""seen":-5"#, "the samples seen in the epoch is -5"),
            (#""weightDecay"\s*:\s*[0-9.e+-]+"#, #""weightDecay":-1"#, "the weight decay is -1.0"),
            (#""valSplit"\s*:\s*[0-9.e+-]+"#, #""valSplit":1"#, "the validation fraction is 1.0"),
            (#""steps"\s*:\s*[0-9]+"#, #""steps":-3"#, "the step count is -3"),
        ] {
            let edited = state.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
            XCTAssertNotEqual(edited, state, "training-state.json holds \(pattern)")
            try edited.write(toFile: statePath, atomically: true, encoding: .utf8)
            assertError(try TrainingRun.resume(from: dir, epochs: 2), contains: message)
        }
        try state.write(toFile: statePath, atomically: true, encoding: .utf8)
        XCTAssertEqual(try TrainingRun.resume(from: dir, epochs: 2).history.count, 1, "the untouched state resumes")
        // model.json, what eval and predict read: corrupt is reported as corrupt, field by field
        let recorded = try TrainingRun.readModelJSON(try Data(contentsOf: URL(fileURLWithPath: dir + "/model.json")), path: "m.json")
        XCTAssertEqual(recorded["model"] as? String, "flatten linear(10)")
        assertError(try TrainingRun.readModelJSON(Data("{\"model\": 5".utf8), path: "m.json"), contains: "m.json is corrupt: not a JSON object")
        assertError(try TrainingRun.readModelJSON(Data(#"{"model":"mlp","input":[1,0,8]}"#.utf8), path: "m.json"),
                    contains: #"m.json is corrupt: its "input" is"#)
        assertError(try TrainingRun.readModelJSON(Data(#"{"model":"mlp","seed":2.5}"#.utf8), path: "m.json"),
                    contains: #"m.json is corrupt: its "seed" is 2.5; expected a whole number ≥ 0"#)
        // what the training-state fuzz target calls: the checks that need no data set
        XCTAssertEqual(try TrainingRun.decodeState(Data(state.utf8), statePath: "s.json").steps, 11)
        assertError(try TrainingRun.decodeState(Data("{}".utf8), statePath: "s.json"), contains: "--resume: s.json is not a valid training state")
        assertError(try TrainingRun.decodeState(Data(state.replacingOccurrences(of: #""correct"\s*:\s*[0-9]+"#, with: #""correct":-1"#, options: .regularExpression).utf8), statePath: "s.json"),
                    contains: "--resume: s.json is corrupt: the correct predictions in the epoch is -1")
    }

    func testAnOutputDirectoryHasOneWriterAtATime() throws {
        let dir = tempDir("lock")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var first: DirectoryLock? = try DirectoryLock(dir, purpose: "training")
        assertError(try DirectoryLock(dir, purpose: "training"),
                    contains: "\(dir) is in use by another neurone process (pid \(getpid()), training) writing into it; wait for it to finish or choose another --out")
        var s = TrainingSettings()
        s.epochs = 1
        s.model = "flatten linear(10)"
        let run = try TrainingRun(settings: s, directory: dir)
        assertError(try run.run(), contains: "is in use by another neurone process")
        XCTAssertNotNil(first)
        first = nil   // the holder goes: the directory is free again
        guard case .finished = try run.run() else { return XCTFail("the run did not finish") }
        XCTAssertNotNil(try? DirectoryLock(dir, purpose: "training"), "the run released its lock")
    }
}

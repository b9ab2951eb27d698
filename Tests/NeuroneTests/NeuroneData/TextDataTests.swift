import Foundation
import XCTest
@testable import Neurone
@testable import NeuroneDevice
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneIO
@testable import NeuroneData
@testable import NeuroneTraining

/// Character-level text data: vocabulary, UTF-8 checks, language-model sequences, the text data
/// sets, training a language model, sampling, and what bad text gets.
final class TextDataTests: XCTestCase {
    var paths: [String] = []
    func temp(_ name: String) -> String {
        let p = NSTemporaryDirectory() + "neurone-text-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: p)
        paths.append(p)
        return p
    }
    override func tearDown() { for p in paths { try? FileManager.default.removeItem(atPath: p) } }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return String(describing: error) }
    }

    func testVocabularyIsTheTextsCharactersInCodePointOrderAndRoundTrips() throws {
        let text = "héllo\nwörld\n"
        let v = Vocabulary(of: text)
        XCTAssertEqual(v.characters.map { String($0) }, ["\n", "d", "h", "l", "o", "r", "w", "é", "ö"])
        let tokens = try v.encode(text, source: "t")
        XCTAssertEqual(tokens, [2, 7, 3, 3, 4, 0, 6, 8, 5, 3, 1, 0])
        XCTAssertEqual(try v.decode(tokens), text)
        XCTAssertTrue(message { _ = try v.decode([3, 9]) }.contains("token 1 is 9; the vocabulary has 9 characters (0…8)"))
        // a character outside the vocabulary: named with its line and column
        let m = message { _ = try v.encode("hllo\nwoxld", source: "data.txt") }
        XCTAssertTrue(m.contains("data.txt, line 2, column 3: the character 'x' (U+0078) is not in the vocabulary of 9 characters"), m)
        XCTAssertTrue(message { _ = try Vocabulary(characters: ["a", "b", "a"]) }.contains("'a' (U+0061) twice (tokens 0 and 2)"))
    }

    func testVocabularyFileRoundTripsAndCorruptOnesAreNamed() throws {
        let v = Vocabulary(of: "ab\nc\"\\ü")
        let path = temp("vocab.json")
        try v.json().write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try Vocabulary.read(path), v)
        for (bad, expected) in [("[1,2]", "expected a JSON object with a \"characters\" list"),
                                ("{\"characters\":[\"ab\"]}", "entry 0 of \"characters\" is ab; expected a string of one character"),
                                ("{\"characters\":[]}", "the vocabulary is empty"),
                                ("{\"characters\":[\"a\",\"a\"]}", "twice")] {
            try Data(bad.utf8).write(to: URL(fileURLWithPath: path))
            let m = message { _ = try Vocabulary.read(path) }
            XCTAssertTrue(m.contains("is corrupt") && m.contains(expected), m)
        }
        XCTAssertTrue(message { _ = try Vocabulary.read(path + ".none") }.contains("not found"))
    }

    func testUTF8IsCheckedAndTheFirstBadByteIsNamed() throws {
        XCTAssertEqual(try TextData.decode(Array("aé☃𝄞\n".utf8), source: "f"), "aé☃𝄞\n")
        let cases: [([UInt8], Int)] = [
            ([0x61, 0xFF], 1),                      // never a UTF-8 byte
            ([0x61, 0x0A, 0x62, 0xC3], 3),          // truncated two-byte character
            ([0xC0, 0x80], 0),                      // overlong
            ([0x61, 0xED, 0xA0, 0x80], 2),          // a UTF-16 surrogate
            ([0xF4, 0x90, 0x80, 0x80], 1),          // beyond U+10FFFF
            ([0xE2, 0x98, 0x41], 2),                // a continuation byte missing
            ([0x80], 0),                            // a lone continuation byte
        ]
        for (bytes, offset) in cases {
            XCTAssertEqual(TextData.firstInvalidUTF8(bytes), offset, "\(bytes)")
            let m = message { _ = try TextData.decode(bytes, source: "bad.txt") }
            XCTAssertTrue(m.contains("text file bad.txt is not UTF-8: byte \(offset) (line"), m)
        }
        XCTAssertTrue(message { _ = try TextData.decode([0x61, 0x0A, 0x0A, 0xFF], source: "b") }.contains("byte 3 (line 3) is 0xFF"))
        XCTAssertTrue(message { _ = try TextData.decode([], source: "empty.txt") }.contains("text file empty.txt is empty"))
        let path = temp("latin1.txt")
        try Data([0x63, 0x61, 0x66, 0xE9, 0x0A]).write(to: URL(fileURLWithPath: path))  // "café" in Latin-1
        XCTAssertTrue(message { _ = try TextData.read(path) }.contains("is not UTF-8: byte 3 (line 1) is 0xE9"))
        XCTAssertTrue(message { _ = try TextData.read(path + ".none") }.contains("not found"))
        XCTAssertTrue(message { _ = try TextData.read(NSTemporaryDirectory()) }.contains("is a directory"))
    }

    func testSequencesAreLabelledWithTheNextCharacters() throws {
        let v = Vocabulary(of: "abcdefghij")
        let tokens = try v.encode("abcdefghij", source: "t")  // 10 tokens: 3 sequences of 3 (the last label is 'j')
        let d = try TextData.sequences(tokens, length: 3, vocabulary: v, source: "t")
        XCTAssertEqual(d.inputs.shape, [3, 3])
        XCTAssertEqual(d.inputs.dtype, .int64)
        XCTAssertEqual(d.inputs.toArray(as: Int64.self), [0, 1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(d.labels.toArray(as: Int64.self), [1, 2, 3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(d.classNames.count, 10)
        XCTAssertEqual(try TextData.sequences(Array(tokens.prefix(9)), length: 3, vocabulary: v, source: "t").count, 2)
        let m = message { _ = try TextData.sequences(Array(tokens.prefix(3)), length: 3, vocabulary: v, source: "short.txt") }
        XCTAssertTrue(m.contains("short.txt holds 3 characters; sequences of 3 need at least 4"), m)
    }

    func testABatchOfSequencesOfDifferentLengthsIsRefused() throws {
        XCTAssertEqual(try TextData.batch([[1, 2], [3, 4]]).shape, [2, 2])
        let m = message { _ = try TextData.batch([[1, 2, 3], [4, 5, 6], [7, 8]]) }
        XCTAssertTrue(m.contains("sequence 2 of the batch has 2 tokens, but sequence 0 has 3"), m)
        XCTAssertTrue(message { _ = try TextData.batch([]) }.contains("at least one sequence"))
    }

    func testKnownTextsSayWhichPackageToInstallAndFortunesLoseTheirSeparators() throws {
        let missing = TextData.KnownText(name: "words", path: "/nonexistent/words", package: "wamerican")
        let m = message { _ = try TextData.text(of: missing) }
        XCTAssertTrue(m.contains("reads /nonexistent/words, which is not installed: apt-get install wamerican"), m)
        // a directory of fortune files: .dat indexes and .u8 links are skipped, % lines become empty
        let dir = temp("fortunes")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "one\n%\ntwo\nlines\n%\n".write(toFile: dir + "/b", atomically: true, encoding: .utf8)
        try "zero\n%\n".write(toFile: dir + "/a", atomically: true, encoding: .utf8)
        try Data([0, 1, 2, 0xFF]).write(to: URL(fileURLWithPath: dir + "/a.dat"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/a.u8", withDestinationPath: "a")
        let (text, source) = try TextData.text(of: TextData.KnownText(name: "fortunes", path: dir, package: "fortunes"))
        XCTAssertEqual(source, dir)
        XCTAssertEqual(text, "zero\n\n\none\n\ntwo\nlines\n\n")
        // --data-dir holding a file of the data set's name comes first
        try "abc\n".write(toFile: dir + "/words", atomically: true, encoding: .utf8)
        XCTAssertEqual(try TextData.text(of: missing, directory: dir).text, "abc\n")
    }

    /// A small word list written to a temporary .txt file.
    func wordFile(_ name: String, words: Int = 400) throws -> String {
        let g = Generator(seed: 5)
        let syllables = ["ba", "ko", "ri", "ten", "sa", "mu", "lo", "ve", "dan", "pi"]
        var lines: [String] = []
        for _ in 0..<words {
            lines.append((0..<(1 + Int(g.nextInt(below: 3)))).map { _ in syllables[Int(g.nextInt(below: 10))] }.joined())
        }
        let path = temp(name) + ".txt"
        paths.append(path)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testTextDataSetLoadsWithItsOwnOrAGivenVocabulary() throws {
        let path = try wordFile("load")
        let d = try DataSets.load(path, seed: 3, sequenceLength: 8)
        let v = try XCTUnwrap(d.vocabulary)
        XCTAssertEqual(v.characters.map { String($0) }.joined(), "\nabdeiklmnoprstuv")
        XCTAssertEqual(d.train.sampleShape, [8])
        XCTAssertEqual(d.train.count + d.test.count, (try String(contentsOfFile: path).unicodeScalars.count - 1) / 8)
        XCTAssertEqual(d.test.count, Int((Double(d.train.count + d.test.count) * 0.1).rounded()))
        XCTAssertEqual(try DataSets.load("text:" + path, seed: 3, sequenceLength: 8).train.inputs.toArray(as: Int64.self),
                       d.train.inputs.toArray(as: Int64.self))
        // a wider vocabulary (a checkpoint's) codes the same text with its own indices
        let wider = try Vocabulary(characters: ["\n", "Z"] + v.characters.dropFirst())
        let coded = try DataSets.load(path, seed: 3, sequenceLength: 8, vocabulary: wider)
        XCTAssertEqual(coded.train.inputs.toArray(as: Int64.self), d.train.inputs.toArray(as: Int64.self).map { $0 == 0 ? 0 : $0 + 1 })
        // a narrower one cannot read the text
        let narrower = try Vocabulary(characters: v.characters.filter { $0 != "v" })
        let m = message { _ = try DataSets.load(path, sequenceLength: 8, vocabulary: narrower) }
        XCTAssertTrue(m.contains("the character 'v' (U+0076) is not in the vocabulary of 16 characters"), m)
    }

    func testTheLossOfASequenceModelIsTheMeanOverEveryPosition() {
        let model = Sequential(Embedding(5, 3, generator: Generator(seed: 1)), Linear(3, 5, generator: Generator(seed: 2)))
        let trainer = Trainer(model: model, optimizer: SGD(model.parameters(), lr: 0.1))
        let x = Tensor([Int64(0), 1, 2, 3, 4, 0], shape: [2, 3]), y = Tensor([Int64(1), 2, 3, 4, 0, 1], shape: [2, 3])
        let out = model(x)
        let manual = Loss.crossEntropy(out.reshape([6, 5]), y.reshape([6])).item()
        XCTAssertEqual(trainer.loss(out, y).item(), manual, accuracy: 1e-6)
        var byHand = 0.0
        let scores = out.to(.float64).toArray(as: Double.self), labels = y.toArray(as: Int64.self)
        for p in 0..<6 {
            let row = scores[(p * 5)..<(p * 5 + 5)], top = row.max()!
            byHand += (top + log(row.map { exp($0 - top) }.reduce(0, +))) - row[p * 5 + Int(labels[p])]
        }
        XCTAssertEqual(manual, byHand / 6, accuracy: 1e-5)
    }

    func testACausalEncoderDoesNotLookAhead() throws {
        let (model, _) = try NamedModels.make("char-transformer", input: [12], classes: 9, generator: Generator(seed: 4))
        model.eval()
        var tokens: [Int64] = [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3]
        let a = withNoGrad { model(Tensor(tokens, shape: [1, 12])) }.toArray(as: Float.self)
        tokens[7] = 0  // change position 7: positions 0…6 must not change, position 7 must
        let b = withNoGrad { model(Tensor(tokens, shape: [1, 12])) }.toArray(as: Float.self)
        XCTAssertEqual(Array(a[..<(7 * 9)]), Array(b[..<(7 * 9)]))
        XCTAssertNotEqual(Array(a[(7 * 9)..<(8 * 9)]), Array(b[(7 * 9)..<(8 * 9)]))
        // without causal=true the first position sees the change
        let open = try ModelSpec.build("embedding(9,16) posenc encoder(4,ff=32,dropout=0) linear(9)", input: [12], generator: Generator(seed: 4))
        open.eval()
        var t2: [Int64] = [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3]
        let c = withNoGrad { open(Tensor(t2, shape: [1, 12])) }.toArray(as: Float.self)
        t2[7] = 0
        let d = withNoGrad { open(Tensor(t2, shape: [1, 12])) }.toArray(as: Float.self)
        XCTAssertNotEqual(Array(c[..<9]), Array(d[..<9]))
    }

    func testALanguageModelTrainsResumesEvaluatesAndSamples() throws {
        let path = try wordFile("train", words: 600)
        var s = TrainingSettings()
        s.model = "embedding(17,8) lstm(32) linear(17)"
        s.dataset = path
        s.sequenceLength = 10
        s.epochs = 4
        s.batchSize = 16
        s.lr = 0.02
        s.seed = 2
        let dir = temp("lm")
        let run = try TrainingRun(settings: s, directory: dir)
        guard case .finished(let test) = try run.run() else { return XCTFail("not finished") }
        // from ln 17 ≈ 2.83 nats per character at the start to well below it
        XCTAssertLessThan(run.history.last!.trainLoss, run.history.first!.trainLoss)
        XCTAssertLessThan(test.loss, 2.0)
        XCTAssertGreaterThan(test.accuracy, 0.3)
        XCTAssertEqual(test.count, run.data.test.count)
        let vocabulary = try TrainingRun.readVocabulary(dir)
        XCTAssertEqual(vocabulary, run.data.vocabulary)
        let recorded = try TrainingRun.readModelJSON(try Data(contentsOf: URL(fileURLWithPath: dir + "/model.json")), path: "model.json")
        XCTAssertEqual(recorded["sequence_length"] as? Int, 10)

        // sampling: seeded, only the vocabulary's characters, no line breaks inside a sample
        let sampler = TextSampler(model: run.model, vocabulary: vocabulary, context: 10)
        let a = try sampler.sample(count: 8, temperature: 0.8, generator: Generator(seed: 1))
        let b = try sampler.sample(count: 8, temperature: 0.8, generator: Generator(seed: 1))
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.count, 8)
        XCTAssertTrue(a.allSatisfy { !$0.contains("\n") && $0.unicodeScalars.allSatisfy { vocabulary.token($0) != nil } })
        XCTAssertGreaterThan(Set(a).count, 1)
        // temperature 0 is greedy: every sample the same
        XCTAssertEqual(Set(try sampler.sample(count: 4, temperature: 0, generator: Generator(seed: 9))).count, 1)
        XCTAssertTrue(try sampler.sample(count: 2, temperature: 1, prefix: "ko", maxLength: 5, generator: Generator(seed: 1)).allSatisfy { $0.hasPrefix("ko") && $0.count <= 7 })
        XCTAssertTrue(message { _ = try sampler.sample(count: 1, temperature: 1, prefix: "kX", generator: Generator(seed: 1)) }.contains("the prefix, line 1, column 2: the character 'X'"))

        // models that are not language models of this vocabulary are refused, naming why
        for (spec, expected) in [("embedding(17,4) lstm(8) last linear(17)", "gives outputs of shape [2, 17] for 2 sequences of 1 characters"),
                                 ("embedding(5,4) lstm(8) linear(17)", "the model's embedding has 5 rows, but the vocabulary has 17 characters")] {
            let other = TextSampler(model: try ModelSpec.build(spec, input: [10]), vocabulary: vocabulary, context: 10)
            let m = message { _ = try other.sample(count: 2, temperature: 1, generator: Generator(seed: 1)) }
            XCTAssertTrue(m.contains(expected), m)
        }
        XCTAssertTrue(run.model.isTraining, "sampling gives the model back in the mode it had")

        // resume: a longer run goes on from the checkpoint with the saved vocabulary
        let more = try TrainingRun.resume(from: dir, epochs: 5)
        XCTAssertEqual(more.history.count, 4)
        guard case .finished = try more.run() else { return XCTFail("not finished") }
        XCTAssertEqual(more.history.count, 5)
        // the text changed under the checkpoint: a character the model never saw is named
        try (String(contentsOfFile: path) + "Quux\n").write(toFile: path, atomically: true, encoding: .utf8)
        let m = message { _ = try TrainingRun.resume(from: dir, epochs: 6) }
        XCTAssertTrue(m.contains("the character 'Q' (U+0051) is not in the vocabulary of 17 characters"), m)
        try FileManager.default.removeItem(atPath: dir + "/vocabulary.json")
        XCTAssertTrue(message { _ = try TrainingRun.resume(from: dir, epochs: 6) }.contains("vocabulary.json not found"))
    }

    func testModelsThatDoNotFitATextDataSetAreRefusedWithTheFix() throws {
        let path = try wordFile("misfit")
        var s = TrainingSettings()
        s.dataset = path
        s.sequenceLength = 8
        for (model, expected) in [
            ("embedding(4,8) lstm(16) linear(17)", "starts with an embedding of 4 rows, but \(path) has a vocabulary of 17 characters (tokens 0…16): use embedding(17,DIM)"),
            ("embedding(17,8) lstm(16) last linear(17)", "needs scores for the next character at each of the 8 positions: 8×17 (keep the sequence"),
            ("embedding(17,8) lstm(16) linear(5)", "gives 5 scores per position, but \(path) has 17 characters in its vocabulary"),
        ] {
            s.model = model
            let m = message { _ = try TrainingRun(settings: s, directory: temp("misfit-run")) }
            XCTAssertTrue(m.contains(expected), "\(model): \(m)")
        }
        s.model = "char-lstm"  // a named language model takes the data's vocabulary
        XCTAssertEqual((try TrainingRun(settings: s, directory: temp("named-run")).model as? Sequential)?.layers.first.map { ($0 as! Embedding).numEmbeddings }, 17)
    }

    func testACorruptPredictionCountInAResumedStateIsNamed() throws {
        let path = try wordFile("state")
        var s = TrainingSettings()
        s.model = "embedding(17,4) rnn(8) linear(17)"
        s.dataset = path
        s.sequenceLength = 8
        s.epochs = 2
        let dir = temp("state-run")
        let run = try TrainingRun(settings: s, directory: dir)
        var batches = 0
        guard case .interrupted = try run.run(shouldStop: { batches += 1; return batches == 3 }) else { return XCTFail("not interrupted") }
        let statePath = dir + "/training-state.json"
        let text = try String(contentsOfFile: statePath)
        XCTAssertTrue(text.contains("\"predictions\" : 768"), text)  // 3 batches × 32 samples × 8 positions
        try text.replacingOccurrences(of: "\"predictions\" : 768", with: "\"predictions\" : 700").write(toFile: statePath, atomically: true, encoding: .utf8)
        let m = message { _ = try TrainingRun.resume(from: dir) }
        XCTAssertTrue(m.contains("the predictions made in the epoch is 700; expected 768 (96 samples × 8 positions)"), m)
    }
}

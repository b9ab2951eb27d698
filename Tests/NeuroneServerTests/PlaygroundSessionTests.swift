import XCTest
import Foundation
@testable import NeuronePlayground

final class PlaygroundDataTests: XCTestCase {
    func testTheSameSeedGivesTheSamePointsAndTheSplitFollowsTheRatio() {
        var s = PlaygroundSettings()
        s.points = 200; s.trainRatio = 70
        let a = PlaygroundData(s), b = PlaygroundData(s)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.train.count, 140); XCTAssertEqual(a.test.count, 60)
        XCTAssertEqual(Set((a.train + a.test).map { $0.index! }), Set(0..<200), "every point is in one set")
        s.seed = 2
        XCTAssertNotEqual(PlaygroundData(s), a)
    }

    func testEachSetHasTheLabelsItsNameSays() {
        for name in PlaygroundSettings.datasets {
            var s = PlaygroundSettings()
            s.dataset = name
            let d = PlaygroundData(s), all = d.train + d.test
            XCTAssertEqual(all.count, 500, name)
            XCTAssertTrue(all.allSatisfy { abs($0.x1) <= 6 && abs($0.x2) <= 6 }, name)
            for p in all {
                switch name {
                case "circles": XCTAssertEqual(p.label, (p.x1 * p.x1 + p.x2 * p.x2).squareRoot() <= 2.5 ? 1 : 0, name)
                case "xor": XCTAssertEqual(p.label, p.x1 * p.x2 > 0 ? 1 : 0, name)
                case "stars": XCTAssertEqual(p.label, abs(p.x1) < 2.5 && abs(p.x2) < 2.5 ? 1 : 0, name)
                case "plane": XCTAssertEqual(p.label, (p.x1 + p.x2) / 10, accuracy: 1e-12, name)
                case "bumps": XCTAssertTrue(abs(p.label) <= 1, name)
                default: XCTAssertTrue(p.label == 0 || p.label == 1, name)
                }
            }
            if ["circles", "gaussian", "spirals", "moons"].contains(name) {
                XCTAssertEqual(all.filter { $0.label == 1 }.count, 250, "\(name): half the points in each class")
            }
        }
    }

    func testClicksAddTrainingPointsAndRemoveGeneratedOnes() {
        var s = PlaygroundSettings()
        s.points = 100
        let before = PlaygroundData(s)
        let gone = before.test[0].index!
        s.removed = [gone]
        s.added = [.init(x1: 1, x2: 2, label: 1)]
        let after = PlaygroundData(s)
        XCTAssertEqual(after.test.count, before.test.count - 1)
        XCTAssertFalse(after.test.contains { $0.index == gone })
        XCTAssertEqual(after.train.count, before.train.count + 1)
        XCTAssertEqual(after.train.last, .init(x1: 1, x2: 2, label: 1, index: nil))
    }

    func testFeatures() {
        let f = PlaygroundData.features(PlaygroundSettings.featureNames, [(2, -0.5)])
        let expected: [Double] = [2, -0.5, 4, 0.25, -1, sin(2), sin(-0.5)]
        for (a, b) in zip(f, expected) { XCTAssertEqual(Double(a), b, accuracy: 1e-6) }
    }
}

final class PlaygroundSessionTests: XCTestCase {
    func testTheSameSettingsGiveTheSameRunFrameForFrame() throws {
        var s = PlaygroundSettings()
        s.dataset = "xor"; s.hidden = [5, 3]; s.optimizer = "adam"; s.learningRate = 0.01; s.regularization = "l2"; s.regularizationRate = 0.001
        let a = try PlaygroundSession(s), b = try PlaygroundSession(s)
        for _ in 0..<4 {
            a.trainEpoch(); b.trainEpoch()
            XCTAssertEqual(ServerMessage.frame(a.frame()), ServerMessage.frame(b.frame()))
        }
        s.seed = 9
        let c = try PlaygroundSession(s)
        for _ in 0..<4 { c.trainEpoch() }
        XCTAssertNotEqual(ServerMessage.frame(a.frame()), ServerMessage.frame(c.frame()))
    }

    func testTrainingLearnsCirclesAndTheBoundaryShowsIt() throws {
        var s = PlaygroundSettings()
        s.features = ["x1^2", "x2^2"]; s.hidden = [2]; s.learningRate = 0.1
        let session = try PlaygroundSession(s)
        let first = session.testLosses[0]
        for _ in 0..<30 { session.trainEpoch() }
        XCTAssertEqual(session.epoch, 30)
        XCTAssertEqual(session.trainLosses.count, 31)
        XCTAssertLessThan(session.testLosses.last!, 0.1, "from \(first)")
        let f = session.frame()
        let side = PlaygroundLimits.gridSide
        XCTAssertEqual(f.output.count, side * side)
        // the centre is class 1 (inner disc, blue, +1), a corner class 0 (orange, −1)
        XCTAssertGreaterThan(f.output[(side / 2) * side + side / 2], 0.8)
        XCTAssertLessThan(f.output[0], -0.8)
        XCTAssertEqual(f.neuronMaps.count, 1); XCTAssertEqual(f.neuronMaps[0].count, 2)
        XCTAssertEqual(f.neuronMaps[0][0].count, PlaygroundLimits.neuronGridSide * PlaygroundLimits.neuronGridSide)
        XCTAssertEqual(f.neuronScales[0][0], f.neuronMaps[0][0].map(abs).max()!)
        XCTAssertEqual(f.weights.map { $0.count }, [2, 1]); XCTAssertEqual(f.weights[0][0].count, 2)
        XCTAssertEqual(session.widths, [2, 2, 1])
    }

    func testRegressionOutputIsThePredictionClamped() throws {
        var s = PlaygroundSettings()
        s.dataset = "plane"; s.hidden = []; s.activation = "linear"; s.learningRate = 0.01
        let session = try PlaygroundSession(s)
        for _ in 0..<40 { session.trainEpoch() }
        XCTAssertLessThan(session.testLosses.last!, 1e-3)
        let f = session.frame(), side = PlaygroundLimits.gridSide
        // (x1 + x2)/10 at the middle row's right end (x1 = 5.9, x2 = −0.09); 1 (clamped) at the top-right corner (5.9, 5.9)
        let x1 = PlaygroundSession.gridCoordinate(side - 1, side), x2 = PlaygroundSession.gridCoordinate(side - 1 - side / 2, side)
        XCTAssertEqual(Double(f.output[(side / 2) * side + side - 1]), (x1 + x2) / 10, accuracy: 0.03)
        XCTAssertEqual(f.output[side - 1], 1)
        XCTAssertTrue(f.neuronMaps.isEmpty)
    }

    func testSpecNetworksAndTheirLimits() throws {
        var s = PlaygroundSettings()
        s.spec = "linear(16) relu dropout(0.1) linear(8) tanh linear(1)"
        let session = try PlaygroundSession(s)
        XCTAssertEqual(session.widths, [2, 16, 8, 1])
        session.trainEpoch()
        let f = session.frame()
        XCTAssertEqual(f.neuronMaps.map { $0.count }, [16, 8])
        func refused(_ spec: String) -> String {
            var t = PlaygroundSettings(); t.spec = spec
            do { _ = try PlaygroundSession(t); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(refused("linear(33) relu linear(1)"),
                       "settings.spec: layer 1 'linear(33)': the playground takes linear layers of at most 32 neurons, found 33")
        XCTAssertEqual(refused(Array(repeating: "linear(2)", count: 9).joined(separator: " ")),
                       "settings.spec: the playground takes at most 8 linear layers, found 9")
        XCTAssertEqual(refused("linear(4) relu linear(2)"), "settings.spec: expected the network to end with one output (linear(1)), found an output of 2")
        XCTAssertEqual(refused("relu linear(1)"), "settings.spec: expected the network to start with a linear layer, found 'relu'")
        XCTAssertTrue(refused("linear(4) embedding(3,4)").hasPrefix("settings.spec: layer 2 'embedding(3,4)': the playground takes batchnorm,"))
        XCTAssertTrue(refused("linear(4 relu").hasPrefix("settings.spec: "), refused("linear(4 relu"))
        let parameters = (2 * 32 + 32) + 6 * (32 * 32 + 32) + 33  // 6465 ≤ 10 000: built
        XCTAssertEqual(refused("linear(32) linear(32) linear(32) linear(32) linear(32) linear(32) linear(32) linear(1)"), "accepted", "\(parameters)")
        XCTAssertEqual(refused("linear(32) linear(32) linear(32) linear(32) linear(32) linear(32) linear(32) linear(32) linear(1)"),
                       "settings.spec: the playground takes at most 8 linear layers, found 9")
    }

    func testBatchNormTrainsWithoutABatchOfOne() throws {
        // found by the fuzzer (Fuzz/crashes/playground-message/fuzz-batchnorm-probe-of-one-sample): the
        // output probe ran one sample through batchnorm in training mode and trapped
        var s = PlaygroundSettings()
        s.spec = "linear(8) relu batchnorm linear(4) tanh linear(1)"; s.dataset = "bumps"; s.points = 50; s.batchSize = 7
        let session = try PlaygroundSession(s)
        session.trainEpoch()
        // 44 training points in batches of 7: the last one (of 2) is normal; with 43, a last batch of 1 joins the one before
        s.points = 86; s.trainRatio = 50
        let odd = try PlaygroundSession(s)
        XCTAssertEqual(odd.data.train.count % 7, 1)
        odd.trainEpoch()
        XCTAssertTrue(odd.trainLosses.last!.isFinite)
        s.batchSize = 1
        XCTAssertThrowsError(try PlaygroundSession(s)) {
            XCTAssertEqual("\($0)", "settings.batchSize: a network with batchnorm needs batches of at least 2, found 1")
        }
    }

    func testPointsChangeKeepsTheNetwork() throws {
        let session = try PlaygroundSession(PlaygroundSettings())
        session.trainEpoch()
        let weights = session.frame().weights
        var s = session.settings
        s.added = [.init(x1: 0, x2: 0, label: 0)]
        session.replacePoints(s)
        XCTAssertEqual(session.epoch, 1)
        XCTAssertEqual(session.frame().weights, weights)
        XCTAssertEqual(session.data.train.last?.label, 0)
    }
}

final class PlaygroundMessageTests: XCTestCase {
    func testEachMessage() throws {
        XCTAssertEqual(try ClientMessage.parse(#"{"type":"play"}"#), .play)
        XCTAssertEqual(try ClientMessage.parse(#"{"type":"pause"}"#), .pause)
        XCTAssertEqual(try ClientMessage.parse(#"{"type":"step"}"#), .step)
        XCTAssertEqual(try ClientMessage.parse(#"{"type":"reset"}"#), .reset)
        XCTAssertEqual(try ClientMessage.parse(#"{"type":"ack","epoch":12}"#), .ack(epoch: 12))
        var expected = PlaygroundSettings(); expected.dataset = "moons"
        XCTAssertEqual(try ClientMessage.parse(#"{"type":"config","settings":{"dataset":"moons"}}"#), .config(expected))
        XCTAssertEqual(try ClientMessage.parse(#"{"type":"points","added":[[1,1,1]],"removed":[3]}"#),
                       .points(added: [.init(x1: 1, x2: 1, label: 1)], removed: [3]))
    }

    func testEachBadMessageIsNamed() {
        let cases: [(String, String)] = [
            ("[]", "message: expected a JSON object"),
            ("{}", "message: missing 'type' (expected one of config, play, pause, step, reset, points, ack)"),
            (#"{"type":3}"#, "message.type: expected one of config, play, pause, step, reset, points, ack, found the number 3"),
            (#"{"type":"play","now":true}"#, "play message: unknown key 'now' (it takes none)"),
            (#"{"type":"config"}"#, "config message: missing 'settings'"),
            (#"{"type":"config","settings":[]}"#, "config message: 'settings' must be an object, found a list of 0"),
            (#"{"type":"config","settings":{"hidden":[1,2,3,4,5,6,7]}}"#, "settings.hidden: expected 0–6 hidden layers of 1–8 neurons, found a list of 7"),
            (#"{"type":"ack"}"#, "ack message: missing 'epoch'"),
            (#"{"type":"ack","epoch":-3}"#, "ack message.epoch: expected an integer in 0–2147483647, found the number -3"),
            (#"{"type":"points","added":[[0,0,2]]}"#, "settings.added[0]: expected the label 0 or 1, found 2.0"),
            (#"{"type":"points","removed":[500]}"#, "settings.removed: expected indices of generated points (0–499), found the number 500 in the list"),
            (#"{"type":"points","seed":1}"#, "points message: unknown key 'seed' (expected added, removed)"),
            (String(repeating: " ", count: 70_000), "message of 70000 bytes: the playground reads at most 65536"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try ClientMessage.parse(text), String(text.prefix(60))) {
                XCTAssertEqual(($0 as? PlaygroundError)?.message, message)
            }
        }
    }

    func testFramesCarryTheMapsAsBytes() throws {
        var s = PlaygroundSettings(); s.hidden = [3]
        let session = try PlaygroundSession(s)
        let text = ServerMessage.frame(session.frame())
        guard case .object(let o) = try JSONValue.parse(text), case .string(let output)? = o["output"],
              case .array(let layers)? = o["layers"], case .object(let first) = layers[0], case .array(let maps)? = first["maps"],
              case .string(let map0) = maps[0] else { return XCTFail(text) }
        let side = PlaygroundLimits.gridSide, nside = PlaygroundLimits.neuronGridSide
        XCTAssertEqual(Data(base64Encoded: output)?.count, side * side)
        XCTAssertEqual(Data(base64Encoded: map0)?.count, nside * nside)
        let f = session.frame()
        let bytes = [UInt8](Data(base64Encoded: output)!)
        for i in [0, 100, side * side - 1] {
            XCTAssertEqual(Float(bytes[i]) / 127.5 - 1, f.output[i], accuracy: 1 / 127.5)
        }
        XCTAssertEqual(o["type"], .string("frame")); XCTAssertEqual(o["epoch"], .number(0))
        XCTAssertEqual(ServerMessage.error("a \"b\"\n"), #"{"type":"error","message":"a \"b\"\n"}"#)
    }
}

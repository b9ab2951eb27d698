import XCTest
@testable import NeuronePlayground

final class PlaygroundSettingsTests: XCTestCase {
    func parse(_ json: String) throws -> PlaygroundSettings {
        guard case .object(let o) = try JSONValue.parse(json) else { throw PlaygroundError("not an object") }
        return try PlaygroundSettings.parse(o)
    }

    func refusal(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do { _ = try parse(json); XCTFail("accepted \(json)", file: file, line: line); return "" } catch let e as PlaygroundError {
            return e.message
        } catch { XCTFail("\(error)", file: file, line: line); return "" }
    }

    func testDefaultsAndEveryField() throws {
        XCTAssertEqual(try parse("{}"), PlaygroundSettings())
        let s = try parse("""
            {"dataset":"spirals","noise":20,"trainRatio":70,"points":300,"seed":42,"features":["sin(x2)","x1"],
             "hidden":[8,1,3],"activation":"relu","learningRate":0.1,"batchSize":25,"optimizer":"adam",
             "regularization":"l2","regularizationRate":0.003,"spec":" linear(3) tanh linear(1) ",
             "added":[[1.5,-2,1]],"removed":[0,299]}
            """)
        XCTAssertEqual(s.dataset, "spirals"); XCTAssertEqual(s.noise, 20); XCTAssertEqual(s.trainRatio, 70)
        XCTAssertEqual(s.points, 300); XCTAssertEqual(s.seed, 42)
        XCTAssertEqual(s.features, ["x1", "sin(x2)"], "features are put in the page's order")
        XCTAssertEqual(s.hidden, [8, 1, 3]); XCTAssertEqual(s.activation, "relu"); XCTAssertEqual(s.learningRate, 0.1)
        XCTAssertEqual(s.batchSize, 25); XCTAssertEqual(s.optimizer, "adam"); XCTAssertEqual(s.regularization, "l2")
        XCTAssertEqual(s.regularizationRate, 0.003); XCTAssertEqual(s.spec, "linear(3) tanh linear(1)")
        XCTAssertEqual(s.added, [.init(x1: 1.5, x2: -2, label: 1)]); XCTAssertEqual(s.removed, [0, 299])
        // what the server sends back reads as the same settings
        XCTAssertEqual(try parse(s.json), s)
    }

    func testEachBadValueIsNamed() {
        XCTAssertEqual(refusal(#"{"colour":1}"#).prefix(34), "settings: unknown key 'colour' (ex")
        XCTAssertEqual(refusal(#"{"dataset":"iris"}"#),
                       "settings.dataset: expected one of circles, xor, gaussian, spirals, moons, stars, plane, bumps, found the string \"iris\"")
        XCTAssertEqual(refusal(#"{"noise":51}"#), "settings.noise: expected an integer in 0–50, found the number 51")
        XCTAssertEqual(refusal(#"{"noise":2.5}"#), "settings.noise: expected an integer in 0–50, found the number 2.5")
        XCTAssertEqual(refusal(#"{"noise":"5"}"#), "settings.noise: expected an integer in 0–50, found the string \"5\"")
        XCTAssertEqual(refusal(#"{"trainRatio":true}"#), "settings.trainRatio: expected an integer in 10–90, found true")
        XCTAssertEqual(refusal(#"{"points":1000000}"#), "settings.points: expected an integer in 50–1000, found the number 1000000")
        XCTAssertEqual(refusal(#"{"seed":-1}"#), "settings.seed: expected an integer in 0–4294967295, found the number -1")
        XCTAssertEqual(refusal(#"{"features":["x3"]}"#).prefix(45), "settings.features: unknown feature 'x3' (expe")
        XCTAssertEqual(refusal(#"{"features":[]}"#), "settings.features: expected at least one feature, found none")
        XCTAssertEqual(refusal(#"{"features":["x1","x1"]}"#), "settings.features: a feature is named twice in [\"x1\", \"x1\"]")
        XCTAssertEqual(refusal(#"{"features":[1]}"#), "settings.features: expected strings, found the number 1 in the list")
        XCTAssertEqual(refusal(#"{"hidden":[9]}"#), "settings.hidden: expected 0–6 hidden layers of 1–8 neurons, found the number 9 in the list")
        XCTAssertEqual(refusal(#"{"hidden":[0]}"#), "settings.hidden: expected 0–6 hidden layers of 1–8 neurons, found the number 0 in the list")
        XCTAssertEqual(refusal(#"{"hidden":[1,1,1,1,1,1,1]}"#), "settings.hidden: expected 0–6 hidden layers of 1–8 neurons, found a list of 7")
        XCTAssertEqual(refusal(#"{"hidden":4}"#), "settings.hidden: expected 0–6 hidden layers of 1–8 neurons, found the number 4")
        XCTAssertEqual(refusal(#"{"activation":"swish"}"#),
                       "settings.activation: expected one of relu, tanh, sigmoid, linear, leakyrelu, elu, gelu, found the string \"swish\"")
        XCTAssertEqual(refusal(#"{"learningRate":0}"#), "settings.learningRate: expected a number in [1e-06, 10.0], found the number 0")
        XCTAssertEqual(refusal(#"{"learningRate":1e400}"#), "malformed JSON at byte 16: the number is out of range")
        XCTAssertEqual(refusal(#"{"batchSize":0}"#), "settings.batchSize: expected an integer in 1–1000, found the number 0")
        XCTAssertEqual(refusal(#"{"optimizer":"rmsprop"}"#), "settings.optimizer: expected one of sgd, momentum, adam, found the string \"rmsprop\"")
        XCTAssertEqual(refusal(#"{"regularization":"dropout"}"#), "settings.regularization: expected one of none, l1, l2, found the string \"dropout\"")
        XCTAssertEqual(refusal(#"{"regularizationRate":-0.1}"#), "settings.regularizationRate: expected a number in [0.0, 10.0], found the number -0.1")
        XCTAssertEqual(refusal(#"{"spec":7}"#), "settings.spec: expected a string, found the number 7")
        XCTAssertEqual(refusal("{\"spec\":\"\(String(repeating: "relu ", count: 201))\"}"), "settings.spec: expected at most 1000 characters, found 1005")
        XCTAssertEqual(refusal(#"{"added":[[1,2]]}"#), "settings.added[0]: expected [x1, x2, label] (three numbers), found a list of 2")
        XCTAssertEqual(refusal(#"{"added":[[1,2,0.5]]}"#), "settings.added[0]: expected the label 0 or 1, found 0.5")
        XCTAssertEqual(refusal(#"{"added":[[7,2,1]]}"#), "settings.added[0]: expected x1 and x2 in [−6, 6], found (7.0, 2.0)")
        XCTAssertEqual(refusal(#"{"dataset":"plane","added":[[1,2,2]]}"#), "settings.added[0]: expected a value in [−1, 1] for a regression set, found 2.0")
        XCTAssertEqual(refusal("{\"added\":[\(Array(repeating: "[0,0,1]", count: 501).joined(separator: ","))]}"),
                       "settings.added: expected at most 500 points, found 501")
        XCTAssertEqual(refusal(#"{"points":100,"removed":[100]}"#), "settings.removed: expected indices of generated points (0–99), found the number 100 in the list")
    }
}

final class JSONValueTests: XCTestCase {
    func testValues() throws {
        XCTAssertEqual(try JSONValue.parse(#" {"a": [1, -2.5e2, true, false, null, "x\"\\\/\n\u00e9\ud83d\ude00"], "b": {}} "#),
                       .object(["a": .array([.number(1), .number(-250), .bool(true), .bool(false), .null, .string("x\"\\/\né😀")]), "b": .object([:])]))
        XCTAssertEqual(try JSONValue.parse("0"), .number(0))
        XCTAssertEqual(try JSONValue.parse("[]"), .array([]))
    }

    func testMalformedTextIsPlacedByByte() {
        let cases: [(String, String)] = [
            ("", "malformed JSON at byte 0: expected a value, found the end"),
            ("{", "malformed JSON at byte 1: expected a key in quotes"),
            (#"{"a" 1}"#, "malformed JSON at byte 5: expected ':' after the key \"a\""),
            (#"{"a":1,"a":2}"#, "malformed JSON at byte 11: the key \"a\" appears twice"),
            ("[1 2]", "malformed JSON at byte 3: expected ',' or ']'"),
            ("[1,", "malformed JSON at byte 3: expected a value, found the end"),
            ("01", "malformed JSON at byte 0: a number has a leading zero"),
            ("1.", "malformed JSON at byte 2: expected digits after '.'"),
            ("1e", "malformed JSON at byte 2: expected digits in the exponent"),
            ("-", "malformed JSON at byte 0: expected a value"),
            ("tru", "malformed JSON at byte 0: expected a value"),
            ("\"abc", "malformed JSON at byte 4: a string is not closed"),
            ("\"a\u{1}\"", "malformed JSON at byte 2: a control character in a string"),
            (#""\x""#, "malformed JSON at byte 3: an unknown escape '\\x'"),
            (#""\ud800""#, "malformed JSON at byte 7: a lone UTF-16 surrogate"),
            (#""\udc00""#, "malformed JSON at byte 7: a lone UTF-16 surrogate"),
            (#""\u12""#, "malformed JSON at byte 3: expected four hex digits after \\u"),
            ("1 2", "malformed JSON at byte 2: unexpected text after the value"),
            (String(repeating: "[", count: 40), "malformed JSON at byte 32: nested deeper than 32"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try JSONValue.parse(text), text) { XCTAssertEqual(($0 as? PlaygroundError)?.message, message, text) }
        }
    }
}

import XCTest
import Hummingbird
import HummingbirdTesting
@testable import NeuronePlayground
@testable import NeuroneServer

final class BackpropStepTests: XCTestCase {
    func object(_ text: String) throws -> [String: JSONValue] {
        guard case .object(let o) = try JSONValue.parse(text) else { throw PlaygroundError("not an object") }
        return o
    }

    func number(_ v: JSONValue?) -> Double {
        if case .number(let d)? = v { return d }
        return .nan
    }

    /// The course's 2-2-2 example (COURSE.md §4): the values docs/course/backprop.md shows.
    func testTheCourseExample() throws {
        let o = try object(try BackpropStep.json(try BackpropStep.parse("{}")))
        XCTAssertEqual(o["sizes"], .array([.number(2), .number(2), .number(2)]))
        guard case .array(let forward)? = o["forward"], case .array(let gradients)? = o["gradients"],
              case .object(let loss)? = o["loss"], case .array(let updates)? = o["updates"], case .object(let next)? = o["next"] else {
            return XCTFail("\(o.keys)")
        }
        let values = Dictionary(uniqueKeysWithValues: forward.compactMap { q -> (String, Double)? in
            guard case .object(let q) = q, case .string(let n)? = q["name"] else { return nil }
            return (n, number(q["value"]))
        })
        XCTAssertEqual(values["h1"]!, 0.593269992, accuracy: 1e-9)
        XCTAssertEqual(values["o1"]!, 0.75136507, accuracy: 1e-8)
        XCTAssertEqual(number(loss["value"]), 0.298371109, accuracy: 1e-9)
        let w5 = gradients.compactMap { g -> [String: JSONValue]? in
            guard case .object(let g) = g, g["parameter"] == .string("w5") else { return nil }
            return g
        }.first!
        XCTAssertEqual(number(w5["value"]), 0.082167041, accuracy: 1e-9)
        XCTAssertEqual(number(w5["value"]), number(w5["autograd"]), accuracy: 1e-12)
        guard case .array(let factors)? = w5["factors"] else { return XCTFail() }
        XCTAssertEqual(factors.count, 3)
        XCTAssertEqual(updates.count, 10)
        guard case .array(let ow)? = next["outputWeights"] else { return XCTFail() }
        XCTAssertEqual(number(ow[0]), 0.35891648, accuracy: 1e-8)
        // with frozen biases: the course's hand computation, E after the step 0.291027774
        let frozen = try object(try BackpropStep.json(try BackpropStep.parse(#"{"freezeBias":true}"#)))
        XCTAssertEqual(number(frozen["newLoss"]), 0.291027774, accuracy: 1e-9)
    }

    func testAnEditedNetworkAndItsRefusals() throws {
        let o = try object(try BackpropStep.json(try BackpropStep.parse(
            #"{"inputs":[1,0.5,-1],"targets":[0.2],"hiddenWeights":[0.1,0.2,0.3,0.4,0.5,0.6],"outputWeights":[0.7,-0.8],"hiddenBias":[0.1,0.2],"outputBias":[0],"activation":"tanh","learningRate":0.1}"#)))
        XCTAssertEqual(o["sizes"], .array([.number(3), .number(2), .number(1)]))
        XCTAssertEqual(o["hiddenBiasNames"], .array([.string("b1.1"), .string("b1.2")]))
        func refused(_ body: String) -> String {
            do { _ = try BackpropStep.parse(body); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(refused(#"{"inputs":[1,2,3,4,5]}"#), "backprop.inputs: expected a list of 1–4 numbers, found a list of 5")
        XCTAssertEqual(refused(#"{"inputs":[5000,1]}"#), "backprop.inputs: expected numbers in [−1000, 1000], found the number 5000 in the list")
        XCTAssertEqual(refused(#"{"hiddenWeights":[1,2,3]}"#), "backprop: 3 hidden weights for 2 inputs: expected a multiple of 2 (hidden neurons × inputs)")
        XCTAssertEqual(refused(#"{"inputs":[1],"hiddenWeights":[1,1,1,1,1]}"#),
                       "backprop.hiddenWeights: 5 weights for 1 inputs make 5 hidden neurons, at most 4")
        XCTAssertEqual(refused(#"{"activation":"gelu"}"#), "backprop.activation: expected one of sigmoid, tanh, relu, identity, leakyrelu, found the string \"gelu\"")
        XCTAssertEqual(refused(#"{"learningRate":0}"#), "backprop.learningRate: expected a number in [1e-06, 10.0], found the number 0")
        XCTAssertEqual(refused(#"{"freezeBias":1}"#), "backprop.freezeBias: expected true or false, found the number 1")
        XCTAssertEqual(refused(#"{"steps":3}"#).prefix(35), "backprop: unknown key 'steps' (expe")
    }

    func testTheRoute() async throws {
        let app = PlaygroundServer(port: 0).application()
        try await app.test(.live) { client in
            try await client.execute(uri: "/backprop", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertTrue(String(buffer: response.body).contains("<script src=\"backprop.js\"></script>"))
            }
            try await client.execute(uri: "/api/backprop", method: .post, body: ByteBuffer(string: #"{"learningRate":0.25}"#)) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "application/json; charset=utf-8")
                XCTAssertTrue(String(buffer: response.body).contains(#""learningRate":0.25"#))
            }
            try await client.execute(uri: "/api/backprop", method: .post, body: ByteBuffer(string: #"{"inputs":[]}"#)) { response in
                XCTAssertEqual(response.status, .badRequest)
                XCTAssertEqual(String(buffer: response.body), #"{"type":"error","message":"backprop.inputs: expected a list of 1–4 numbers, found a list of 0"}"#)
            }
            try await client.execute(uri: "/api/backprop", method: .post, body: ByteBuffer(string: String(repeating: " ", count: 70_000))) { response in
                XCTAssertEqual(response.status, .contentTooLarge)
            }
        }
    }
}

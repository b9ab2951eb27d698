import XCTest
import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import HummingbirdWSClient
import NIOCore
@testable import NeuronePlayground
@testable import NeuroneServer

/// The server on a real socket (127.0.0.1, a free port): its pages, and the WebSocket protocol
/// driven by a real WebSocket client.
final class PlaygroundServerTests: XCTestCase {
    static func object(_ message: WebSocketMessage?) -> [String: JSONValue] {
        guard case .text(let text)? = message, case .object(let o)? = try? JSONValue.parse(text) else { return [:] }
        return o
    }

    static func type(_ o: [String: JSONValue]) -> String {
        if case .string(let t)? = o["type"] { return t }
        return "?"
    }

    /// The first text message of a new WebSocket session, or nil when none came within `limit`.
    static func firstMessage(_ client: some TestClientProtocol, within limit: Duration) async -> String? {
        let result = FirstResult()
        Task {
            _ = try? await client.ws("/ws", configuration: .init(maxFrameSize: 1 << 22)) { inbound, _, _ in
                var messages = inbound.messages(maxSize: 1 << 22).makeAsyncIterator()
                if case .text(let text)? = try await messages.next() { result.set(text) }
            }
        }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let text = result.value { return text }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return result.value
    }

    func testPagesAreServedFromTheProgram() async throws {
        let app = PlaygroundServer(port: 0).application()
        try await app.test(.live) { client in
            try await client.execute(uri: "/", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "text/html; charset=utf-8")
                let body = String(buffer: response.body)
                XCTAssertTrue(body.contains("<script src=\"playground.js\"></script>"))
                XCTAssertTrue(body.contains("id=\"boundary\""))
                XCTAssertFalse(body.contains("http://") || body.contains("https://"), "the page loads nothing from elsewhere")
            }
            try await client.execute(uri: "/playground.js", method: .get) { response in
                XCTAssertEqual(response.headers[.contentType], "text/javascript; charset=utf-8")
                XCTAssertEqual(String(buffer: response.body), PageAssets.playgroundJS)
            }
            try await client.execute(uri: "/playground.css", method: .get) { response in
                XCTAssertEqual(response.headers[.contentType], "text/css; charset=utf-8")
            }
            try await client.execute(uri: "/nothing", method: .get) { response in XCTAssertEqual(response.status, .notFound) }
            try await client.execute(uri: "/ws", method: .get) { response in XCTAssertEqual(response.status, .notFound, "no upgrade, no page") }
        }
    }

    func testASessionConfiguresPlaysAndAnswersBadMessagesWithErrorFrames() async throws {
        let app = PlaygroundServer(port: 0).application()
        _ = try await app.test(.live) { client in
            try await client.ws("/ws", configuration: .init(maxFrameSize: 1 << 22)) { inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 22).makeAsyncIterator()
                func next() async throws -> [String: JSONValue] { Self.object(try await messages.next()) }
                func nextError() async throws -> String {
                    while true {
                        let m = try await next()
                        if Self.type(m) == "error", case .string(let text)? = m["message"] { return text }
                        XCTAssertNotEqual(Self.type(m), "?")
                    }
                }

                try await outbound.write(.text(#"{"type":"play"}"#))
                let got1 = try await nextError()
                XCTAssertEqual(got1, "play: send a config message first")

                try await outbound.write(.text(#"{"type":"config","settings":{"dataset":"xor","hidden":[3],"points":100}}"#))
                let setup = try await next()
                XCTAssertEqual(Self.type(setup), "setup")
                XCTAssertEqual(setup["widths"], .array([.number(2), .number(3), .number(1)]))
                if case .array(let train)? = setup["train"], case .array(let test)? = setup["test"] {
                    XCTAssertEqual(train.count, 50); XCTAssertEqual(test.count, 50)
                } else { XCTFail("setup without points") }
                let got2 = try await next()["playing"]
                XCTAssertEqual(got2, .bool(false))
                let frame0 = try await next()
                XCTAssertEqual(Self.type(frame0), "frame"); XCTAssertEqual(frame0["epoch"], .number(0))

                // playing: frames come in order, at most two ahead of the acks
                try await outbound.write(.text(#"{"type":"play"}"#))
                let got3 = try await next()["playing"]
                XCTAssertEqual(got3, .bool(true))
                var epochs: [Int] = []
                while epochs.count < 6 {
                    let m = try await next()
                    guard Self.type(m) == "frame", case .number(let e)? = m["epoch"] else { continue }
                    epochs.append(Int(e))
                    try await outbound.write(.text(#"{"type":"ack","epoch":\#(Int(e))}"#))
                }
                XCTAssertEqual(epochs, [1, 2, 3, 4, 5, 6])
                try await outbound.write(.text(#"{"type":"pause"}"#))

                // bad messages: an error frame each, and the session goes on
                try await outbound.write(.text("{\"type\":"))
                let got4 = try await nextError()
                XCTAssertEqual(got4, "malformed JSON at byte 8: expected a value, found the end")
                try await outbound.write(.text(#"{"type":"config","settings":{"spec":"linear(4) relu linear(3)"}}"#))
                let got5 = try await nextError()
                XCTAssertEqual(got5, "settings.spec: expected the network to end with one output (linear(1)), found an output of 3")
                try await outbound.write(.text(String(repeating: "x", count: 100_000)))
                let got6 = try await nextError()
                XCTAssertEqual(got6, "message of 100000 bytes: the playground reads at most 65536")
                try await outbound.write(.binary(ByteBuffer(bytes: [1, 2, 3])))
                let got7 = try await nextError()
                XCTAssertEqual(got7, "message: expected JSON text, found a binary message")

                try await outbound.write(.text(#"{"type":"step"}"#))
                var stepped: [String: JSONValue] = [:]
                repeat { stepped = try await next() } while Self.type(stepped) != "frame"
                guard case .number(let e)? = stepped["epoch"] else { return XCTFail("no epoch") }
                XCTAssertGreaterThanOrEqual(e, 7, "the step trains on from where the session was")

                // a click: new points, the same network
                try await outbound.write(.text(#"{"type":"points","added":[[1,1,0]]}"#))
                let again = try await next()
                XCTAssertEqual(Self.type(again), "setup")
                if case .array(let train)? = again["train"] { XCTAssertEqual(train.count, 51) }
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }

    func testAMessageOverAMebibyteClosesTheSocketWithCode1009() async throws {
        let app = PlaygroundServer(port: 0).application()
        try await app.test(.live) { client in
            let close = try await client.ws("/ws", configuration: .init(maxFrameSize: 1 << 22)) { inbound, outbound, _ in
                try await outbound.write(.text(String(repeating: "x", count: PlaygroundServer.maxWebSocketMessage + 1)))
                for try await _ in inbound.messages(maxSize: 1 << 22) {}
            }
            XCTAssertEqual(close?.closeCode, .messageTooLarge)
        }
    }

    func testTwentyTabsAtOnceAndTheSessionLimit() async throws {
        let server = PlaygroundServer(port: 0, maxSessions: 20)
        let app = server.application()
        try await app.test(.live) { client in
            // 20 sessions train at once; each sees its own epochs go up
            try await withThrowingTaskGroup(of: Int.self) { group in
                for tab in 0..<20 {
                    group.addTask {
                        let last = LastEpoch()
                        try await client.ws("/ws", configuration: .init(maxFrameSize: 1 << 22)) { inbound, outbound, _ in
                            try await outbound.write(.text(#"{"type":"config","settings":{"seed":\#(tab),"hidden":[8,8]}}"#))
                            try await outbound.write(.text(#"{"type":"play"}"#))
                            for try await message in inbound.messages(maxSize: 1 << 22) {
                                let m = Self.object(message)
                                guard Self.type(m) == "frame", case .number(let e)? = m["epoch"] else { continue }
                                XCTAssertEqual(Int(e), last.value + 1, "tab \(tab)")
                                last.value = Int(e)
                                try await outbound.write(.text(#"{"type":"ack","epoch":\#(last.value)}"#))
                                if last.value == 5 { try await outbound.close(.normalClosure, reason: nil); break }
                            }
                        }
                        return last.value
                    }
                }
                var done = 0
                for try await last in group { XCTAssertEqual(last, 5); done += 1 }
                XCTAssertEqual(done, 20)
            }
            // the closed tabs free their sessions (as the server sees each close): 20 more may open; the 21st is refused
            let deadline = ContinuousClock.now + .seconds(10)
            while await server.sessions.open > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            let stillOpen = await server.sessions.open
            XCTAssertEqual(stillOpen, 0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                let opened = OpenCount()
                for _ in 0..<20 {
                    group.addTask {
                        try await client.ws("/ws", configuration: .init(maxFrameSize: 1 << 22)) { inbound, outbound, _ in
                            try await outbound.write(.text(#"{"type":"config","settings":{}}"#))
                            var messages = inbound.messages(maxSize: 1 << 22).makeAsyncIterator()
                            let first = Self.object(try await messages.next())
                            XCTAssertEqual(Self.type(first), "setup")
                            await opened.add()
                            let until = ContinuousClock.now + .seconds(30)
                            while await opened.count < 21, ContinuousClock.now < until { try await Task.sleep(for: .milliseconds(5)) }
                            try await outbound.close(.normalClosure, reason: nil)
                        }
                    }
                }
                let until = ContinuousClock.now + .seconds(30)
                while await opened.count < 20, ContinuousClock.now < until { try await Task.sleep(for: .milliseconds(5)) }
                let openNow = await opened.count
                XCTAssertEqual(openNow, 20, "20 tabs opened their sessions")
                // The refused tab: its first message names the limit. The server writes it right
                // after the upgrade and closes; on a loaded machine the test's WebSocket client
                // (HummingbirdWSClient) sometimes never hands that message over, nor returns, where
                // a browser and Python's websockets get it every time (checked 30 times under load).
                // So each try has 10 s, and a try that hangs is left behind.
                var refusal: String?
                for _ in 0..<3 where refusal == nil {
                    refusal = await Self.firstMessage(client, within: .seconds(10))
                }
                XCTAssertEqual(refusal.map { Self.object(.text($0))["message"] } ?? nil,
                               .string("the server has 20 sessions open, its limit: close a tab and reload"))
                await opened.add()
                try await group.waitForAll()
            }
        }
    }
}

actor OpenCount {
    private(set) var count = 0
    func add() { count += 1 }
}

/// The last epoch one tab saw (written by its WebSocket handler only).
final class LastEpoch: @unchecked Sendable { var value = -1 }

/// A message one task sets and another polls.
final class FirstResult: @unchecked Sendable {
    private let lock = NSLock()
    private var text: String?
    func set(_ t: String) { lock.lock(); text = t; lock.unlock() }
    var value: String? { lock.lock(); defer { lock.unlock() }; return text }
}

import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NeuronePlayground

/// `neurone serve`: the playground's page (HTML, CSS and JavaScript compiled into the program, see
/// `PageAssets`) and its WebSocket `/ws`, on which each page drives one training session.
public struct PlaygroundServer: Sendable {
    /// The address to bind.
    public var host: String
    /// The port to listen on (0: any free one).
    public var port: Int
    /// Sessions served at once.
    public var maxSessions: Int { sessions.limit }
    /// The sessions open now (a tab's is freed when its socket closes).
    public let sessions: SessionCounter

    /// A server for this address and port; nothing listens until the application runs.
    public init(host: String = "127.0.0.1", port: Int = 8080, maxSessions: Int = PlaygroundLimits.maxSessions) {
        self.host = host
        self.port = port
        sessions = SessionCounter(limit: maxSessions)
    }

    /// The largest WebSocket message read at all; a message larger than `maxMessageBytes` but
    /// within this gets an error frame, a larger one closes the socket with code 1009.
    public static let maxWebSocketMessage = 1 << 20

    /// The paths served, with their content types.
    static let pages: [(path: String, type: String, body: String)] = [
        ("/", "text/html; charset=utf-8", PageAssets.indexHTML),
        ("/playground.js", "text/javascript; charset=utf-8", PageAssets.playgroundJS),
        ("/playground.css", "text/css; charset=utf-8", PageAssets.playgroundCSS),
        ("/backprop", "text/html; charset=utf-8", PageAssets.backpropHTML),
        ("/backprop.js", "text/javascript; charset=utf-8", PageAssets.backpropJS),
    ]

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The Hummingbird application (`onServerRunning` receives the bound port, useful with port 0).
    public func application(logger: Logger? = nil, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        let engine = PlaygroundEngine()
        let counter = sessions
        let router = Router()
        for page in Self.pages {
            let body = ByteBuffer(string: page.body), type = page.type
            router.get(RouterPath(page.path)) { _, _ in
                Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: body))
            }
        }
        router.get("/healthz") { _, _ in "ok\n" }
        // One step of the back-propagation page: a JSON example in, its explanation out (400 with
        // an error message, as on the WebSocket, when the example is refused).
        router.post("/api/backprop") { request, _ -> Response in
            var request = request
            let body: ByteBuffer
            do { body = try await request.collectBody(upTo: PlaygroundLimits.maxMessageBytes) } catch {
                return Self.json(.contentTooLarge, ServerMessage.error("request: the playground reads at most \(PlaygroundLimits.maxMessageBytes) bytes"))
            }
            let text = String(buffer: body)
            do {
                let answer = try await engine.run { try BackpropStep.json(try BackpropStep.parse(text)) }
                return Self.json(.ok, answer)
            } catch let e as PlaygroundError {
                return Self.json(.badRequest, ServerMessage.error(e.message))
            }
        }
        var log = logger ?? Logger(label: "neurone-serve")
        if logger == nil { log.logLevel = .warning }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: .init(ws: .init(maxFrameSize: Self.maxWebSocketMessage))) { request, _, _ in
                guard request.path == "/ws" else { return .dontUpgrade }
                return .upgrade([:]) { inbound, outbound, _ in
                    guard await counter.enter() else {
                        try await outbound.write(.text(ServerMessage.error(
                            "the server has \(counter.limit) sessions open, its limit: close a tab and reload")))
                        return
                    }
                    let connection = PlaygroundConnection(engine: engine) { text in try await outbound.write(.text(text)) }
                    // The player: a frame whenever the connection may send one. It is not awaited when
                    // the page goes: a write it is blocked in fails once the socket is closed, which
                    // happens only after this handler returns.
                    let player = Task {
                        while !Task.isCancelled {
                            let pause = try await connection.tick()
                            if pause > .zero { try await Task.sleep(for: pause) }
                        }
                    }
                    do {
                        for try await message in inbound.messages(maxSize: Self.maxWebSocketMessage) {
                            switch message {
                            case .text(let text): try await connection.handle(text)
                            case .binary: try await outbound.write(.text(ServerMessage.error("message: expected JSON text, found a binary message")))
                            }
                        }
                    } catch {}
                    player.cancel()
                    await connection.close()
                    await counter.leave()
                }
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "neurone-serve"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: log)
    }
}

import ArgumentParser
import Foundation
import NeuroneServer
import NeuronePlayground

/// `neurone-serve`, run by `neurone serve`: the playground in a browser.
@main
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neurone-serve",
        abstract: "Serve the playground: a network training live in your browser (run by `neurone serve`).",
        discussion: """
            Open the URL it prints: / is the playground, /backprop the course's back-propagation step by step. \
            Everything the page needs is inside this program (no CDN: it works offline); training runs here, in Swift, \
            and streams frames to the page over a WebSocket.

            Limits: \(PlaygroundLimits.maxSessions) sessions at once (--max-sessions), \(PlaygroundLimits.maxFramesPerSecond) frames a second per tab, \
            messages of at most \(PlaygroundLimits.maxMessageBytes / 1024) KiB. docs/PLAYGROUND.md has the rest.
            """)

    @Option(help: "The port to listen on (0: any free port).")
    var port: Int = 8080

    @Option(help: "The address to bind. The default serves this machine only; 0.0.0.0 serves every network it is on.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("max-sessions"), help: "Sessions (tabs) served at once.")
    var maxSessions: Int = PlaygroundLimits.maxSessions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port: expected 0–65535, found \(port)") }
        guard (1...1000).contains(maxSessions) else { throw ValidationError("--max-sessions: expected 1–1000, found \(maxSessions)") }
        guard !host.isEmpty else { throw ValidationError("--host: expected an address such as 127.0.0.1, found an empty string") }
    }

    func run() async throws {
        let host = self.host
        let app = PlaygroundServer(host: host, port: port, maxSessions: maxSessions).application { bound in
            let shown = host == "0.0.0.0" || host == "::" ? "localhost" : (host.contains(":") ? "[\(host)]" : host)
            print("Neurone playground: http://\(shown):\(bound)/   (Ctrl-C stops)")
            fflush(stdout)
        }
        do { try await app.runService() } catch {
            throw ServeError(message: "cannot serve on \(host):\(port): \(error)\(port != 0 ? " (another program on that port? --port 0 takes any free one)" : "")")
        }
    }
}



struct ServeError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

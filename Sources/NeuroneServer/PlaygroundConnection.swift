import Foundation
import NeuronePlayground

/// One page's WebSocket: its session (touched only on the engine's queue), whether it plays, and
/// how far the page has drawn. At most two frames are in flight, and at most
/// `PlaygroundLimits.maxFramesPerSecond` are sent a second.
actor PlaygroundConnection {
    let engine: PlaygroundEngine
    let send: @Sendable (String) async throws -> Void
    private var session: SessionBox?
    /// The settings in force (a copy of the session's, so that reading a message needs no engine time).
    private var settings = PlaygroundSettings()
    private(set) var playing = false
    private var sentEpoch = -1, ackedEpoch = -1
    private var lastFrame = ContinuousClock.now
    private var working = false
    /// Set when the page has gone: nothing more is computed or sent.
    private var closed = false

    init(engine: PlaygroundEngine, send: @escaping @Sendable (String) async throws -> Void) {
        self.engine = engine
        self.send = send
    }

    /// Handles one text message; a refused one is answered with an error frame.
    func handle(_ text: String) async throws {
        let message: ClientMessage
        do {
            message = try ClientMessage.parse(text, current: settings)
        } catch let e as PlaygroundError {
            try await send(ServerMessage.error(e.message))
            return
        }
        switch message {
        case .config(let settings):
            await configure(settings)
        case .reset:
            guard session != nil else { return try await send(ServerMessage.error("reset: send a config message first")) }
            await configure(settings)
        case .play, .pause, .step, .points:
            guard let s = session else { return try await send(ServerMessage.error("\(message.name): send a config message first")) }
            switch message {
            case .play:
                playing = true
                try await send(ServerMessage.state(playing: true, epoch: sentEpoch))
            case .pause:
                playing = false
                try await send(ServerMessage.state(playing: false, epoch: sentEpoch))
            case .step:
                playing = false
                try await send(ServerMessage.state(playing: false, epoch: sentEpoch))
                try await sendNextFrame(train: true)
            case .points(let added, let removed):
                settings.added = added
                settings.removed = removed
                let next = settings
                let setup = try await engine.run { () -> String in
                    s.session.replacePoints(next)
                    return ServerMessage.setup(s.session)
                }
                try await send(setup)
            default: break
            }
        case .ack(let epoch):
            ackedEpoch = max(ackedEpoch, min(epoch, sentEpoch))
        }
    }

    private func configure(_ settings: PlaygroundSettings) async {
        do {
            let (box, setup, frame) = try await engine.run { () -> (SessionBox, String, String) in
                let s = try PlaygroundSession(settings)
                return (SessionBox(s), ServerMessage.setup(s), ServerMessage.frame(s.frame()))
            }
            session = box
            self.settings = settings
            playing = false
            sentEpoch = 0
            ackedEpoch = -1
            try await send(setup)
            try await send(ServerMessage.state(playing: false, epoch: 0))
            try await send(frame)
        } catch let e as PlaygroundError {
            try? await send(ServerMessage.error(e.message))
        } catch {
            try? await send(ServerMessage.error("config: \(error)"))
        }
    }

    /// The page has gone (its socket is closing).
    func close() { closed = true; playing = false }

    /// Trains one epoch (when `train`) and sends the frame.
    private func sendNextFrame(train: Bool) async throws {
        guard let s = session, !working, !closed else { return }
        working = true
        defer { working = false }
        let asked = ContinuousClock.now
        let frame = try await engine.run { () -> (Int, String) in
            var timing = ServerMessage.Timing()
            let start = ContinuousClock.now
            timing.waitMs = milliseconds(start - asked)
            if train { s.session.trainEpoch() }
            let trained = ContinuousClock.now
            timing.trainMs = milliseconds(trained - start)
            let f = s.session.frame()
            timing.mapsMs = milliseconds(ContinuousClock.now - trained)
            return (f.epoch, ServerMessage.frame(f, timing: timing))
        }
        guard s === session, !closed else { return }  // a config arrived meanwhile, or the page went
        sentEpoch = frame.0
        lastFrame = .now
        try await send(frame.1)
    }

    /// Called by the player loop: sends the next frame when playing, the page has drawn all but
    /// one, and the frame rate allows. Returns how long the loop may sleep before asking again:
    /// nothing after a frame, 2 ms while playing, 20 ms while paused.
    func tick() async throws -> Duration {
        guard !closed else { throw CancellationError() }
        guard playing, session != nil else { return .milliseconds(20) }
        guard !working, sentEpoch - ackedEpoch < 2,
              ContinuousClock.now - lastFrame >= .milliseconds(1000 / PlaygroundLimits.maxFramesPerSecond) else { return .milliseconds(2) }
        try await sendNextFrame(train: true)
        return .zero
    }
}

func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) * 1e-15
}

/// A session, handed between the connection and the engine's queue (only the queue touches it).
final class SessionBox: @unchecked Sendable {
    let session: PlaygroundSession
    init(_ session: PlaygroundSession) { self.session = session }
}

import Foundation

/// What a page sends over the WebSocket (JSON text, at most `PlaygroundLimits.maxMessageBytes`):
///
///     {"type": "config", "settings": {…}}   new settings: new data and network, epoch 0
///     {"type": "play"} / {"type": "pause"} / {"type": "step"} / {"type": "reset"}
///     {"type": "points", "added": […], "removed": […]}   clicks: new points, same network
///     {"type": "ack", "epoch": N}            the page drew frame N (the server sends at most two ahead)
///
/// Every field is checked; a message that fails gets `{"type": "error", "message": …}` and the
/// session goes on. docs/PLAYGROUND.md lists the messages and the server's answers.
public enum ClientMessage: Equatable, Sendable {
    case config(PlaygroundSettings)
    case play, pause, step, reset
    case points(added: [PlaygroundSettings.AddedPoint], removed: [Int])
    case ack(epoch: Int)

    /// The values of a message's "type".
    public static let types = ["config", "play", "pause", "step", "reset", "points", "ack"]

    /// The message's type, as the page writes it.
    public var name: String {
        switch self {
        case .config: return "config"
        case .play: return "play"
        case .pause: return "pause"
        case .step: return "step"
        case .reset: return "reset"
        case .points: return "points"
        case .ack: return "ack"
        }
    }

    /// Reads one message; `current` (the settings in force) checks a points message's labels and indices.
    public static func parse(_ text: String, current: PlaygroundSettings = PlaygroundSettings()) throws -> ClientMessage {
        guard text.utf8.count <= PlaygroundLimits.maxMessageBytes else {
            throw PlaygroundError("message of \(text.utf8.count) bytes: the playground reads at most \(PlaygroundLimits.maxMessageBytes)")
        }
        guard case .object(let o) = try JSONValue.parse(text) else { throw PlaygroundError("message: expected a JSON object") }
        guard let t = o["type"] else { throw PlaygroundError("message: missing 'type' (expected one of \(types.joined(separator: ", ")))") }
        guard case .string(let type) = t, types.contains(type) else {
            throw PlaygroundError("message.type: expected one of \(types.joined(separator: ", ")), found \(t.describe)")
        }
        func only(_ keys: Set<String>) throws {
            for k in o.keys.sorted() where k != "type" && !keys.contains(k) {
                throw PlaygroundError("\(type) message: unknown key '\(k)'\(keys.isEmpty ? " (it takes none)" : " (expected \(keys.sorted().joined(separator: ", ")))")")
            }
        }
        switch type {
        case "config":
            try only(["settings"])
            guard let v = o["settings"] else { throw PlaygroundError("config message: missing 'settings'") }
            guard case .object(let so) = v else { throw PlaygroundError("config message: 'settings' must be an object, found \(v.describe)") }
            return .config(try PlaygroundSettings.parse(so))
        case "points":
            try only(["added", "removed"])
            var fields: [String: JSONValue] = ["dataset": .string(current.dataset), "points": .number(Double(current.points))]
            fields["added"] = o["added"] ?? .array([])
            fields["removed"] = o["removed"] ?? .array([])
            let s = try PlaygroundSettings.parse(fields)
            return .points(added: s.added, removed: s.removed)
        case "ack":
            try only(["epoch"])
            let epoch = try FieldReader(object: o, context: "ack message").int("epoch", 0...Int(Int32.max), -1)
            guard epoch >= 0 else { throw PlaygroundError("ack message: missing 'epoch'") }
            return .ack(epoch: epoch)
        case "play": try only([]); return .play
        case "pause": try only([]); return .pause
        case "step": try only([]); return .step
        default: try only([]); return .reset
        }
    }
}

/// What the server sends: JSON text.
public enum ServerMessage {
    /// `{"type":"error","message":…}`: a message refused, the session goes on.
    public static func error(_ message: String) -> String {
        let w = JSONWriter()
        w.object { w.field("type", "error"); w.field("message", message) }
        return w.text
    }

    /// `{"type":"state","playing":…,"epoch":…}`: after play, pause, step and a config.
    public static func state(playing: Bool, epoch: Int) -> String {
        let w = JSONWriter()
        w.object { w.field("type", "state"); w.field("playing", playing); w.field("epoch", epoch) }
        return w.text
    }

    /// The settings in force, the network's shape and the points (sent after a config or points message).
    public static func setup(_ session: PlaygroundSession) -> String {
        let w = JSONWriter()
        w.object {
            w.field("type", "setup")
            w.key("settings"); w.raw(session.settings.json)
            w.field("problem", session.settings.isRegression ? "regression" : "classification")
            w.field("inputs", session.settings.features)
            w.field("widths", session.widths)
            w.field("grid", PlaygroundLimits.gridSide)
            w.field("neuronGrid", PlaygroundLimits.neuronGridSide)
            w.field("domain", PlaygroundLimits.domain)
            for (name, points) in [("train", session.data.train), ("test", session.data.test)] {
                w.key(name)
                w.array(points) { p in w.array([p.x1, p.x2, p.label, Double(p.index ?? -1)]) }
            }
        }
        return w.text
    }

    /// Where a frame's time went on the server, in milliseconds: waiting for the engine (other
    /// tabs' frames), training the epoch, computing the maps; and when it was handed to the socket
    /// (Unix time), so that a client on the same machine can tell the delivery time.
    public struct Timing: Sendable {
        /// Milliseconds waiting for the engine, training the epoch, computing the maps.
        public var waitMs = 0.0, trainMs = 0.0, mapsMs = 0.0
        /// All zero.
        public init() {}
    }

    /// One frame: the maps as bytes (0 ↔ −1, 255 ↔ +1; a neuron's map divided by its scale first), base64.
    public static func frame(_ f: PlaygroundSession.Frame, timing: Timing? = nil) -> String {
        let w = JSONWriter()
        w.object {
            w.field("type", "frame")
            w.field("epoch", f.epoch)
            if let t = timing {
                w.key("timing")
                w.object {
                    w.field("waitMs", (t.waitMs * 1000).rounded() / 1000); w.field("trainMs", (t.trainMs * 1000).rounded() / 1000)
                    w.field("mapsMs", (t.mapsMs * 1000).rounded() / 1000)
                    w.field("sentAtMs", (Date().timeIntervalSince1970 * 1e6).rounded() / 1000)
                }
            }
            w.field("trainLoss", f.trainLoss)
            w.field("testLoss", f.testLoss)
            w.field("output", bytes(f.output, scale: 1))
            w.key("layers")
            w.array(Array(f.weights.indices)) { l in
                w.object {
                    w.key("weights"); w.array(f.weights[l]) { row in w.array(row.map(Double.init)) }
                    w.field("biases", f.biases[l].map(Double.init))
                    if l < f.neuronMaps.count {
                        w.field("scales", f.neuronScales[l].map(Double.init))
                        w.field("maps", zip(f.neuronMaps[l], f.neuronScales[l]).map { bytes($0, scale: $1) })
                    }
                }
            }
        }
        return w.text
    }

    static func bytes(_ values: [Float], scale: Float) -> String {
        let s = scale > 0 && scale.isFinite ? scale : 1
        let b = values.map { v -> UInt8 in
            guard v.isFinite else { return 128 }
            return UInt8(max(0, min(255, ((v / s + 1) * 127.5).rounded())))
        }
        return Data(b).base64EncodedString()
    }
}

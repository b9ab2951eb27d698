import Dispatch
import NeuronePlayground

/// Runs every session's training and frames on one serial queue: Neurone's autograd mode and
/// its kernel thread pool are process-wide, so two sessions must not compute at once. Each
/// session asks for one frame at a time, so the queue serves the tabs in turn.
public final class PlaygroundEngine: @unchecked Sendable {
    let queue = DispatchQueue(label: "neurone.playground.engine")

    /// An engine with its own serial queue.
    public init() {}

    /// Runs `body` on the engine's queue, after the work queued before it, and returns its result.
    public func run<T>(_ body: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            queue.async {
                do { c.resume(returning: try body()) } catch { c.resume(throwing: error) }
            }
        }
    }
}

/// Counts the sessions served at once, refusing one over the limit.
public actor SessionCounter {
    /// Sessions open now.
    public private(set) var open = 0
    /// Sessions served at once; one more is refused.
    public let limit: Int
    init(limit: Int) { self.limit = limit }

    func enter() -> Bool {
        guard open < limit else { return false }
        open += 1
        return true
    }

    func leave() { open -= 1 }
}

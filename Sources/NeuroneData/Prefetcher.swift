import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import Foundation

/// Runs `produce` on a background thread, keeping up to `capacity` results ready; `next()` hands
/// them over in order. Dropping the prefetcher (an epoch left early) stops the thread.
final class Prefetcher {
    private final class Shared: @unchecked Sendable {
        let condition = NSCondition()
        var ready: [Batch] = []
        var finished = false
        var cancelled = false
    }
    private let shared = Shared()

    init(capacity: Int, produce: @escaping () -> Batch?) {
        let shared = self.shared
        nonisolated(unsafe) let work = produce
        let thread = Thread {
            while true {
                shared.condition.lock()
                while shared.ready.count >= capacity && !shared.cancelled { shared.condition.wait() }
                let stop = shared.cancelled
                shared.condition.unlock()
                if stop { return }
                let batch = work()
                shared.condition.lock()
                if let b = batch { shared.ready.append(b) } else { shared.finished = true }
                shared.condition.broadcast()
                shared.condition.unlock()
                if batch == nil { return }
            }
        }
        thread.name = "neurone-dataloader"
        thread.start()
    }

    func next() -> Batch? {
        shared.condition.lock()
        defer { shared.condition.unlock() }
        while shared.ready.isEmpty && !shared.finished { shared.condition.wait() }
        if shared.ready.isEmpty { return nil }
        let b = shared.ready.removeFirst()
        shared.condition.broadcast()
        return b
    }

    deinit {
        shared.condition.lock()
        shared.cancelled = true
        shared.condition.broadcast()
        shared.condition.unlock()
    }
}

import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN

/// Data-parallel training, like PyTorch's `DistributedDataParallel`: wraps a module so that every
/// process of a `ProcessGroup` trains the same model on its own part of each batch.
///
/// - At construction every process checks that all hold the same parameter and buffer names,
///   shapes and dtypes (and throws naming the first difference if not), then rank 0's weights and
///   buffers are broadcast to all, so every replica starts equal.
/// - The parameters are grouped into buckets of at most `bucketCapBytes` (PyTorch's 25 MB by
///   default), in reverse order of `parameters()` — roughly the order backward finishes them.
///   A post-accumulate-grad hook on each parameter copies its final gradient into its bucket; a
///   bucket whose gradients are all in is summed over the processes at once (MPI_Allreduce) on
///   a background thread, while backward computes the rest. When backward ends, the summed
///   gradients are written back into each parameter's `grad`, so the optimiser steps identically
///   on every process.
/// - Each gradient is multiplied by `gradientScale` before the sum: 1/worldSize by default, which
///   makes the result the mean of the processes' gradients (PyTorch's behaviour). The trainer
///   sets it to (this process's samples) / (the batch's samples) so that parts of unequal size
///   still give the gradient of the whole batch.
/// - With `broadcastBuffers` (the default), each forward in training mode first copies rank 0's
///   buffers (batch norm's running statistics) to every process. Batch norm normalises with each
///   process's own batch statistics (PyTorch's DDP without SyncBatchNorm).
///
/// Parameters that get no gradient in a step (unused) are sent as zeros when backward ends. Call
/// `backward` once per step (gradient accumulation over several backwards would sum twice).
public final class DistributedDataParallel: Module {
    /// The module trained (its state-dict names start with "module.", as PyTorch's).
    public let module: Module
    /// The processes.
    public let processGroup: ProcessGroup
    /// The largest bucket in bytes.
    public let bucketCapBytes: Int
    /// Whether a forward in training mode first broadcasts rank 0's buffers.
    public var broadcastBuffers: Bool
    /// Each process's gradients are multiplied by this before the sum (1/worldSize: the mean).
    public var gradientScale: Double
    /// The parameter names of each bucket, in the order they are sent.
    public var bucketNames: [[String]] { buckets.map { b in b.parameters.map { $0.name } } }
    /// Time and bytes of the gradient reductions so far.
    public private(set) var statistics = CommunicationStatistics()

    private let buckets: [Bucket]
    private var bucketOfParameter: [ObjectIdentifier: (bucket: Int, slot: Int)] = [:]
    private var stepInProgress = false
    private var sender: BucketSender?
    private var hooks: [RemovableHandle] = []

    /// Wraps `module` for data-parallel training over `processGroup`; throws when the processes'
    /// models differ. `bucketCapMB` is in MiB (25 as PyTorch).
    public init(_ module: Module, processGroup: ProcessGroup, bucketCapMB: Double = 25, broadcastBuffers: Bool = true) throws {
        check(bucketCapMB > 0 && bucketCapMB.isFinite, "DistributedDataParallel: bucketCapMB must be positive, got \(bucketCapMB)")
        self.module = module
        self.processGroup = processGroup
        self.bucketCapBytes = Swift.max(1, Int(bucketCapMB * 1_048_576))
        self.broadcastBuffers = broadcastBuffers
        self.gradientScale = 1 / Double(processGroup.worldSize)
        try DistributedDataParallel.checkSameModel(module, processGroup)
        for (name, t) in module.stateDict() where !t.isContiguous {
            throw DistributedError("DistributedDataParallel: \(name) (shape \(describeShape(t.shape))) is not contiguous; parameters and buffers are sent as they lie in memory")
        }
        for (name, p) in module.namedParameters() where p.requiresGrad && p.dtype != .float32 && p.dtype != .float64 {
            throw DistributedError("DistributedDataParallel: parameter \(name) is \(p.dtype); gradients are summed in float32 or float64")
        }
        // buckets: reverse parameter order, one dtype per bucket, at most bucketCapBytes each
        var made: [Bucket] = []
        var current: [(String, Tensor)] = [], bytes = 0
        func close() {
            if !current.isEmpty { made.append(Bucket(current)) }
            current = []; bytes = 0
        }
        for (name, p) in module.namedParameters().reversed() where p.requiresGrad {
            let size = p.count * p.dtype.byteSize
            if let first = current.first, first.1.dtype != p.dtype || bytes + size > bucketCapBytes { close() }
            current.append((name, p)); bytes += size
        }
        close()
        buckets = made
        super.init()
        for (b, bucket) in buckets.enumerated() {
            for (s, entry) in bucket.parameters.enumerated() { bucketOfParameter[ObjectIdentifier(entry.tensor)] = (b, s) }
        }
        try withNoGrad {
            for (_, t) in module.stateDict() { try processGroup.broadcast(t, root: 0) }
        }
        if processGroup.allowsBackgroundThread { sender = BucketSender(processGroup) }
        for bucket in buckets {
            for entry in bucket.parameters {
                hooks.append(entry.tensor.registerPostAccumulateGradHook { [unowned self] p in self.gradientReady(p) })
            }
        }
    }

    deinit {
        for h in hooks { h.remove() }
        sender?.stop()
    }

    /// Runs the wrapped module, after broadcasting rank 0's buffers in training mode. (MPI's
    /// default error handler ends the job before a failed broadcast could return.)
    public override func forward(_ input: Tensor) -> Tensor {
        if broadcastBuffers && isTraining && processGroup.worldSize > 1 {
            do {
                try withNoGrad { for (_, b) in module.namedBuffers() { try processGroup.broadcast(b, root: 0) } }
            } catch { fail("DistributedDataParallel: broadcasting the buffers failed: \(error)") }
        }
        return module(input)
    }

    /// Takes part in the step's gradient sum without a backward pass of its own — for a process
    /// whose part of the batch is empty (its gradients count as zeros). Every other process runs
    /// backward as usual; all then hold the same summed gradients.
    public func synchronizeWithoutBackward() throws {
        for p in module.parameters() where p.requiresGrad { p.grad = nil }
        beginStep()
        try finishStep()
    }

    // MARK: the step

    private func beginStep() {
        guard !stepInProgress else { return }
        stepInProgress = true
        for bucket in buckets { bucket.reset() }
    }

    /// The hook: `p`'s gradient of this step is final.
    private func gradientReady(_ p: Tensor) {
        guard let (b, s) = bucketOfParameter[ObjectIdentifier(p)] else { return }
        if !stepInProgress {
            beginStep()
            Autograd.queueCallback { [unowned self] in
                do { try self.finishStep() } catch { fail("DistributedDataParallel: \(error)") }
            }
        }
        let bucket = buckets[b]
        bucket.fill(slot: s, scale: gradientScale)
        if bucket.pending == 0 { launch(bucket) }
    }

    private func launch(_ bucket: Bucket) {
        bucket.launched = true
        if let sender {
            sender.send(bucket)
        } else {
            let t0 = Date()
            bucket.error = Result { try bucket.reduce(processGroup) }.failure
            bucket.seconds = Date().timeIntervalSince(t0)
        }
    }

    /// Sends the buckets not yet sent (gradients of unused parameters count as zeros), waits for
    /// all, and writes the sums into the parameters' `grad`.
    private func finishStep() throws {
        defer { stepInProgress = false }
        let t0 = Date()
        statistics.bucketsSentDuringBackward += buckets.filter(\.launched).count
        for bucket in buckets where !bucket.launched {
            for s in bucket.parameters.indices where !bucket.filled[s] { bucket.fill(slot: s, scale: gradientScale) }
            launch(bucket)
        }
        for bucket in buckets { sender?.wait(bucket) }
        let waited = Date().timeIntervalSince(t0)
        if let e = buckets.compactMap({ $0.error }).first { throw e }
        for bucket in buckets { bucket.writeBack() }
        statistics.steps += 1
        statistics.reduceSeconds += buckets.reduce(0) { $0 + $1.seconds }
        statistics.waitSeconds += waited
        statistics.bytes += buckets.reduce(0) { $0 + $1.byteCount }
    }

    /// Throws unless every process's module has the same state-dict names, shapes and dtypes;
    /// the message names the first difference from rank 0's.
    static func checkSameModel(_ module: Module, _ group: ProcessGroup) throws {
        let own = module.stateDict().map { "\($0.0) \(describeShape($0.1.shape)) \($0.1.dtype)" }
        let zero = String(decoding: try group.broadcast(Array(own.joined(separator: "\n").utf8), root: 0), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let reference = zero == [""] ? [] : zero
        var difference: String?
        if reference != own {
            let i = zip(reference, own).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? Swift.min(reference.count, own.count)
            let theirs = i < reference.count ? reference[i] : "nothing (it has \(reference.count) tensors)"
            let mine = i < own.count ? own[i] : "nothing (it has \(own.count) tensors)"
            difference = "rank \(group.rank)'s model differs from rank 0's at state-dict entry \(i + 1): rank 0 has \(theirs), rank \(group.rank) has \(mine)"
        }
        let differing = try group.allReduce([difference == nil ? 0 : 1])[0]
        if let difference { throw DistributedError("DistributedDataParallel: \(difference); every process must build the same model") }
        if differing > 0 {
            throw DistributedError("DistributedDataParallel: rank \(group.rank): the processes' models differ (\(Int(differing)) rank\(differing == 1 ? "" : "s") reported the difference); every process must build the same model")
        }
    }
}

/// Time and bytes of a `DistributedDataParallel`'s gradient reductions.
public struct CommunicationStatistics: Sendable {
    /// Steps synchronised.
    public var steps = 0
    /// Seconds spent in the reductions (on the background thread when there is one).
    public var reduceSeconds = 0.0
    /// Seconds the training thread waited for them at the end of backward: the part the overlap
    /// did not hide.
    public var waitSeconds = 0.0
    /// Bytes reduced per process.
    public var bytes = 0
    /// Buckets sent by the hooks while backward was still running (the others were sent when it
    /// ended: buckets holding a parameter that got no gradient).
    public var bucketsSentDuringBackward = 0
}

extension Result {
    fileprivate var failure: Failure? { if case .failure(let e) = self { return e } else { return nil } }
}

/// The parameters of one bucket and the flat host buffer their gradients are summed in.
final class Bucket: @unchecked Sendable {
    let parameters: [(name: String, tensor: Tensor)]
    let offsets: [Int]
    let dtype: DType
    let count: Int
    let flat: UnsafeMutableRawPointer
    var filled: [Bool]
    var pending: Int
    var launched = false
    var error: Error?
    var seconds = 0.0
    var byteCount: Int { count * dtype.byteSize }

    init(_ parameters: [(String, Tensor)]) {
        self.parameters = parameters.map { (name: $0.0, tensor: $0.1) }
        dtype = parameters[0].1.dtype
        var offsets: [Int] = [], n = 0
        for (_, p) in parameters { offsets.append(n); n += p.count }
        self.offsets = offsets
        count = n
        flat = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(1, n * dtype.byteSize), alignment: 64)
        filled = Array(repeating: false, count: parameters.count)
        pending = parameters.count
    }

    deinit { flat.deallocate() }

    func reset() {
        for i in filled.indices { filled[i] = false }
        pending = parameters.count
        launched = false
        error = nil
        seconds = 0
    }

    /// Copies parameter `slot`'s gradient (zeros without one) times `scale` into the buffer.
    func fill(slot: Int, scale: Double) {
        guard !filled[slot] else { return }
        filled[slot] = true
        pending -= 1
        let p = parameters[slot].tensor, n = p.count, at = offsets[slot]
        switch dtype {
        case .float32:
            let dst = flat.assumingMemoryBound(to: Float.self) + at
            if let g = p.grad {
                let s = Float(scale)
                g.withHostBytes { src in
                    let x = src.assumingMemoryBound(to: Float.self)
                    for i in 0..<n { dst[i] = x[i] * s }
                }
            } else { dst.update(repeating: 0, count: n) }
        case .float64:
            let dst = flat.assumingMemoryBound(to: Double.self) + at
            if let g = p.grad {
                g.withHostBytes { src in
                    let x = src.assumingMemoryBound(to: Double.self)
                    for i in 0..<n { dst[i] = x[i] * scale }
                }
            } else { dst.update(repeating: 0, count: n) }
        default:
            fail("internal error: bucket of \(dtype) gradients (the initialiser accepts float32 and float64 only)")
        }
    }

    func reduce(_ group: ProcessGroup) throws {
        try group.allReduce(flat, count: count, dtype: dtype, op: .sum)
    }

    /// Writes the sums into each parameter's `grad` (made when it had none).
    func writeBack() {
        for (slot, entry) in parameters.enumerated() {
            let p = entry.tensor
            if p.grad == nil { p.grad = Tensor.zeros(p.shape, dtype: p.dtype, device: p.device) }
            let bytes = p.count * dtype.byteSize, src = flat + offsets[slot] * dtype.byteSize
            p.grad!.modifyHostBytes { $0.copyMemory(from: src, byteCount: bytes) }
        }
    }
}

/// The background thread that sums buckets, one at a time, in the order they are sent (the same
/// on every process, as the collectives require).
final class BucketSender: @unchecked Sendable {
    private let group: ProcessGroup
    private let condition = NSCondition()
    private var queue: [Bucket] = []
    private var done = Set<ObjectIdentifier>()
    private var stopping = false
    private var thread: Thread?

    init(_ group: ProcessGroup) {
        self.group = group
        // the thread holds the sender until `stop()` lets it end
        let t = Thread { [self] in self.loop() }
        t.name = "neurone-allreduce"
        thread = t
        t.start()
    }

    func send(_ bucket: Bucket) {
        condition.lock()
        queue.append(bucket)
        condition.broadcast()
        condition.unlock()
    }

    func wait(_ bucket: Bucket) {
        condition.lock()
        while !done.contains(ObjectIdentifier(bucket)) { condition.wait() }
        done.remove(ObjectIdentifier(bucket))
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty { condition.unlock(); return }
            let bucket = queue.removeFirst()
            condition.unlock()
            let t0 = Date()
            do { try bucket.reduce(group) } catch { bucket.error = error }
            bucket.seconds = Date().timeIntervalSince(t0)
            condition.lock()
            done.insert(ObjectIdentifier(bucket))
            condition.broadcast()
            condition.unlock()
        }
    }
}

import CNeuroneMPI
import Foundation
import NeuroneDevice

/// The process group of a program started by Open MPI's `mpirun`: MPI_COMM_WORLD, through the
/// MPI library found at run time (libmpi.so.40 from Debian's `libopenmpi3`, or the file
/// `NEURONE_MPI_LIBRARY` names), so nothing about MPI is needed to build Neurone.
///
/// MPI is initialised once per process (`shared()`), asking for MPI_THREAD_MULTIPLE: a
/// background thread sends gradients (the collectives hold a lock, so they never overlap), and a
/// watchdog thread exchanges heartbeats with rank 0 twice a second. A collective that waits longer
/// than `timeout` for the others stops the whole job with a message naming the rank that did not
/// come: one whose heartbeats stopped (a stopped or unreachable process), or one that is alive but
/// has not reached the collective (stuck in computation or I/O). A process that dies is named by
/// mpirun itself, which then ends the others. `finalize()` ends MPI; a process that fails calls
/// `abort(code:)`, which ends every process of the job instead of leaving them waiting.
public final class MPIProcessGroup: ProcessGroup {
    /// This process's rank in MPI_COMM_WORLD.
    public let rank: Int
    /// The size of MPI_COMM_WORLD.
    public let worldSize: Int
    /// The thread level MPI granted (0 single, 1 funneled, 2 serialized, 3 multiple).
    public let threadLevel: Int
    /// The library file loaded.
    public let library: String
    /// "Open MPI (the library file)".
    public var name: String { "Open MPI (\(library))" }
    /// True when MPI granted at least MPI_THREAD_SERIALIZED.
    public var allowsBackgroundThread: Bool { threadLevel >= 2 }
    /// Seconds a collective may wait for the other processes before the job is stopped (0: no
    /// limit). Default: NEURONE_DISTRIBUTED_TIMEOUT, else 600. Needs MPI_THREAD_MULTIPLE.
    public var timeout: Double {
        get { state.lock(); defer { state.unlock() }; return _timeout }
        set { state.lock(); _timeout = newValue; state.unlock() }
    }
    /// The default `timeout`.
    public static let defaultTimeout = 600.0

    private let lock = NSLock()
    /// Guards the collective in progress, read by the watchdog.
    private let state = NSLock()
    private var _timeout: Double
    private var started = 0
    private var current: (sequence: Int, what: String, since: Double)?
    private var watchdog: Watchdog?
    nonisolated(unsafe) private static var instance: MPIProcessGroup?
    nonisolated(unsafe) private static var finalized = false

    /// The rank and size Open MPI's launcher gives this process in its environment
    /// (OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE), nil when it was not started by mpirun.
    public static var launch: (rank: Int, size: Int)? {
        let env = ProcessInfo.processInfo.environment
        guard let r = env["OMPI_COMM_WORLD_RANK"].flatMap(Int.init), let n = env["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init),
              n > 0, (0..<n).contains(r) else { return nil }
        return (r, n)
    }

    /// How to start a data-parallel run, for messages.
    public static let launchHelp = "start it with Open MPI's launcher: mpirun -np N neurone train … (as root add --allow-run-as-root; more processes than cores: --oversubscribe); install it with: apt-get install openmpi-bin libopenmpi-dev (docs/DISTRIBUTED.md)"

    /// The process group of this process, initialising MPI the first time. Throws when the
    /// process was not started by mpirun, when the MPI library cannot be loaded (naming it and
    /// the package to install), or when MPI_Init fails.
    public static func shared() throws -> MPIProcessGroup {
        if let g = instance { return g }
        guard !finalized else { throw DistributedError("MPI was finalised in this process; it cannot start again") }
        guard launch != nil else { throw DistributedError("this process was not started by mpirun (OMPI_COMM_WORLD_SIZE is not set): \(launchHelp)") }
        let path = ProcessInfo.processInfo.environment["NEURONE_MPI_LIBRARY"]
        var err = [CChar](repeating: 0, count: 1024)
        guard nm_mpi_load(path, &err, err.count) == 0 else {
            let why = String(cString: err)
            throw DistributedError("the MPI library could not be loaded (\(why)); install Open MPI: apt-get install openmpi-bin libopenmpi-dev, or set NEURONE_MPI_LIBRARY to the path of libmpi.so")
        }
        var provided: Int32 = 0
        let rc = nm_mpi_init(3, &provided)
        guard rc == 0 else { throw DistributedError("MPI_Init_thread failed: \(errorText(rc))") }
        var r: Int32 = 0, n: Int32 = 0
        _ = nm_mpi_rank(&r)
        _ = nm_mpi_size(&n)
        let g = MPIProcessGroup(rank: Int(r), worldSize: Int(n), threadLevel: Int(provided), library: String(cString: nm_mpi_library()))
        instance = g
        if g.threadLevel >= 3 && g.worldSize > 1 { g.watchdog = Watchdog(g) }
        return g
    }

    private init(rank: Int, worldSize: Int, threadLevel: Int, library: String) {
        self.rank = rank
        self.worldSize = worldSize
        self.threadLevel = threadLevel
        self.library = library
        let env = ProcessInfo.processInfo.environment["NEURONE_DISTRIBUTED_TIMEOUT"].flatMap(Double.init)
        _timeout = env.map { $0.isFinite && $0 >= 0 ? $0 : MPIProcessGroup.defaultTimeout } ?? MPIProcessGroup.defaultTimeout
    }

    /// The number of collectives started and the one in progress (for the watchdog).
    fileprivate func snapshot() -> (started: Int, current: (sequence: Int, what: String, since: Double)?, timeout: Double) {
        state.lock(); defer { state.unlock() }
        return (started, current, _timeout)
    }

    static func errorText(_ code: Int32) -> String {
        var out = [CChar](repeating: 0, count: 1024)
        nm_mpi_error_string(code, &out, out.count)
        return String(cString: out)
    }

    private func call(_ what: String, _ body: () -> Int32) throws {
        lock.lock()
        state.lock()
        started += 1
        current = (started, what, ProcessInfo.processInfo.systemUptime)
        state.unlock()
        let rc = body()
        state.lock()
        current = nil
        state.unlock()
        lock.unlock()
        if rc != 0 { throw DistributedError("rank \(rank): \(what) failed: \(MPIProcessGroup.errorText(rc))") }
    }

    /// MPI_Allreduce in place over MPI_COMM_WORLD (see `ProcessGroup.allReduce`).
    public func allReduce(_ buffer: UnsafeMutableRawPointer, count: Int, dtype: DType, op: ReduceOperation) throws {
        let t: Int32
        switch dtype {
        case .float32: t = Int32(NM_MPI_FLOAT32.rawValue)
        case .float64: t = Int32(NM_MPI_FLOAT64.rawValue)
        case .int64: t = Int32(NM_MPI_INT64.rawValue)
        default: fail("allReduce: \(dtype) is not reduced; use float32, float64 or int64")
        }
        let o: Int32 = op == .sum ? Int32(NM_MPI_SUM.rawValue) : op == .max ? Int32(NM_MPI_MAX.rawValue) : Int32(NM_MPI_MIN.rawValue)
        try call("MPI_Allreduce of \(count) \(dtype) values") { nm_mpi_allreduce(buffer, Int64(count), t, o) }
    }

    /// MPI_Bcast of bytes from `root` (see `ProcessGroup.broadcast`).
    public func broadcast(_ buffer: UnsafeMutableRawPointer, byteCount: Int, root: Int) throws {
        check((0..<worldSize).contains(root), "broadcast: root \(root) is not a rank of 0..<\(worldSize)")
        try call("MPI_Bcast of \(byteCount) bytes from rank \(root)") { nm_mpi_bcast(buffer, Int64(byteCount), Int32(root)) }
    }

    /// MPI_Barrier.
    public func barrier() throws { try call("MPI_Barrier") { nm_mpi_barrier() } }

    /// Seconds on MPI's clock (MPI_Wtime).
    public func time() -> Double { nm_mpi_wtime() }

    /// Ends MPI in this process (MPI_Finalize); every process calls it once, at the end.
    public func finalize() {
        guard !MPIProcessGroup.finalized else { return }
        // the watchdog stops sending; after the barrier no heartbeat is on its way
        watchdog?.stop()
        try? barrier()
        watchdog?.cancelReceive()
        watchdog = nil
        lock.lock()
        defer { lock.unlock() }
        MPIProcessGroup.finalized = true
        MPIProcessGroup.instance = nil
        _ = nm_mpi_finalize()
    }

    /// Ends every process of the job (MPI_Abort) with exit status `code`: what a process that
    /// failed does, so that the others do not wait for it forever.
    public func abort(code: Int32) -> Never {
        _ = nm_mpi_abort(code)
        exit(code)
    }
}

/// The heartbeats of an `MPIProcessGroup` and its collective timeout (see the type's
/// documentation). Every rank sends rank 0 a heartbeat twice a second; rank 0 sends every rank
/// one, carrying the rank it sees lagging. A heartbeat is six int64: the sender's rank, the
/// collectives it has started, whether it is in one, and (from rank 0) the lagging rank or −1,
/// why it lags (1: silent, 2: behind) and how many collectives it has started.
final class Watchdog: @unchecked Sendable {
    static let interval = 0.5
    static let tag: Int32 = 7_341
    /// After this long without a heartbeat a rank counts as silent.
    static let silentAfter = 3.0
    unowned let group: MPIProcessGroup
    let rank: Int, size: Int
    private var lastHeard: [Double]
    private var started: [Int]
    private var rootLaggard: (rank: Int, kind: Int, started: Int) = (-1, 0, 0)
    /// When the watchdog last ran, and when it found that this process itself had been stopped
    /// (a gap between its ticks): time spent stopped is nobody else's delay.
    private var lastTick: Double
    private var resumedAt = -Double.infinity
    private let receiveBuffer = UnsafeMutablePointer<Int64>.allocate(capacity: 6)
    private var receiveRequest: UnsafeMutableRawPointer?
    private var sendBuffers: [UnsafeMutablePointer<Int64>]
    private var sendRequests: [UnsafeMutableRawPointer?]
    private let condition = NSCondition()
    private var stopping = false, stopped = false

    init(_ group: MPIProcessGroup) {
        self.group = group
        rank = group.rank
        size = group.worldSize
        let now = ProcessInfo.processInfo.systemUptime
        lastHeard = Array(repeating: now, count: size)
        lastTick = now
        started = Array(repeating: 0, count: size)
        sendBuffers = (0..<size).map { _ in UnsafeMutablePointer<Int64>.allocate(capacity: 6) }
        sendRequests = Array(repeating: nil, count: size)
        post()
        let t = Thread { [self] in loop() }
        t.name = "neurone-mpi-watchdog"
        t.start()
    }

    private func post() {
        _ = nm_mpi_irecv(receiveBuffer, 48, -1, Watchdog.tag, &receiveRequest)
    }

    private func loop() {
        while true {
            condition.lock()
            if stopping { stopped = true; condition.broadcast(); condition.unlock(); return }
            condition.unlock()
            tick()
            condition.lock()
            if !stopping { _ = condition.wait(until: Date(timeIntervalSinceNow: Watchdog.interval)) }
            condition.unlock()
        }
    }

    /// Stops the thread (no heartbeat is sent after this returns).
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    /// Withdraws the pending receive (after every rank has stopped sending).
    func cancelReceive() {
        if receiveRequest != nil { _ = nm_mpi_cancel_wait(&receiveRequest) }
    }

    private func tick() {
        let now = ProcessInfo.processInfo.systemUptime
        let (mine, current, timeout) = group.snapshot()
        if now - lastTick > Watchdog.silentAfter {
            // this process was stopped (SIGSTOP, a suspended machine): what it knows is stale
            resumedAt = now
            for r in lastHeard.indices { lastHeard[r] = now }
        }
        lastTick = now
        // everything that arrived
        while true {
            var done: Int32 = 0, source: Int32 = 0
            guard nm_mpi_test(&receiveRequest, &done, &source) == 0, done != 0 else { break }
            let from = Int(receiveBuffer[0])
            if (0..<size).contains(from) {
                lastHeard[from] = now
                started[from] = Int(receiveBuffer[1])
                if from == 0 { rootLaggard = (Int(receiveBuffer[3]), Int(receiveBuffer[4]), Int(receiveBuffer[5])) }
            }
            post()
        }
        let lag = rank == 0 ? laggard(now: now, mine: mine) : (rank: -1, kind: 0, started: 0)
        for dest in rank == 0 ? Array(1..<size) : [0] {
            if sendRequests[dest] != nil {
                var done: Int32 = 0, source: Int32 = 0
                _ = nm_mpi_test(&sendRequests[dest], &done, &source)
                if done == 0 { continue }  // the last one has not left: that rank is not receiving
            }
            let b = sendBuffers[dest]
            (b[0], b[1], b[2], b[3], b[4], b[5]) = (Int64(rank), Int64(mine), current == nil ? 0 : 1, Int64(lag.rank), Int64(lag.kind), Int64(lag.started))
            _ = nm_mpi_isend(b, 48, Int32(dest), Watchdog.tag, &sendRequests[dest])
        }
        if let c = current, timeout > 0, now - Swift.max(c.since, resumedAt) > timeout {
            let waited = Int((now - c.since).rounded())
            let text = "neurone: rank \(rank) of \(size): \(c.what) (collective #\(c.sequence)) has waited \(waited) s for the other processes; \(culprit(now: now, sequence: c.sequence)); stopping the job (the limit is \(Int(timeout)) s: --timeout)\n"
            FileHandle.standardError.write(Data(text.utf8))
            _ = nm_mpi_abort(3)
            exit(3)
        }
    }

    /// On rank 0: the first rank that is silent, else the first that has started fewer collectives.
    private func laggard(now: Double, mine: Int) -> (rank: Int, kind: Int, started: Int) {
        if let r = (1..<size).first(where: { now - lastHeard[$0] > Watchdog.silentAfter }) { return (r, 1, started[r]) }
        if let r = (1..<size).first(where: { started[$0] < mine }) { return (r, 2, started[r]) }
        return (-1, 0, 0)
    }

    private func culprit(now: Double, sequence: Int) -> String {
        func silent(_ r: Int) -> String { "rank \(r) has sent no heartbeat for \(Int(now - lastHeard[r])) s (it is stopped, hung in the system, or unreachable)" }
        func behind(_ r: Int, _ n: Int) -> String { "rank \(r) is alive but has not reached it (it has started \(n) collectives): it is stuck in computation or I/O" }
        if rank == 0 {
            let lag = laggard(now: now, mine: sequence)
            return lag.rank < 0 ? "every rank is alive and has reached it (the collectives do not match)" : lag.kind == 1 ? silent(lag.rank) : behind(lag.rank, lag.started)
        }
        if now - lastHeard[0] > Watchdog.silentAfter { return silent(0) }
        if rootLaggard.rank == rank { return "rank 0 heard nothing from this process for a while: it was stopped or suspended" }
        if started[0] < sequence { return behind(0, started[0]) }
        switch rootLaggard.kind {
        case 1: return "rank \(rootLaggard.rank) has sent rank 0 no heartbeat (it is stopped, hung in the system, or unreachable)"
        case 2: return behind(rootLaggard.rank, rootLaggard.started)
        default: return "rank 0 sees every rank alive (the collectives do not match)"
        }
    }
}

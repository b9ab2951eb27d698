import CNeuroneMPI
import Foundation
import NeuroneDevice

/// The process group of a program started by Open MPI's `mpirun`: MPI_COMM_WORLD, through the
/// MPI library found at run time (libmpi.so.40 from Debian's `libopenmpi3`, or the file
/// `NEURONE_MPI_LIBRARY` names), so nothing about MPI is needed to build Neurone.
///
/// MPI is initialised once per process (`shared()`), asking for MPI_THREAD_SERIALIZED so that a
/// background thread may send gradients; every call holds a lock, so two threads never call MPI
/// at once. `finalize()` ends it; a process that fails calls `abort(code:)`, which ends every
/// process of the job instead of leaving them waiting.
public final class MPIProcessGroup: ProcessGroup {
    public let rank: Int
    public let worldSize: Int
    /// The thread level MPI granted (0 single, 1 funneled, 2 serialized, 3 multiple).
    public let threadLevel: Int
    /// The library file loaded.
    public let library: String
    public var name: String { "Open MPI (\(library))" }
    public var allowsBackgroundThread: Bool { threadLevel >= 2 }

    private let lock = NSLock()
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
        let rc = nm_mpi_init(&provided)
        guard rc == 0 else { throw DistributedError("MPI_Init_thread failed: \(errorText(rc))") }
        var r: Int32 = 0, n: Int32 = 0
        _ = nm_mpi_rank(&r)
        _ = nm_mpi_size(&n)
        let g = MPIProcessGroup(rank: Int(r), worldSize: Int(n), threadLevel: Int(provided), library: String(cString: nm_mpi_library()))
        instance = g
        return g
    }

    private init(rank: Int, worldSize: Int, threadLevel: Int, library: String) {
        self.rank = rank
        self.worldSize = worldSize
        self.threadLevel = threadLevel
        self.library = library
    }

    static func errorText(_ code: Int32) -> String {
        var out = [CChar](repeating: 0, count: 1024)
        nm_mpi_error_string(code, &out, out.count)
        return String(cString: out)
    }

    private func call(_ what: String, _ body: () -> Int32) throws {
        lock.lock()
        let rc = body()
        lock.unlock()
        if rc != 0 { throw DistributedError("rank \(rank): \(what) failed: \(MPIProcessGroup.errorText(rc))") }
    }

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

    public func broadcast(_ buffer: UnsafeMutableRawPointer, byteCount: Int, root: Int) throws {
        check((0..<worldSize).contains(root), "broadcast: root \(root) is not a rank of 0..<\(worldSize)")
        try call("MPI_Bcast of \(byteCount) bytes from rank \(root)") { nm_mpi_bcast(buffer, Int64(byteCount), Int32(root)) }
    }

    public func barrier() throws { try call("MPI_Barrier") { nm_mpi_barrier() } }

    /// Seconds on MPI's clock (MPI_Wtime).
    public func time() -> Double { nm_mpi_wtime() }

    /// Ends MPI in this process (MPI_Finalize); every process calls it once, at the end.
    public func finalize() {
        lock.lock()
        defer { lock.unlock() }
        guard !MPIProcessGroup.finalized else { return }
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

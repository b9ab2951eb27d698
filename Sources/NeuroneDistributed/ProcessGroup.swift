import NeuroneDevice
import NeuroneTensor

/// How `ProcessGroup.allReduce` combines the processes' values (PyTorch's `dist.ReduceOp`).
public enum ReduceOperation: Sendable {
    case sum, max, min
}

/// The processes of a data-parallel run and their collective operations, like PyTorch's
/// `torch.distributed` process group. MPI (`MPIProcessGroup`) is the first implementation; the
/// training code uses only this interface, so another engine (NCCL beside a CUDA backend) can
/// take its place.
///
/// Every process must make the same collective calls in the same order (as in MPI and PyTorch);
/// each call returns when every process has made it. Buffers are host memory.
public protocol ProcessGroup: AnyObject {
    /// This process's number, 0 ..< `worldSize`. Rank 0 writes the files of a run.
    var rank: Int { get }
    /// The number of processes.
    var worldSize: Int { get }
    /// The engine, for messages ("Open MPI (libmpi.so.40)").
    var name: String { get }
    /// Whether the collectives may be called from a thread other than the one that made the
    /// group (never two at once): then gradients are sent from a background thread while the
    /// backward pass goes on.
    var allowsBackgroundThread: Bool { get }
    /// Combines `count` elements of `dtype` at `buffer` over all processes, in place: afterwards
    /// every process holds the same result. float32, float64 and int64.
    func allReduce(_ buffer: UnsafeMutableRawPointer, count: Int, dtype: DType, op: ReduceOperation) throws
    /// Copies `byteCount` bytes at `buffer` from process `root` to every other process.
    func broadcast(_ buffer: UnsafeMutableRawPointer, byteCount: Int, root: Int) throws
    /// Returns when every process has called it.
    func barrier() throws
}

/// A failure of a collective operation or of the processes' agreement (different models,
/// different settings), naming the rank that reports it.
public struct DistributedError: Error, CustomStringConvertible {
    /// What went wrong, and what to do.
    public let message: String
    /// A new error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

extension ProcessGroup {
    /// True on rank 0, the process that prints and writes files.
    public var isMain: Bool { rank == 0 }

    /// `allReduce` of a contiguous tensor in place (float32, float64 or int64).
    public func allReduce(_ tensor: Tensor, op: ReduceOperation = .sum) throws {
        check(tensor.isContiguous, "allReduce: the tensor must be contiguous (shape \(describeShape(tensor.shape)))")
        guard tensor.count > 0 else { return }
        try tensor.modifyHostBytes { try allReduce($0, count: tensor.count, dtype: tensor.dtype, op: op) }
    }

    /// `broadcast` of a contiguous tensor in place: every process ends with `root`'s values.
    public func broadcast(_ tensor: Tensor, root: Int = 0) throws {
        check(tensor.isContiguous, "broadcast: the tensor must be contiguous (shape \(describeShape(tensor.shape)))")
        guard tensor.count > 0 else { return }
        try tensor.modifyHostBytes { try broadcast($0, byteCount: tensor.count * tensor.dtype.byteSize, root: root) }
    }

    /// Numbers combined over all processes (metrics: loss sums, counts).
    public func allReduce(_ values: [Double], op: ReduceOperation = .sum) throws -> [Double] {
        var v = values
        if !v.isEmpty { try v.withUnsafeMutableBytes { try allReduce($0.baseAddress!, count: values.count, dtype: .float64, op: op) } }
        return v
    }

    /// `root`'s bytes, on every process (of any length: the length goes first).
    public func broadcast(_ bytes: [UInt8], root: Int = 0) throws -> [UInt8] {
        var length = [Int64(bytes.count)]
        try length.withUnsafeMutableBytes { try broadcast($0.baseAddress!, byteCount: 8, root: root) }
        guard length[0] >= 0, length[0] <= Int64(Int32.max) else { throw DistributedError("broadcast: rank \(root) sent a length of \(length[0]) bytes") }
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length[0]))
        if !out.isEmpty { try out.withUnsafeMutableBytes { try broadcast($0.baseAddress!, byteCount: $0.count, root: root) } }
        return out
    }
}

import NeuroneDevice

/// An n-dimensional array with reverse-mode automatic differentiation.
///
/// A tensor is a view — shape, strides (in elements) and an offset — onto a shared `Storage`.
/// Views (`reshape`, `permute`, slicing, `expand`…) share storage and never copy; every other
/// op returns a new contiguous, row-major tensor. Tensors have reference semantics, like
/// PyTorch's: `grad` is filled in place by `backward()`.
///
/// A tensor lives on one `Device` (`device`; `Device.default` unless a creation function is
/// given another): ops put their results on their inputs' device, and `to(device:)` copies.
///
/// Errors: shape mismatches, out-of-range dims or indices, unsupported dtypes and tensors of two
/// devices in one op are programming errors and stop the program with a message naming the op
/// and the shapes or devices (`precondition`). Functions that read user data (files) `throw`
/// instead.
public final class Tensor {
    let storage: Storage
    /// The size of each dimension.
    public let shape: [Int]
    /// Elements to step in storage for one step along each dimension.
    public let strides: [Int]
    /// Offset of element [0, 0, …] in storage, in elements.
    let offset: Int
    /// The element type.
    public let dtype: DType

    package var _requiresGrad = false
    /// The accumulated gradient, filled by `backward()` for leaves that require grad.
    public var grad: Tensor?
    /// The op that produced this tensor (nil for leaves).
    var gradFn: Node?
    var retainsGrad = false
    /// Called after `backward` has put this leaf's final gradient into `grad`
    /// (`registerPostAccumulateGradHook`).
    var postAccumulateGradHooks: [(id: Int, hook: (Tensor) -> Void)] = []

    init(storage: Storage, shape: [Int], strides: [Int], offset: Int, dtype: DType) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.dtype = dtype
    }

    /// A new, uninitialised contiguous tensor in `device`'s memory.
    package static func empty(_ shape: [Int], dtype: DType, device: Device) -> Tensor {
        let n = shapeCount(shape)
        return Tensor(storage: device.allocate(byteCount: n * dtype.byteSize, zeroed: false), shape: shape,
                      strides: contiguousStrides(shape), offset: 0, dtype: dtype)
    }

    // MARK: shape facts

    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { shapeCount(shape) }
    /// The device holding the data.
    public var device: Device { storage.device }
    /// True when the elements are laid out row-major with no gaps.
    public var isContiguous: Bool {
        var expected = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] != 1 {
            if strides[d] != expected { return false }
            expected *= shape[d]
        }
        return true
    }

    /// Size of dimension `d` (negative counts from the end).
    public func size(_ d: Int) -> Int { shape[normalizeDim(d, rank, "size")] }

    /// Element [0, 0, …] as a place in the device's memory, for the backend's kernels.
    package var buffer: DeviceBuffer { DeviceBuffer(storage: storage, byteOffset: offset * dtype.byteSize) }

    /// The backend of the device holding the data, which every op on it calls.
    package var backend: Backend { storage.device.backend }

    // MARK: autograd state

    /// Whether gradients flow to this tensor. Only floating-point leaves can be set.
    public var requiresGrad: Bool {
        get { _requiresGrad }
        set {
            check(gradFn == nil, "requiresGrad can only be changed on leaf tensors; use detach() to get a leaf")
            check(!newValue || dtype.isFloatingPoint,
                         "requiresGrad: only floating-point tensors can require gradients, got \(dtype)")
            _requiresGrad = newValue
        }
    }

    /// Sets `requiresGrad` and returns self, for chaining: `Tensor.randn([3]).requiringGrad()`.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    /// True for tensors created by the user rather than by an op on tensors that require grad.
    public var isLeaf: Bool { gradFn == nil }

    /// The name of the op that produced this tensor, if it is part of a graph.
    public var gradFnName: String? { gradFn?.name }

    /// Keep `grad` for this non-leaf tensor during `backward()`.
    public func retainGrad() { retainsGrad = true }
}

// MARK: shape helpers

@inline(__always) func shapeCount(_ shape: [Int]) -> Int {
    var n = 1
    for s in shape { n *= s }
    return n
}

func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[d] = acc
        acc *= max(shape[d], 1)
    }
    return strides
}

/// Maps a possibly negative dim into 0..<rank, or stops with a message naming the op.
package func normalizeDim(_ d: Int, _ rank: Int, _ op: String) -> Int {
    let r = max(rank, 1)
    check(d >= -r && d < r, "\(op): dimension out of range (expected to be in range of [\(-r), \(r - 1)], but got \(d))")
    return d < 0 ? d + r : d
}

package func describeShape(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

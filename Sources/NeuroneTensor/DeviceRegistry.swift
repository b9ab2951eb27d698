import NeuroneDevice
import NeuroneCPU

extension Device {
    /// The backend that computes on this device's memory: the registry of backends, one line
    /// each. The tensor layer reaches a device only through it.
    package var backend: Backend {
        switch self {
        case .cpu: return CPUBackend.shared
        }
    }
}

extension Device {
    /// The host threads this device's kernels use (on the CPU: `NEURONE_NUM_THREADS` or all cores).
    public var threadCount: Int {
        switch self {
        case .cpu: return Threading.threadCount
        }
    }
}

extension Tensor {
    /// A new contiguous tensor on the CPU whose values `fill` writes from the host, in row-major
    /// order, into the uninitialised buffer it is given (count × dtype.byteSize bytes): the explicit
    /// upload through which file parsers hand their values to a device.
    package static func fromHost(_ shape: [Int], dtype: DType, _ fill: (UnsafeMutableRawPointer) -> Void) -> Tensor {
        let t = Tensor.empty(shape, dtype: dtype)
        fill(t.data)
        return t
    }

    /// Whether this CPU runs the packed linear kernels' fast path (AVX2 and FMA).
    public static var packedLinearAvailable: Bool { CPUBackend.packedLinearAvailable }

    /// Where float32 linear products on the CPU take Neurone's own kernels; process-wide, to
    /// change only while no product runs (`neurone bench linear` switches them to time both paths
    /// in one run).
    public static var linearKernels: LinearKernelSettings {
        get { CPUBackend.linearKernels }
        set { CPUBackend.linearKernels = newValue }
    }
}

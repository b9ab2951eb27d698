import NeuroneDevice
import NeuroneCPU
import NeuroneReference
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Device {
    /// The backend that computes on this device's memory. The tensor layer reaches a device only
    /// through it.
    package var backend: Backend {
        switch self {
        case .cpu: return Device.hostBackend
        }
    }

    /// The backends that compute on host memory, by the name NEURONE_DEVICE selects them with:
    /// the registry, one line per backend.
    package static let hostBackends: [(name: String, backend: Backend)] = [
        ("cpu", CPUBackend.shared),
        ("reference", ReferenceBackend.shared),
    ]

    /// The host backend in use: NEURONE_DEVICE's (cpu when unset); an unknown name is reported
    /// once on stderr and the CPU's is used.
    package static let hostBackendName: String = {
        guard let raw = getenv("NEURONE_DEVICE") else { return "cpu" }
        let name = String(cString: raw)
        if hostBackends.contains(where: { $0.name == name }) { return name }
        fputs("neurone: NEURONE_DEVICE=\(name) names no backend (expected \(hostBackends.map { $0.name }.joined(separator: " or "))); using cpu\n", stderr)
        return "cpu"
    }()

    private static let hostBackend: Backend = hostBackends.first { $0.name == hostBackendName }!.backend

    /// The name of the backend that computes on this device (`cpu`, or `reference` with
    /// NEURONE_DEVICE=reference).
    public var backendName: String {
        switch self {
        case .cpu: return Device.hostBackendName
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

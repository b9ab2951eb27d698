import NeuroneDevice
import NeuroneCPU
import NeuroneReference
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Device {
    /// Every device this build computes on — the registry, one line per backend target (each
    /// target declares its own `Device`; the tensor layer reaches devices only through it).
    public static let registered: [Device] = [
        .cpu,
        .reference,
    ]

    /// The registered device called `name` (`cpu`, `reference`), or nil.
    public init?(named name: String) {
        guard let d = Device.registered.first(where: { $0.name == name }) else { return nil }
        self = d
    }

    /// Where tensors go when no device is given: the one NEURONE_DEVICE names (cpu when unset).
    /// An unknown name is reported once on stderr and the CPU is used.
    public static let `default`: Device = {
        guard let raw = getenv("NEURONE_DEVICE") else { return .cpu }
        let name = String(cString: raw)
        if let d = Device(named: name) { return d }
        fputs("neurone: NEURONE_DEVICE=\(name) names no device (expected \(registered.map { $0.name }.joined(separator: " or "))); using cpu\n", stderr)
        return .cpu
    }()
}

extension Tensor {
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

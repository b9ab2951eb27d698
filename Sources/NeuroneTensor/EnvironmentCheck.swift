import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The NEURONE_* environment variables with a fixed set of values, checked together: the
/// library reads each where it is first needed and falls back to its default on a value it does
/// not know (saying so on stderr, or silently for the older ones); a program such as `neurone`
/// checks them first and stops with these messages instead.
public enum NeuroneEnvironment {
    /// One message per variable whose value is not one it accepts (variable, value, what it accepts).
    public static func problems(_ env: [String: String]? = nil) -> [String] {
        func value(_ name: String) -> String? {
            if let e = env { return e[name] }
            return getenv(name).map { String(cString: $0) }
        }
        var out: [String] = []
        func expect(_ name: String, _ allowed: [String], _ what: String) {
            guard let v = value(name), !allowed.contains(v.lowercased()) else { return }
            out.append("\(name)=\(v) is not \(what)")
        }
        expect("NEURONE_KERNEL", ["generic", "avx2", "avx512"], "one of generic, avx2, avx512 (the widest vector instructions the C kernels may use)")
        expect("NEURONE_GEMM", Array(GemmSetting.values.keys), "\(GemmSetting.accepted) (which path matrix products take)")
        expect("NEURONE_LINEAR", ["gemm", "forward"], "gemm or forward (unset: Neurone's packed Linear kernels everywhere)")
        expect("NEURONE_BLAS_CORE", ["", "keep"], "keep (unset: an OpenBLAS older than the CPU is told its core)")
        if let v = value("NEURONE_NUM_THREADS"), !(Int(v).map { (1...4096).contains($0) } ?? false) {
            out.append("NEURONE_NUM_THREADS=\(v) is not a whole number of threads in 1...4096")
        }
        if let v = value("NEURONE_DEVICE"), Device(named: v) == nil {
            out.append("NEURONE_DEVICE=\(v) names no device (expected \(Device.registered.map { $0.name }.joined(separator: " or ")))")
        }
        return out
    }
}

import NeuroneDevice
import CNeuroneKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which implementation runs matrix products.
public enum GemmBackend: String, CaseIterable, Sendable {
    /// The system BLAS (OpenBLAS on Linux, Accelerate on macOS), found at run time.
    case blas
    /// Neurone's own blocked, vectorised kernel (CNeuroneKernels/gemm.c).
    case builtin
}

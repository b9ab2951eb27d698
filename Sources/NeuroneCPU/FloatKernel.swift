import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Float and Double math used by the elementwise kernels.
protocol FloatKernel: BinaryFloatingPoint & KernelScalar {
    static func fexp(_ x: Self) -> Self
    static func flog(_ x: Self) -> Self
    static func flog1p(_ x: Self) -> Self
    static func fsin(_ x: Self) -> Self
    static func fcos(_ x: Self) -> Self
    static func ftanh(_ x: Self) -> Self
    static func fpow(_ x: Self, _ y: Self) -> Self
    static func ferf(_ x: Self) -> Self
}

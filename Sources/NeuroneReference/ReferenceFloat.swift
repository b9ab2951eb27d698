import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library's functions in each float precision.
protocol ReferenceFloat: BinaryFloatingPoint {
    static func rexp(_ x: Self) -> Self
    static func rlog(_ x: Self) -> Self
    static func rlog1p(_ x: Self) -> Self
    static func rsin(_ x: Self) -> Self
    static func rcos(_ x: Self) -> Self
    static func rtanh(_ x: Self) -> Self
    static func rerf(_ x: Self) -> Self
}

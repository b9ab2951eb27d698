import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The storage types of the five dtypes (bool is stored as UInt8 0/1), with the conversions
/// the kernels need. Conversions from Double saturate and map NaN to 0 for integer types,
/// so no input can trap.
protocol KernelScalar: Comparable {
    init(kernelDouble: Double)
    var kernelDouble: Double { get }
    static var zeroValue: Self { get }
}

extension Float: KernelScalar {
    @inline(__always) init(kernelDouble v: Double) { self = Float(v) }
    @inline(__always) var kernelDouble: Double { Double(self) }
    static var zeroValue: Float { 0 }
}
extension Double: KernelScalar {
    @inline(__always) init(kernelDouble v: Double) { self = v }
    @inline(__always) var kernelDouble: Double { self }
    static var zeroValue: Double { 0 }
}
extension Int32: KernelScalar {
    @inline(__always) init(kernelDouble v: Double) {
        if v.isNaN { self = 0 } else if v >= 2147483647 { self = .max } else if v <= -2147483648 { self = .min } else { self = Int32(v) }
    }
    @inline(__always) var kernelDouble: Double { Double(self) }
    static var zeroValue: Int32 { 0 }
}
extension Int64: KernelScalar {
    @inline(__always) init(kernelDouble v: Double) {
        if v.isNaN { self = 0 } else if v >= 9.2233720368547758e18 { self = .max } else if v <= -9.2233720368547758e18 { self = .min } else { self = Int64(v) }
    }
    @inline(__always) var kernelDouble: Double { Double(self) }
    static var zeroValue: Int64 { 0 }
}
extension UInt8: KernelScalar {
    @inline(__always) init(kernelDouble v: Double) { self = (v != 0) ? 1 : 0 }
    @inline(__always) var kernelDouble: Double { Double(self) }
    static var zeroValue: UInt8 { 0 }
}

extension Float: FloatKernel {
    @inline(__always) static func fexp(_ x: Float) -> Float { expf(x) }
    @inline(__always) static func flog(_ x: Float) -> Float { logf(x) }
    @inline(__always) static func flog1p(_ x: Float) -> Float { log1pf(x) }
    @inline(__always) static func fsin(_ x: Float) -> Float { sinf(x) }
    @inline(__always) static func fcos(_ x: Float) -> Float { cosf(x) }
    @inline(__always) static func ftanh(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) static func fpow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    @inline(__always) static func ferf(_ x: Float) -> Float { erff(x) }
}
extension Double: FloatKernel {
    @inline(__always) static func fexp(_ x: Double) -> Double { exp(x) }
    @inline(__always) static func flog(_ x: Double) -> Double { log(x) }
    @inline(__always) static func flog1p(_ x: Double) -> Double { log1p(x) }
    @inline(__always) static func fsin(_ x: Double) -> Double { sin(x) }
    @inline(__always) static func fcos(_ x: Double) -> Double { cos(x) }
    @inline(__always) static func ftanh(_ x: Double) -> Double { tanh(x) }
    @inline(__always) static func fpow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
    @inline(__always) static func ferf(_ x: Double) -> Double { erf(x) }
}

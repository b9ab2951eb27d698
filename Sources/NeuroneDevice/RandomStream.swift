#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The pseudo-random stream behind `Generator`, a value a backend draws from when it fills a
/// buffer (`Backend.randomFill`), so the tensor layer never writes random values into device
/// memory itself.
///
/// Algorithm: the 64-bit seed is expanded by SplitMix64 into the 256-bit state of
/// xoshiro256** (Blackman & Vigna, 2018), which yields a stream of UInt64 values.
/// - uniform float32 in [0, 1): the top 24 bits × 2⁻²⁴; float64: the top 53 bits × 2⁻⁵³.
/// - normal: Box–Muller in float64 on pairs (u₁, u₂) of 53-bit uniforms,
///   z₀ = √(−2 ln(1 − u₁)) cos(2π u₂), z₁ = √(−2 ln(1 − u₁)) sin(2π u₂), used in that order.
/// - integers in [0, bound): rejection sampling on the UInt64 stream (no modulo bias).
package struct RandomStream {
    package var s0: UInt64 = 0, s1: UInt64 = 0, s2: UInt64 = 0, s3: UInt64 = 0
    /// The second normal of the last Box–Muller pair, not yet used.
    package var spareNormal: Double?

    /// The start of the stream for `seed`.
    package init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// The next 64 random bits (xoshiro256**).
    @inline(__always)
    package mutating func nextUInt64() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always) package mutating func nextFloat() -> Float { Float(nextUInt64() >> 40) * 0x1p-24 }
    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always) package mutating func nextDouble() -> Double { Double(nextUInt64() >> 11) * 0x1p-53 }

    /// A standard normal sample (Box–Muller, see the type's documentation).
    package mutating func nextNormal() -> Double {
        if let z = spareNormal {
            spareNormal = nil
            return z
        }
        let u1 = nextDouble(), u2 = nextDouble()
        let r = (-2 * log(1 - u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        spareNormal = r * sin(theta)
        return r * cos(theta)
    }

    /// Uniform integer in 0..<bound (bound > 0), unbiased by rejection.
    package mutating func nextInt(below bound: UInt64) -> UInt64 {
        check(bound > 0, "random integer: the range is empty")
        let threshold = (0 &- bound) % bound
        while true {
            let r = nextUInt64()
            if r >= threshold { return r % bound }
        }
    }
}

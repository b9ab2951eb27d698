import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seedable pseudo-random generator whose output is the same on every platform and for every
/// thread count (numbers are drawn sequentially, in row-major order of the tensor being filled).
///
/// Algorithm: the 64-bit seed is expanded by SplitMix64 into the 256-bit state of
/// xoshiro256** (Blackman & Vigna, 2018), which yields a stream of UInt64 values.
/// - uniform float32 in [0, 1): the top 24 bits × 2⁻²⁴; float64: the top 53 bits × 2⁻⁵³.
/// - normal: Box–Muller in float64 on pairs (u₁, u₂) of 53-bit uniforms,
///   z₀ = √(−2 ln(1 − u₁)) cos(2π u₂), z₁ = √(−2 ln(1 − u₁)) sin(2π u₂), used in that order,
///   then rounded to the tensor's dtype.
/// - integers in [low, high): rejection sampling on the UInt64 stream (no modulo bias).
public final class Generator {
    private var s0: UInt64 = 0, s1: UInt64 = 0, s2: UInt64 = 0, s3: UInt64 = 0
    private var spareNormal: Double?
    /// The seed this generator was last seeded with.
    public private(set) var seed: UInt64 = 0

    public init(seed: UInt64) { manualSeed(seed) }

    /// Resets the generator to the start of the stream for `seed`.
    public func manualSeed(_ seed: UInt64) {
        self.seed = seed
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
        spareNormal = nil
    }

    /// The next 64 random bits (xoshiro256**).
    @inline(__always)
    public func nextUInt64() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The generator's full state: the four xoshiro256** words and the spare normal of Box–Muller.
    public struct State: Equatable, Sendable {
        /// s0, s1, s2, s3.
        public var words: [UInt64]
        /// The second normal of the last Box–Muller pair, not yet used.
        public var spareNormal: Double?
        /// A state from its parts.
        public init(words: [UInt64], spareNormal: Double?) { self.words = words; self.spareNormal = spareNormal }
    }

    /// The state, to save and restore a stream exactly where it was (checkpoints, `--resume`).
    public var state: State {
        get { State(words: [s0, s1, s2, s3], spareNormal: spareNormal) }
        set {
            check(newValue.words.count == 4, "Generator.state: 4 words expected, got \(newValue.words.count)")
            s0 = newValue.words[0]; s1 = newValue.words[1]; s2 = newValue.words[2]; s3 = newValue.words[3]
            spareNormal = newValue.spareNormal
        }
    }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always) public func nextFloat() -> Float { Float(nextUInt64() >> 40) * 0x1p-24 }
    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always) public func nextDouble() -> Double { Double(nextUInt64() >> 11) * 0x1p-53 }

    /// A standard normal sample (Box–Muller, see the type's documentation).
    public func nextNormal() -> Double {
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
    public func nextInt(below bound: UInt64) -> UInt64 {
        check(bound > 0, "random integer: the range is empty")
        let threshold = (0 &- bound) % bound
        while true {
            let r = nextUInt64()
            if r >= threshold { return r % bound }
        }
    }

    /// The generator used when none is passed. Seeded with 0 at start-up.
    nonisolated(unsafe) public static var `default` = Generator(seed: 0)
}

/// Seeds the default generator (like `torch.manual_seed`).
public func manualSeed(_ seed: UInt64) { Generator.default.manualSeed(seed) }

extension Tensor {
    /// 1/keep with probability `keep`, else 0, in one pass over the generator's stream (the same
    /// draws, in the same order, as `rand(shape) .< keep`).
    package static func dropoutMask(_ shape: [Int], keep: Double, dtype: DType, generator: Generator?) -> Tensor {
        let g = generator ?? Generator.default
        let out = Tensor.empty(shape, dtype: dtype)
        let n = out.count
        if dtype == .float32 {
            let p = out.data.assumingMemoryBound(to: Float.self)
            let k = Float(keep), scale = Float(1 / keep)
            for i in 0..<n { p[i] = g.nextFloat() < k ? scale : 0 }
        } else {
            check(dtype == .float64, "dropout: dtype \(dtype) is not supported (float32 or float64 expected)")
            let p = out.data.assumingMemoryBound(to: Double.self)
            let scale = 1 / keep
            for i in 0..<n { p[i] = g.nextDouble() < keep ? scale : 0 }
        }
        return out
    }
}

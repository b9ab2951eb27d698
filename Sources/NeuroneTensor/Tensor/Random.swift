import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seedable pseudo-random generator whose output is the same on every platform and for every
/// thread count (numbers are drawn sequentially, in row-major order of the tensor being filled).
///
/// Algorithm (`RandomStream`): the 64-bit seed is expanded by SplitMix64 into the 256-bit state of
/// xoshiro256** (Blackman & Vigna, 2018), which yields a stream of UInt64 values.
/// - uniform float32 in [0, 1): the top 24 bits × 2⁻²⁴; float64: the top 53 bits × 2⁻⁵³.
/// - normal: Box–Muller in float64 on pairs (u₁, u₂) of 53-bit uniforms,
///   z₀ = √(−2 ln(1 − u₁)) cos(2π u₂), z₁ = √(−2 ln(1 − u₁)) sin(2π u₂), used in that order,
///   then rounded to the tensor's dtype.
/// - integers in [low, high): rejection sampling on the UInt64 stream (no modulo bias).
///
/// Random tensors are filled by their device's backend from this stream (`Backend.randomFill`).
public final class Generator {
    /// The stream's state, handed to a backend to fill a buffer.
    package var stream: RandomStream
    /// The seed this generator was last seeded with.
    public private(set) var seed: UInt64 = 0

    public init(seed: UInt64) {
        stream = RandomStream(seed: seed)
        self.seed = seed
    }

    /// Resets the generator to the start of the stream for `seed`.
    public func manualSeed(_ seed: UInt64) {
        self.seed = seed
        stream = RandomStream(seed: seed)
    }

    /// The next 64 random bits (xoshiro256**).
    @inline(__always)
    public func nextUInt64() -> UInt64 { stream.nextUInt64() }

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
        get { State(words: [stream.s0, stream.s1, stream.s2, stream.s3], spareNormal: stream.spareNormal) }
        set {
            check(newValue.words.count == 4, "Generator.state: 4 words expected, got \(newValue.words.count)")
            stream.s0 = newValue.words[0]; stream.s1 = newValue.words[1]
            stream.s2 = newValue.words[2]; stream.s3 = newValue.words[3]
            stream.spareNormal = newValue.spareNormal
        }
    }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always) public func nextFloat() -> Float { stream.nextFloat() }
    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always) public func nextDouble() -> Double { stream.nextDouble() }

    /// A standard normal sample (Box–Muller, see the type's documentation).
    public func nextNormal() -> Double { stream.nextNormal() }

    /// Uniform integer in 0..<bound (bound > 0), unbiased by rejection.
    public func nextInt(below bound: UInt64) -> UInt64 { stream.nextInt(below: bound) }

    /// The generator used when none is passed. Seeded with 0 at start-up.
    nonisolated(unsafe) public static var `default` = Generator(seed: 0)
}

/// Seeds the default generator (like `torch.manual_seed`).
public func manualSeed(_ seed: UInt64) { Generator.default.manualSeed(seed) }

extension Tensor {
    /// 1/keep with probability `keep`, else 0, in one pass over the generator's stream (the same
    /// draws, in the same order, as `rand(shape) .< keep`).
    package static func dropoutMask(_ shape: [Int], keep: Double, dtype: DType, generator: Generator?,
                                    device: Device) -> Tensor {
        check(dtype == .float32 || dtype == .float64, "dropout: dtype \(dtype) is not supported (float32 or float64 expected)")
        return randomTensor(shape, .scaledBernoulli(keep: keep), dtype: dtype, generator: generator, device: device)
    }

    /// A new tensor on `device` filled by its backend from the generator's stream.
    package static func randomTensor(_ shape: [Int], _ distribution: RandomDistribution, dtype: DType,
                                     generator: Generator?, device: Device) -> Tensor {
        let g = generator ?? Generator.default
        let t = Tensor.empty(shape, dtype: dtype, device: device)
        if t.count > 0 { t.backend.randomFill(distribution, dtype: dtype, t.buffer, count: t.count, stream: &g.stream) }
        return t
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A backend whose device memory is host memory (the CPU, the reference loops): allocation from
/// the buffer cache, copies to and from the host as `memcpy`, nothing to wait for, and random
/// fills drawn on the host in row-major order (so a seed gives the same values on every host
/// device). A device with memory of its own (a GPU) implements `Backend`'s memory ops itself.
package protocol HostMemoryBackend: Backend {}

extension HostMemoryBackend {
    package func allocate(byteCount: Int, zeroed: Bool) -> Storage { device.allocate(byteCount: byteCount, zeroed: zeroed) }

    package func hostAddress(_ b: DeviceBuffer) -> UnsafeMutableRawPointer? { b.storage.address + b.byteOffset }

    package func copyFromHost(_ src: UnsafeRawPointer, to dst: DeviceBuffer, byteCount: Int) {
        if byteCount > 0 { memcpy(dst.storage.address + dst.byteOffset, src, byteCount) }
    }

    package func copyToHost(_ src: DeviceBuffer, to dst: UnsafeMutableRawPointer, byteCount: Int) {
        if byteCount > 0 { memcpy(dst, src.storage.address + src.byteOffset, byteCount) }
    }

    package func synchronize() {}

    package func randomFill(_ distribution: RandomDistribution, dtype: DType, _ dst: DeviceBuffer, count: Int,
                            stream: inout RandomStream) {
        hostRandomFill(distribution, dtype: dtype, dst, count: count, stream: &stream)
    }

    /// `randomFill` drawn element by element: the definition of the values every host backend's
    /// fill must give (the CPU backend's vectorised float32 fills are checked against it).
    package func hostRandomFill(_ distribution: RandomDistribution, dtype: DType, _ dst: DeviceBuffer, count: Int,
                                stream: inout RandomStream) {
        let base = dst.storage.address + dst.byteOffset
        switch (distribution, dtype) {
        case let (.uniform(low, high), .float32):
            let p = base.assumingMemoryBound(to: Float.self)
            let lo = Float(low), span = Float(high - low)
            for i in 0..<count { p[i] = lo + span * stream.nextFloat() }
        case let (.uniform(low, high), .float64):
            let p = base.assumingMemoryBound(to: Double.self)
            for i in 0..<count { p[i] = low + (high - low) * stream.nextDouble() }
        case let (.normal(mean, std), .float32):
            let p = base.assumingMemoryBound(to: Float.self)
            for i in 0..<count { p[i] = Float(mean + std * stream.nextNormal()) }
        case let (.normal(mean, std), .float64):
            let p = base.assumingMemoryBound(to: Double.self)
            for i in 0..<count { p[i] = mean + std * stream.nextNormal() }
        case let (.scaledBernoulli(keep), .float32):
            let p = base.assumingMemoryBound(to: Float.self)
            let k = Float(keep), scale = Float(1 / keep)
            for i in 0..<count { p[i] = stream.nextFloat() < k ? scale : 0 }
        case let (.scaledBernoulli(keep), .float64):
            let p = base.assumingMemoryBound(to: Double.self)
            let scale = 1 / keep
            for i in 0..<count { p[i] = stream.nextDouble() < keep ? scale : 0 }
        default:
            fail("random fill: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }
}

import NeuroneDevice
import CNeuroneKernels

/// `CPUBackend` as a `Backend`: device buffers are host memory, so each kernel takes the buffers'
/// addresses and runs the pointer-level implementation (CPUBackend.swift, ConvKernels.swift and
/// the layer files CPUConvolution.swift, CPULinear.swift, CPUAttention.swift,
/// CPUOptimizerUpdates.swift).
extension DeviceBuffer {
    /// The host address of a CPU buffer; only the CPU backend reads through it.
    @inline(__always) var pointer: UnsafeMutableRawPointer { storage.address + byteOffset }
}

extension CPUBackend: HostMemoryBackend {
    package var device: Device { .cpu }
    package var threadCount: Int { Threading.threadCount }

    /// float32 uniform values and dropout masks by random.c: the same values as drawing them one by
    /// one (`hostRandomFill`), and the stream left where that leaves it, in eight lanes of the
    /// stream that each start a jump further on (and large fills in one part per thread, each
    /// from its own jump); other fills element by element.
    package func randomFill(_ distribution: RandomDistribution, dtype: DType, _ dst: DeviceBuffer, count: Int,
                            stream: inout RandomStream) {
        let mode: (Int32, Float, Float)?
        switch distribution {
        case let .uniform(low, high): mode = (Int32(NK_RANDOM_UNIFORM), Float(low), Float(high - low))
        case let .scaledBernoulli(keep): mode = (Int32(NK_RANDOM_DROPOUT), Float(keep), Float(1 / keep))
        case .normal: mode = nil
        }
        guard dtype == .float32, let (m, a, b) = mode, count > 0 else {
            return hostRandomFill(distribution, dtype: dtype, dst, count: count, stream: &stream)
        }
        let out = dst.pointer.assumingMemoryBound(to: Float.self)
        // one part per thread for large fills, part k from the state k parts on (a jump each)
        let parts = count >= 131_072 ? Swift.max(1, Threading.threadCount) : 1, part = count / parts
        var states = [stream.s0, stream.s1, stream.s2, stream.s3]  // four words per part
        if parts > 1 {
            states.reserveCapacity(4 * parts)
            for k in 1..<parts {
                states += states[(4 * k - 4)..<(4 * k)]
                states.withUnsafeMutableBufferPointer { nk_random_jump($0.baseAddress! + 4 * k, UInt64(part)) }
            }
        }
        states.withUnsafeMutableBufferPointer { st in
            Threading.parallelFor(parts, minChunk: 1) { k0, k1 in
                for k in k0..<k1 {
                    nk_random_fill_f32(st.baseAddress! + 4 * k, out + k * part, Int64(k == parts - 1 ? count - k * part : part), m, a, b)
                }
            }
        }
        // the last part's state after its values: the stream's after all of them
        let last = 4 * (parts - 1)
        (stream.s0, stream.s1, stream.s2, stream.s3) = (states[last], states[last + 1], states[last + 2], states[last + 3])
    }

    package func copyStrided(elemSize: Int, shape: [Int], src: DeviceBuffer, srcStrides: [Int], dst: DeviceBuffer, dstStrides: [Int]) {
        copyStrided(elemSize: elemSize, shape: shape, src: UnsafeRawPointer(src.pointer), srcStrides: srcStrides, dst: dst.pointer, dstStrides: dstStrides)
    }
    package func cast(_ src: DeviceBuffer, from: DType, _ dst: DeviceBuffer, to: DType, count: Int) {
        cast(UnsafeRawPointer(src.pointer), from: from, dst.pointer, to: to, count: count)
    }
    package func fill(_ dst: DeviceBuffer, dtype: DType, count: Int, value: Double) {
        fill(dst.pointer, dtype: dtype, count: count, value: value)
    }
    package func unary(_ op: UnaryOp, dtype: DType, _ src: DeviceBuffer, _ dst: DeviceBuffer, count: Int) {
        unary(op, dtype: dtype, UnsafeRawPointer(src.pointer), dst.pointer, count: count)
    }
    package func activationGrad(_ op: UnaryOp, dtype: DType, _ g: DeviceBuffer, _ saved: DeviceBuffer, _ out: DeviceBuffer, count: Int) {
        activationGrad(op, dtype: dtype, UnsafeRawPointer(g.pointer), UnsafeRawPointer(saved.pointer), out.pointer, count: count)
    }
    package func clamp(dtype: DType, _ src: DeviceBuffer, _ dst: DeviceBuffer, count: Int, min lo: Double?, max hi: Double?) {
        clamp(dtype: dtype, UnsafeRawPointer(src.pointer), dst.pointer, count: count, min: lo, max: hi)
    }
    package func binary(_ op: BinaryOp, dtype: DType, _ a: DeviceBuffer, aStep: Int, _ b: DeviceBuffer, bStep: Int, _ out: DeviceBuffer, count: Int) {
        binary(op, dtype: dtype, UnsafeRawPointer(a.pointer), aStep: aStep, UnsafeRawPointer(b.pointer), bStep: bStep, out.pointer, count: count)
    }
    package func compare(_ op: CompareOp, dtype: DType, _ a: DeviceBuffer, aStep: Int, _ b: DeviceBuffer, bStep: Int, _ out: DeviceBuffer, count: Int) {
        compare(op, dtype: dtype, UnsafeRawPointer(a.pointer), aStep: aStep, UnsafeRawPointer(b.pointer), bStep: bStep, out.pointer, count: count)
    }
    package func select(dtype: DType, cond: DeviceBuffer, _ a: DeviceBuffer, _ b: DeviceBuffer, _ out: DeviceBuffer, count: Int) {
        select(dtype: dtype, cond: UnsafeRawPointer(cond.pointer), UnsafeRawPointer(a.pointer), UnsafeRawPointer(b.pointer), out.pointer, count: count)
    }
    package func reduce(_ op: ReduceOp, dtype: DType, _ src: DeviceBuffer, outer: Int, size: Int, inner: Int, _ out: DeviceBuffer, indices: DeviceBuffer?) {
        reduce(op, dtype: dtype, UnsafeRawPointer(src.pointer), outer: outer, size: size, inner: inner, out.pointer,
               indices: indices?.pointer.assumingMemoryBound(to: Int64.self))
    }
    package func gemm(dtype: DType, batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
              _ a: DeviceBuffer, lda: Int, strideA: Int, _ b: DeviceBuffer, ldb: Int, strideB: Int,
              beta: Double, _ c: DeviceBuffer, ldc: Int, strideC: Int) {
        gemm(dtype: dtype, batch: batch, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
             UnsafeRawPointer(a.pointer), lda: lda, strideA: strideA, UnsafeRawPointer(b.pointer), ldb: ldb, strideB: strideB,
             beta: beta, c.pointer, ldc: ldc, strideC: strideC)
    }
    package func gather(elemSize: Int, _ src: DeviceBuffer, outer: Int, srcSize: Int, inner: Int,
                index: DeviceBuffer, idxSize: Int, shared: Bool, _ out: DeviceBuffer) {
        gather(elemSize: elemSize, UnsafeRawPointer(src.pointer), outer: outer, srcSize: srcSize, inner: inner,
               index: UnsafePointer(index.pointer.assumingMemoryBound(to: Int64.self)), idxSize: idxSize, shared: shared, out.pointer)
    }
    package func scatterAdd(dtype: DType, _ src: DeviceBuffer, outer: Int, idxSize: Int, inner: Int,
                    index: DeviceBuffer, shared: Bool, _ dst: DeviceBuffer, dstSize: Int) {
        scatterAdd(dtype: dtype, UnsafeRawPointer(src.pointer), outer: outer, idxSize: idxSize, inner: inner,
                   index: UnsafePointer(index.pointer.assumingMemoryBound(to: Int64.self)), shared: shared, dst.pointer, dstSize: dstSize)
    }
    package func im2col(dtype: DType, _ x: DeviceBuffer, batch: Int, channels: Int, height: Int, width: Int,
                geometry g: WindowGeometry, _ cols: DeviceBuffer, sampleStride: Int?, rowStride: Int?) {
        im2col(dtype: dtype, UnsafeRawPointer(x.pointer), batch: batch, channels: channels, height: height, width: width, geometry: g,
               cols.pointer, sampleStride: sampleStride, rowStride: rowStride)
    }
    package func col2im(dtype: DType, _ cols: DeviceBuffer, batch: Int, channels: Int, height: Int, width: Int,
                geometry g: WindowGeometry, _ x: DeviceBuffer, sampleStride: Int?, rowStride: Int?) {
        col2im(dtype: dtype, UnsafeRawPointer(cols.pointer), batch: batch, channels: channels, height: height, width: width, geometry: g,
               x.pointer, sampleStride: sampleStride, rowStride: rowStride)
    }
    package func maxPool2d(dtype: DType, _ x: DeviceBuffer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                   _ out: DeviceBuffer, indices: DeviceBuffer?) {
        maxPool2d(dtype: dtype, UnsafeRawPointer(x.pointer), planes: planes, height: height, width: width, geometry: g, out.pointer,
                  indices: indices?.pointer.assumingMemoryBound(to: Int64.self))
    }
    package func maxPool2dBackward(dtype: DType, _ grad: DeviceBuffer, indices: DeviceBuffer, planes: Int, height: Int, width: Int,
                                   geometry g: WindowGeometry, _ dx: DeviceBuffer) {
        maxPool2dBackward(dtype: dtype, UnsafeRawPointer(grad.pointer), indices: UnsafePointer(indices.pointer.assumingMemoryBound(to: Int64.self)),
                          planes: planes, height: height, width: width, geometry: g, dx.pointer)
    }
    package func avgPool2d(dtype: DType, _ x: DeviceBuffer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                   countIncludePad: Bool, divisorOverride: Int?, backward: Bool, _ out: DeviceBuffer) {
        avgPool2d(dtype: dtype, UnsafeRawPointer(x.pointer), planes: planes, height: height, width: width, geometry: g,
                  countIncludePad: countIncludePad, divisorOverride: divisorOverride, backward: backward, out.pointer)
    }
}

import NeuroneDevice

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
    package func maxPool2dBackward(dtype: DType, _ g: DeviceBuffer, indices: DeviceBuffer, planes: Int, outCount: Int, inCount: Int, _ dx: DeviceBuffer) {
        maxPool2dBackward(dtype: dtype, UnsafeRawPointer(g.pointer), indices: UnsafePointer(indices.pointer.assumingMemoryBound(to: Int64.self)),
                          planes: planes, outCount: outCount, inCount: inCount, dx.pointer)
    }
    package func avgPool2d(dtype: DType, _ x: DeviceBuffer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                   countIncludePad: Bool, divisorOverride: Int?, backward: Bool, _ out: DeviceBuffer) {
        avgPool2d(dtype: dtype, UnsafeRawPointer(x.pointer), planes: planes, height: height, width: width, geometry: g,
                  countIncludePad: countIncludePad, divisorOverride: divisorOverride, backward: backward, out.pointer)
    }
}

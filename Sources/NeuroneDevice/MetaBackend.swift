#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The backend of `Device.meta`, PyTorch's "meta" device: tensors with shapes and dtypes but no
/// values and no memory. Every kernel does nothing, so running a model on meta tensors runs only
/// the shape rules of its ops — how `ModelSummary` finds every layer's output shape for inputs
/// whose activations would not fit in memory. A host read of a meta tensor gives zeros.
package final class MetaBackend: Backend {
    package static let shared = MetaBackend()

    /// One shared address for every meta storage: nothing is ever read or written through it.
    private static let nowhere = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)

    package var device: Device { .meta }
    package var threadCount: Int { 1 }

    package func allocate(byteCount: Int, zeroed: Bool) -> Storage {
        Storage(address: MetaBackend.nowhere, byteCount: byteCount, device: .meta, release: { _, _ in })
    }
    package func copyFromHost(_ src: UnsafeRawPointer, to dst: DeviceBuffer, byteCount: Int) {}
    package func copyToHost(_ src: DeviceBuffer, to dst: UnsafeMutableRawPointer, byteCount: Int) {
        if byteCount > 0 { memset(dst, 0, byteCount) }
    }
    package func hostAddress(_ b: DeviceBuffer) -> UnsafeMutableRawPointer? { nil }
    package func synchronize() {}
    package func randomFill(_ distribution: RandomDistribution, dtype: DType, _ dst: DeviceBuffer, count: Int,
                            stream: inout RandomStream) {}

    package func copyStrided(elemSize: Int, shape: [Int], src: DeviceBuffer, srcStrides: [Int], dst: DeviceBuffer, dstStrides: [Int]) {}
    package func cast(_ src: DeviceBuffer, from: DType, _ dst: DeviceBuffer, to: DType, count: Int) {}
    package func fill(_ dst: DeviceBuffer, dtype: DType, count: Int, value: Double) {}
    package func unary(_ op: UnaryOp, dtype: DType, _ src: DeviceBuffer, _ dst: DeviceBuffer, count: Int) {}
    package func activationGrad(_ op: UnaryOp, dtype: DType, _ g: DeviceBuffer, _ saved: DeviceBuffer, _ out: DeviceBuffer, count: Int) {}
    package func clamp(dtype: DType, _ src: DeviceBuffer, _ dst: DeviceBuffer, count: Int, min lo: Double?, max hi: Double?) {}
    package func binary(_ op: BinaryOp, dtype: DType, _ a: DeviceBuffer, aStep: Int, _ b: DeviceBuffer, bStep: Int,
                        _ out: DeviceBuffer, count: Int) {}
    package func compare(_ op: CompareOp, dtype: DType, _ a: DeviceBuffer, aStep: Int, _ b: DeviceBuffer, bStep: Int,
                         _ out: DeviceBuffer, count: Int) {}
    package func select(dtype: DType, cond: DeviceBuffer, _ a: DeviceBuffer, _ b: DeviceBuffer, _ out: DeviceBuffer, count: Int) {}
    package func reduce(_ op: ReduceOp, dtype: DType, _ src: DeviceBuffer, outer: Int, size: Int, inner: Int,
                        _ out: DeviceBuffer, indices: DeviceBuffer?) {}
    package func gemm(dtype: DType, batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                      _ a: DeviceBuffer, lda: Int, strideA: Int, _ b: DeviceBuffer, ldb: Int, strideB: Int,
                      beta: Double, _ c: DeviceBuffer, ldc: Int, strideC: Int) {}
    package func gather(elemSize: Int, _ src: DeviceBuffer, outer: Int, srcSize: Int, inner: Int,
                        index: DeviceBuffer, idxSize: Int, shared: Bool, _ out: DeviceBuffer) {}
    package func scatterAdd(dtype: DType, _ src: DeviceBuffer, outer: Int, idxSize: Int, inner: Int,
                            index: DeviceBuffer, shared: Bool, _ dst: DeviceBuffer, dstSize: Int) {}
    package func im2col(dtype: DType, _ x: DeviceBuffer, batch: Int, channels: Int, height: Int, width: Int,
                        geometry g: WindowGeometry, _ cols: DeviceBuffer, sampleStride: Int?, rowStride: Int?) {}
    package func col2im(dtype: DType, _ cols: DeviceBuffer, batch: Int, channels: Int, height: Int, width: Int,
                        geometry g: WindowGeometry, _ x: DeviceBuffer, sampleStride: Int?, rowStride: Int?) {}
    package func maxPool2d(dtype: DType, _ x: DeviceBuffer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                           _ out: DeviceBuffer, indices: DeviceBuffer?) {}
    package func maxPool2dBackward(dtype: DType, _ grad: DeviceBuffer, indices: DeviceBuffer, planes: Int, height: Int, width: Int,
                                   geometry g: WindowGeometry, _ dx: DeviceBuffer) {}
    package func avgPool2d(dtype: DType, _ x: DeviceBuffer, planes: Int, height: Int, width: Int, geometry g: WindowGeometry,
                           countIncludePad: Bool, divisorOverride: Int?, backward: Bool, _ out: DeviceBuffer) {}

    package func supportsConv2d(_ p: Conv2dProblem) -> Bool { true }
    package func fusesActivation(dtype: DType) -> Bool { true }
    package func conv2d(_ p: Conv2dProblem, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?, activation: FusedActivation?,
                        out: DeviceBuffer) -> AnyObject? { nil }
    package func conv2dBackward(_ p: Conv2dProblem, saved: AnyObject?, x: DeviceBuffer, weight: DeviceBuffer, output: DeviceBuffer?,
                                activation: FusedActivation?, gradOut: DeviceBuffer, dx: DeviceBuffer?, dweight: DeviceBuffer?,
                                dbias: DeviceBuffer?) {}
    package func linear(dtype: DType, rows: Int, inFeatures: Int, outFeatures: Int, x: DeviceBuffer, weight: DeviceBuffer,
                        bias: DeviceBuffer?, activation: FusedActivation?, out: DeviceBuffer) {}
    package func linearWeightGradient(dtype: DType, rows: Int, inFeatures: Int, outFeatures: Int, gradOut: DeviceBuffer,
                                      x: DeviceBuffer, into dweight: DeviceBuffer, bias dbias: DeviceBuffer?, activation: FusedActivation?,
                                      output: DeviceBuffer?) {}
    package func activate(_ activation: FusedActivation, dtype: DType, _ x: DeviceBuffer, count: Int) {}
    package func attention(_ p: AttentionProblem, q: StridedRows, k: StridedRows, v: StridedRows, mask: DeviceBuffer?,
                           maskBlockStride: Int, dropout: DeviceBuffer?, probabilities: DeviceBuffer?, out: DeviceBuffer) {}
    package func attentionBackward(_ p: AttentionProblem, q: StridedRows, k: StridedRows, v: StridedRows, probabilities: DeviceBuffer,
                                   dropout: DeviceBuffer?, gradOut: DeviceBuffer, gq: StridedRows, gk: StridedRows, gv: StridedRows) {}
    package func selfAttention(_ p: AttentionProblem, x: DeviceBuffer, inWeight: DeviceBuffer, inBias: DeviceBuffer?,
                               outWeight: DeviceBuffer, outBias: DeviceBuffer?, mask: DeviceBuffer?, out: DeviceBuffer) {}
    package func layerNorm(dtype: DType, rows: Int, cols: Int, x: DeviceBuffer, weight: DeviceBuffer?, bias: DeviceBuffer?, eps: Double,
                           out: DeviceBuffer, mean: DeviceBuffer?, rstd: DeviceBuffer?) {}
    package func layerNormBackward(dtype: DType, rows: Int, cols: Int, x: DeviceBuffer, weight: DeviceBuffer?, mean: DeviceBuffer, rstd: DeviceBuffer,
                                   gradOut: DeviceBuffer, gradIn: DeviceBuffer?, gradWeight: DeviceBuffer?, gradBias: DeviceBuffer?) {}
    package func recurrentStep(_ s: RecurrentStep) {}
    package func recurrentStepBackward(_ s: RecurrentStep, _ g: RecurrentStepGradients) {}
    package func recurrentForward(_ s: RecurrentSequence) {}
    package func recurrentBackward(_ s: RecurrentSequence, _ g: RecurrentSequenceGradients) {}
    package func optimizerUpdate(_ rule: OptimizerUpdateRule, dtype: DType, count: Int, parameter: DeviceBuffer,
                                 gradient: DeviceBuffer, states: [DeviceBuffer]) {}
}

extension Device {
    /// Shapes without values or memory (PyTorch's "meta" device): ops on it check shapes and
    /// compute nothing. Not in the registry: nothing runs a program on it but a shape pass.
    public static let meta = Device(name: "meta", backend: MetaBackend.shared)
}

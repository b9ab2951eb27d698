import NeuroneDevice
import CNeuroneKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where float32 linear products (AVX2 CPUs) take the kernels of linear.c instead of the GEMM
/// library; every limit is where `neurone bench linear` measured the kernel ahead on this project's
/// AVX2 machine (docs/PERFORMANCE.md).
public struct LinearKernelSettings: Sendable {
    /// The forward y = x·Wᵀ + b by the packed kernel (W in 16-column panels, x read in place, tiles
    /// started from the bias); off with NEURONE_LINEAR=gemm.
    public var forward = true
    /// Its longest reduction (input features). With AVX2 tiles (6 rows × 16 columns): 512 (a
    /// 16-column panel of W then fills L1). With its loop unrolled by 4 it measured 1.04–1.21×
    /// OpenBLAS with its bias pass at 120–512 input features on one thread and 1.06–1.64× on two
    /// (0.88–0.95× at 120–400 before the unrolling), 1.1–1.2× at 28–64, and 1.00–1.05× at 784 and
    /// 9216, left to the GEMM. With AVX-512 tiles (12 rows × 32 columns): 9216; on Zen 4 at 192–512
    /// rows it measured 0.99–1.06× OpenBLAS at 640–9216 input features on one thread and 1.05–1.16×
    /// on two, W's packing included (docs/PERFORMANCE.md, issue 19, session 21).
    public var forwardMaxInFeatures = nk_linear_packed_avx512() != 0 ? 9216 : 512
    /// The fewest rows for which a product that packs its own weight takes it (packing costs about
    /// 10 rows of the product): 192. Products given a packed weight (the chunked attention's
    /// projections) take it at any row count.
    public var forwardMinRows = 192
    /// Calls that pack W themselves and have fewer rows than `forwardMinRows` take the kernel with
    /// W's panels split over the threads instead of its rows (each thread packs its own panels,
    /// right before running every row over them: no thread waits for the whole packed W, and each
    /// streams only its share of it) when W has at least this many output features: 64 with the
    /// AVX-512 tiles, where on Zen 4 at 16–128 rows it measured 1.04–1.3× the GEMM on one thread
    /// and 1.14–1.43× on two (the row split 0.8–0.96× on two), 0.6–0.8× for 10 outputs; off
    /// (Int.max) with the AVX2 tiles, not measured there. (At 192–512 rows the split measured up
    /// to 1.2× the row split in `neurone bench linear` for 400 or more inputs, but training steps
    /// at batch 256 did not move: 0.98–1.01×.)
    public var forwardPanelSplitMinOutFeatures = nk_linear_packed_avx512() != 0 ? 64 : Int.max
    /// Calls with at most this many rows of input take dot products of x's rows with W's rows,
    /// both read in place (linear_dot.c, `CPUBackend.linearDot`): with a few rows the product is a
    /// stream over W, and the other paths pack all of W (or x into mostly empty 16-row panels)
    /// first. Any input width and output count. On Zen 4 (`neurone bench linear`, 1 and 2
    /// threads) it measured at least the best other path up to 12 rows at AVX-512 for every shape
    /// timed (784→1000, 9216→128, 400→120, 120→84, 64→192, 28→64): 41 GFLOP/s for one row of
    /// 784→1000 where the panel split ran 11 and OpenBLAS 42, 106 for 4 rows (packed 38, GEMM
    /// 30); past 12 rows the transpose catches up (0.93–1.01× at 16). With NEURONE_KERNEL=avx2
    /// (OpenBLAS's Haswell kernels) up to 8 rows, except 28→64 at 8 rows (0.90×): 12 with the
    /// AVX-512 tiles, 8 with the AVX2 ones; 0 turns it off.
    public var forwardDotMaxRows = nk_linear_packed_avx512() != 0 ? 12 : 8
    /// The recurrent layers' forward W_hh·h (W_hh packed once for all steps) takes the same dot
    /// products in a thread's block of rows up to this many: 1. There the packed kernel's weight
    /// is packed already and its reduction is short (the hidden size): on Zen 4 the LSTM
    /// classifier's inference (H = 128) measured 1.07–1.09× at batch 1, 0.95–1.0× at 2–8 rows a block.
    public var recurrentDotMaxRows = 1
    /// Calls that pack W themselves with `forwardTransposedMinRows` to `forwardTransposedMaxRows`
    /// rows, at least `forwardPanelSplitMinOutFeatures` outputs and at least
    /// `forwardTransposedMinOutputsPerRow` outputs per row compute the transpose instead,
    /// yᵀ = W·xᵀ (CPUBackend.linearTransposed): x is packed (rows × in values, not W's out × in), W
    /// read in place as the kernel's row operand and each tile of yᵀ stored transposed into y. On Zen 4
    /// (`neurone bench linear`, one thread) it measured 1.16× the panel split for 64×784×1000 and
    /// 1.46× for 16×784×1000; mlp training 1.07× / 1.03× at batch 64 (1 / 2 threads), 1.00–1.02× /
    /// 1.03× at 256. 256 on AVX-512 CPUs; 0 turns it off.
    public var forwardTransposedMaxRows = nk_linear_packed_avx512() != 0 ? 256 : 0
    /// Below this many rows x's 16-row panels are mostly padding: 8 (calls of up to
    /// `forwardDotMaxRows` rows take the dot products before any of these paths).
    public var forwardTransposedMinRows = 8
    /// Where W has fewer values than twice x's the packing it saves is small, and transposing y
    /// costs about as much (lenet5's 400→120 at 256 rows: 0.9× on two threads): 2.
    public var forwardTransposedMinOutputsPerRow = 2
    /// The weight gradient dW = gᵀ·x by the outer-product kernel (each tile of dW summed in
    /// registers and stored once); off with NEURONE_LINEAR=gemm or NEURONE_LINEAR=forward.
    public var weightGradient = true
    /// Its most rows (the reduction): 256, one K block of the kernel (0.7× OpenBLAS for the
    /// attention embedding's 7168 rows).
    public var weightGradientMaxRows = 256
    /// Its most values of packed input (rows × input features rounded up to 16): 2²⁰, 4 MB (0.5–0.9×
    /// for 256 rows of 9216 features before x's panels went in L2-sized chunks; 0.9× after, on an
    /// Intel Xeon: 116 against OpenBLAS's 128 GFLOP/s).
    public var weightGradientMaxPackedInput = 1 << 20
    /// Its fewest weights (out × in features): 32768. It measured 1.05–1.4× OpenBLAS for the mlp's,
    /// lenet5's and mnist-cnn's first layers, 0.87–1.2× for smaller ones, whose time is mostly
    /// the call's own overhead.
    public var weightGradientMinWeights = 32768
    /// Weight gradients over many rows by wgrad_rows.c (g and x read in place: linear() within the
    /// two limits below): on with the AVX-512 tiles; off with the AVX2 ones, whose build summed
    /// the LSTM classifier's weight gradients after all steps 3–5 % slower than OpenBLAS's Haswell
    /// kernels on Zen 4 with both capped at AVX2 (`neurone bench linear --weight-gradient` times it
    /// on any AVX2 CPU, in its rows column). The recurrent layers' step-by-step sums do not read it.
    public var weightGradientRows = nk_linear_packed_avx512() != 0
    /// wgrad_rows.c in linear(): for at most this many input features…
    public var weightGradientRowsMaxInFeatures = 64
    /// …over at least this many rows (CPUBackend.usesRowsWeightGradient says why).
    public var weightGradientRowsMinRows = 256

    /// The single-GEMM convolution's forward product and input-gradient product by the same
    /// kernel (columns written by im2col straight into 16-column panels, the forward's tiles
    /// started from the bias); off with NEURONE_LINEAR=gemm.
    public var convolution = true

    /// The defaults above, without reading the environment.
    public init() {}

    /// The defaults, with NEURONE_LINEAR=gemm (no kernel) or NEURONE_LINEAR=forward (the forward
    /// kernel only) applied.
    public static func fromEnvironment() -> LinearKernelSettings {
        var k = LinearKernelSettings()
        if let s = getenv("NEURONE_LINEAR") {
            let v = String(cString: s)
            k.forward = v != "gemm"
            k.convolution = v != "gemm"
            k.weightGradient = v != "gemm" && v != "forward"
        }
        return k
    }
}

import ArgumentParser
import Foundation
import Neurone

/// `neurone bench linear`: a float32 Linear forward through the packed kernel and through bias
/// rows + GEMM, side by side in one run; with --weight-gradient, the weight gradient through the
/// outer-product kernel and through a GEMM.
struct BenchLinear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linear",
        abstract: "GFLOP/s of a float32 Linear forward (or weight gradient): Neurone's packed kernels (AVX-512 or AVX2, as the CPU has) against the GEMM.",
        discussion: """
            Shapes are ROWSxINxOUT (rows of the input, input features, output features); the defaults \
            are the attention model's projections per chunk of 9 samples, its token embedding at \
            batch 256, and lenet5's first dense layer. Four paths run every shape here: the packed \
            kernel as Linear takes it from 192 rows (W packed, its rows split over the threads) and \
            below (W's panels split over the threads), the same kernel on the transpose yᵀ = W·xᵀ \
            (x packed instead of W, W read in place), dot products of x's rows with W's rows (both \
            read in place, linear_dot.c), and bias rows + GEMM. Linear itself takes the dot \
            products for up to 12 rows (8 on CPUs without AVX-512), the packed kernel only for \
            inputs of up to 512 features (9216 on AVX-512 CPUs) and at least 192 rows, or on \
            AVX-512 CPUs fewer rows with at least 64 outputs (the panel split), and there the \
            transpose for 13 to 256 rows with at least twice as many outputs as rows \
            (Tensor.linearKernels). The paths alternate, one \
            timed run each, and the medians are printed. NEURONE_LINEAR=gemm turns the kernels off \
            everywhere.
            With --weight-gradient, the timed work is instead the backward pass of y = x·Wᵀ with \
            only W requiring a gradient, dW = gᵀ·x: the outer-product kernel (which Linear takes \
            for weights of at least 32768 values, batches of up to 256 rows and up to 4 MB of \
            packed input), wgrad_rows.c with g and x read in place (which Linear takes on AVX-512 \
            CPUs for at most 64 input features over at least 256 rows; here on any AVX2 CPU, at any \
            shape), and a GEMM with beta = 0; its default shapes are the first layers of the mlp, \
            lenet5 and mnist-cnn's dense part at batch 64 and 256.
            Example: neurone bench linear --shape 252x64x192 --threads 1
            Example: neurone bench linear --weight-gradient --shape 64x784x1000
            """)

    @Option(name: .customLong("shape"), help: "ROWSxINxOUT (repeatable).")
    var shapes: [String] = []

    @Flag(help: "Time the weight gradient dW = gᵀ·x instead of the forward.")
    var weightGradient = false

    var shapeList: [String] {
        if !shapes.isEmpty { return shapes }
        return weightGradient ? ["64x784x1000", "256x784x1000", "64x400x120", "256x400x120", "64x9216x128", "256x9216x128"]
                              : ["252x64x192", "252x64x64", "7168x28x64", "256x400x120"]
    }

    @Option(help: "Thread count (default: NEURONE_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Timed runs of each path per shape.")
    var repeats: Int = 31

    @Flag(help: "Print one JSON object per line: {\"rows\":R,\"in\":I,\"out\":O,\"threads\":T,\"pass\":\"forward\"|\"weight-gradient\",\"packed_gflops\":X,\"transposed_gflops\"|\"rows_gflops\":Z,\"dot_gflops\":D (forward only),\"gemm_gflops\":Y} (Z and D null where the CPU has no AVX2).")
    var json = false

    /// The paths timed: Linear's kernel (the forward's row or panel split, the weight gradient's
    /// outer product), the alternative kernel (the forward as its transpose, the weight gradient
    /// over rows by wgrad_rows.c), the forward's dot products (x's rows with W's rows, nothing
    /// packed), and the GEMM.
    enum Path { case kernel, alternative, dot, gemm }

    func parsed() throws -> [(Int, Int, Int)] {
        try shapeList.map { text in
            let parts = text.lowercased().split(separator: "x").map { Int($0) }
            guard parts.count == 3, let r = parts[0], let i = parts[1], let o = parts[2], r > 0, i > 0, o > 0 else {
                throw ValidationError("--shape must be ROWSxINxOUT with three positive integers, got '\(text)'")
            }
            return (r, i, o)
        }
    }

    func validate() throws {
        _ = try parsed()
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive, got \(t)") }
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        if let t = threads { Threading.threadCount = t }
        let g = Generator(seed: 0)
        if !Tensor.packedLinearAvailable {
            FileHandle.standardError.write("neurone: this CPU has no AVX2/FMA (or NEURONE_KERNEL=generic): the first column is the GEMM path too, and the other kernels do not run\n".data(using: .utf8)!)
        }
        let alternative = weightGradient ? "rows" : "transposed"
        let alternativeRuns = Tensor.packedLinearAvailable
        if !json {
            print("rows      in   out  threads  \(weightGradient ? "outer-product" : "       packed")  \(alternative.padding(toLength: 10, withPad: " ", startingAt: 0))\(weightGradient ? "" : "        dot") GEMM (GFLOP/s)  ratios to GEMM\(weightGradient ? "   (weight gradient)" : "")")
        }
        let saved = Tensor.linearKernels
        defer { Tensor.linearKernels = saved }
        // every shape takes the kernels when they are switched on
        Tensor.linearKernels.forwardMaxInFeatures = Int.max
        Tensor.linearKernels.forwardPanelSplitMinOutFeatures = 0
        Tensor.linearKernels.weightGradientMaxRows = Int.max
        Tensor.linearKernels.weightGradientMaxPackedInput = Int.max
        Tensor.linearKernels.weightGradientMinWeights = 0
        func select(_ path: Path) {
            var k = Tensor.linearKernels
            k.forward = path != .gemm
            k.weightGradient = path != .gemm
            k.forwardTransposedMaxRows = path == .alternative ? Int.max : 0
            k.forwardDotMaxRows = path == .dot ? Int.max : 0
            k.forwardTransposedMinRows = 0
            k.forwardTransposedMinOutputsPerRow = 0
            k.weightGradientRows = path == .alternative
            k.weightGradientRowsMaxInFeatures = path == .alternative ? Int.max : 0
            k.weightGradientRowsMinRows = path == .alternative ? 0 : Int.max
            Tensor.linearKernels = k
        }
        let paths: [Path] = (alternativeRuns ? [.kernel, .alternative] : [.kernel]) + (alternativeRuns && !weightGradient ? [.dot] : []) + [.gemm]
        for (rows, inF, outF) in try parsed() {
            let x = Tensor.randn([rows, inF], generator: g)
            let layer = Linear(inF, outF, generator: g)  // the forward's weight and bias
            // the weight gradient's: W alone requires a gradient, and a fixed seed for dL/dy
            let w = layer.weight.detach().requiringGrad(), seed = Tensor.randn([rows, outF], generator: g)
            // one run of the timed work on one path; its seconds
            func once(_ path: Path) -> Double {
                select(path)
                if weightGradient {
                    let y = x.linear(weight: w)  // the forward is not timed
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    y.backward(seed)
                    let t = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                    w.grad = nil
                    return t
                }
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = withNoGrad { layer(x) }
                return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            }
            var times: [Path: [Double]] = [:]
            for path in paths { for _ in 0..<3 { _ = once(path) } }
            for _ in 0..<repeats {
                for path in paths { times[path, default: []].append(once(path)) }
            }
            func gflops(_ ts: [Double]) -> Double { 2.0 * Double(rows * inF * outF) / ts.sorted()[ts.count / 2] / 1e9 }
            let (p, q) = (gflops(times[.kernel]!), gflops(times[.gemm]!))
            let a = times[.alternative].map(gflops), d = times[.dot].map(gflops)
            if json {
                let dot = weightGradient ? "" : ",\"dot_gflops\":\(d.map { formatNumber($0) } ?? "null")"
                print("{\"rows\":\(rows),\"in\":\(inF),\"out\":\(outF),\"threads\":\(Threading.threadCount),\"pass\":\"\(weightGradient ? "weight-gradient" : "forward")\",\"packed_gflops\":\(formatNumber(p)),\"\(alternative)_gflops\":\(a.map { formatNumber($0) } ?? "null")\(dot),\"gemm_gflops\":\(formatNumber(q))}")
            } else {
                func column(_ v: Double?) -> String { v.map { String(format: "%10.1f", $0) } ?? "         -" }
                func ratio(_ v: Double?) -> String { v.map { String(format: " %5.2f×", $0 / q) } ?? "      -" }
                let dotColumns = weightGradient ? ("", "") : (" " + column(d), ratio(d))
                print("\(String(rows).padding(toLength: 8, withPad: " ", startingAt: 0))\(String(format: "%5d %5d %8d %13.1f", inF, outF, Threading.threadCount, p))  \(column(a))\(dotColumns.0) \(String(format: "%14.1f  %5.2f×", q, p / q))\(ratio(a))\(dotColumns.1)")
            }
        }
    }
}

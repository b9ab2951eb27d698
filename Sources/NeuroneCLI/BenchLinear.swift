import ArgumentParser
import Foundation
import Neurone

/// `neurone bench linear`: a float32 Linear forward through the packed kernel and through bias
/// rows + GEMM, side by side in one run.
struct BenchLinear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linear",
        abstract: "GFLOP/s of a float32 Linear forward: the packed kernel (AVX2) against bias rows + GEMM.",
        discussion: """
            Shapes are ROWSxINxOUT (rows of the input, input features, output features); the defaults \
            are the attention model's projections per chunk of 9 samples, its token embedding at \
            batch 256, and lenet5's first dense layer. Both paths run every shape here, although \
            Linear itself takes the packed kernel only for inputs of up to 96 features and at least \
            192 rows (Tensor.packedLinearMaxInFeatures, packedLinearMinRows). The two paths alternate, one timed run each, and the medians are printed. \
            NEURONE_LINEAR=gemm turns the packed kernel off everywhere.
            Example: neurone bench linear --shape 252x64x192 --threads 1
            """)

    @Option(name: .customLong("shape"), help: "ROWSxINxOUT (repeatable).")
    var shapes: [String] = ["252x64x192", "252x64x64", "7168x28x64", "256x400x120"]

    @Option(help: "Thread count (default: NEURONE_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Timed runs of each path per shape.")
    var repeats: Int = 31

    @Flag(help: "Print one JSON object per line: {\"rows\":R,\"in\":I,\"out\":O,\"threads\":T,\"packed_gflops\":X,\"gemm_gflops\":Y}.")
    var json = false

    func parsed() throws -> [(Int, Int, Int)] {
        try shapes.map { text in
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
            FileHandle.standardError.write("neurone: this CPU has no AVX2/FMA (or NEURONE_KERNEL=generic): both columns are the GEMM path\n".data(using: .utf8)!)
        }
        if !json { print("rows      in   out  threads  packed GFLOP/s  GEMM GFLOP/s  ratio") }
        let saved = (Tensor.packedLinearEnabled, Tensor.packedLinearMaxInFeatures, Tensor.packedLinearMinRows)
        defer { (Tensor.packedLinearEnabled, Tensor.packedLinearMaxInFeatures, Tensor.packedLinearMinRows) = saved }
        (Tensor.packedLinearMaxInFeatures, Tensor.packedLinearMinRows) = (Int.max, 0)  // every shape takes the kernel when enabled
        for (rows, inF, outF) in try parsed() {
            let layer = Linear(inF, outF, generator: g), x = Tensor.randn([rows, inF], generator: g)
            var times: [Bool: [Double]] = [true: [], false: []]
            for packed in [true, false] { Tensor.packedLinearEnabled = packed; for _ in 0..<3 { _ = withNoGrad { layer(x) } } }
            for _ in 0..<repeats {
                for packed in [true, false] {
                    Tensor.packedLinearEnabled = packed
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    _ = withNoGrad { layer(x) }
                    times[packed]!.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
                }
            }
            func gflops(_ ts: [Double]) -> Double { 2.0 * Double(rows * inF * outF) / ts.sorted()[ts.count / 2] / 1e9 }
            let (p, q) = (gflops(times[true]!), gflops(times[false]!))
            if json {
                print("{\"rows\":\(rows),\"in\":\(inF),\"out\":\(outF),\"threads\":\(Threading.threadCount),\"packed_gflops\":\(formatNumber(p)),\"gemm_gflops\":\(formatNumber(q))}")
            } else {
                print("\(String(rows).padding(toLength: 8, withPad: " ", startingAt: 0))\(String(format: "%5d %5d %8d %15.1f %13.1f %6.2f×", inF, outF, Threading.threadCount, p, q, p / q))")
            }
        }
    }
}

import ArgumentParser
import Foundation
import Neurone

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure kernel speed (release builds only give meaningful numbers).",
        subcommands: [BenchGemm.self, BenchOps.self, BenchLayers.self, BenchLinear.self, BenchTrain.self, BenchInfer.self, BenchAllreduce.self, BenchPeak.self])
}

/// Median wall time in seconds of `repeats` runs after at least `warmup` runs and 0.1 s of
/// warm-up (which lets the thread pool and the scheduler settle).
func medianSeconds(warmup: Int, repeats: Int, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let warmStart = clock.now
    var warmed = 0
    while warmed < warmup || clock.now - warmStart < .milliseconds(100) {
        body()
        warmed += 1
    }
    var times: [Double] = []
    for _ in 0..<max(1, repeats) {
        let d = clock.measure { body() }
        times.append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
    }
    times.sort()
    return times[times.count / 2]
}

func formatNumber(_ x: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", x) }

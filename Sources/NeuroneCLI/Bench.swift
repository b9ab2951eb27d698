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
    median(timedRepeats(warmup: warmup, repeats: repeats, body))
}

/// The wall times in seconds of `repeats` runs of `body`, in order, after at least `warmup` runs
/// and 0.1 s of warm-up; `before` (untimed) runs before each timed run.
func timedRepeats(warmup: Int, repeats: Int, before: (() -> Void)? = nil, _ body: () -> Void) -> [Double] {
    let clock = ContinuousClock()
    let warmStart = clock.now
    var warmed = 0
    while warmed < warmup || clock.now - warmStart < .milliseconds(100) {
        body()
        warmed += 1
    }
    var times: [Double] = []
    for _ in 0..<max(1, repeats) {
        before?()
        let d = clock.measure { body() }
        times.append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
    }
    return times
}

/// The median of `values` (the upper one of an even count); 0 for none.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func formatNumber(_ x: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", x) }

import ArgumentParser
import Foundation
import Neurone

/// `neurone bench allreduce`: the time of one in-place sum over all processes, under mpirun.
struct BenchAllreduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time of an allreduce (the sum of float32 gradients over all processes), under mpirun; median of repeats.",
        discussion: """
        Example: mpirun -np 2 neurone bench allreduce --size 1200000 --size 25000000 --json
        Prints, per size, the median time and the algorithm bandwidth (bytes / time) and the bus bandwidth
        (2(N-1)/N · bytes / time, what each link carries in a ring allreduce): the numbers the cost model of
        docs/DISTRIBUTED.md is checked against.
        """)

    @Option(help: "float32 elements summed (repeatable; default 1200000, mnist-cnn's gradients).")
    var size: [Int] = []

    @Option(help: "Calls timed back to back in each of 5 batches (the median batch's mean is reported), after 3 untimed ones.")
    var repeats: Int = 20

    @Flag(help: "Print one JSON object per size.")
    var json = false

    func validate() throws {
        for s in size where !(1...(1 << 31)).contains(s) { throw ValidationError("--size must be in 1…2147483648 elements, got \(s)") }
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
        if MPIProcessGroup.launch == nil { throw ValidationError("bench allreduce runs under mpirun; \(MPIProcessGroup.launchHelp)") }
    }

    func run() throws {
        let group = try MPIProcessGroup.shared()
        defer { group.finalize() }
        let n = group.worldSize
        for count in size.isEmpty ? [1_200_000] : size {
            var buffer = [Float](repeating: 0, count: count)  // zeros stay zeros however often summed
            let sum = { try buffer.withUnsafeMutableBytes { try group.allReduce($0.baseAddress!, count: count, dtype: .float32, op: .sum) } }
            for _ in 0..<3 { try sum() }
            // 5 batches of `repeats` calls back to back (one barrier per batch, so that the
            // processes' skew leaving it is spread over the batch); the slowest process's mean per
            // call of each batch, and the median of the batches
            var times: [Double] = []
            for _ in 0..<5 {
                try group.barrier()
                let t0 = group.time()
                for _ in 0..<repeats { try sum() }
                times.append((group.time() - t0) / Double(repeats))
            }
            times = try group.allReduce(times, op: .max)
            guard group.rank == 0 else { continue }
            times.sort()
            let t = times[times.count / 2], bytes = Double(count * 4)
            let algbw = bytes / t / 1e9, busbw = 2 * Double(n - 1) / Double(n) * bytes / t / 1e9
            if json {
                print("{\"processes\":\(n),\"elements\":\(count),\"bytes\":\(count * 4),\"ms\":\(formatNumber(t * 1e3, 4)),\"algbw_gbs\":\(formatNumber(algbw, 4)),\"busbw_gbs\":\(formatNumber(busbw, 4))}")
            } else {
                print("allreduce of \(count) float32 (\(formatNumber(bytes / 1_048_576, 2)) MiB) over \(n) processes: \(formatNumber(t * 1e3, 3)) ms, \(formatNumber(algbw, 2)) GB/s algorithm bandwidth, \(formatNumber(busbw, 2)) GB/s bus bandwidth")
            }
        }
    }
}

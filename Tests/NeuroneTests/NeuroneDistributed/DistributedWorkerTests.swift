import XCTest
import Foundation
@testable import NeuroneDevice
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneOptim
@testable import NeuroneData
@testable import NeuroneDistributed

/// The tests of several processes: run by `DistributedTests.testWorkersUnderMPIrun` in each of the
/// processes mpirun starts (and skipped in a plain `swift test`, which is not under mpirun).
final class DistributedWorkerTests: XCTestCase {
    func testCollectivesAndDataParallelTraining() throws {
        guard MPIProcessGroup.launch != nil else {
            throw XCTSkip("runs under mpirun, started by DistributedTests.testWorkersUnderMPIrun")
        }
        let group = try MPIProcessGroup.shared()
        defer { group.finalize() }
        let (r, n) = (group.rank, group.worldSize)
        try collectives(group)
        // float32: N processes with global batch B end where one process with batch B ends
        for cap in [25.0, 0.0001] {
            let worst = try dataParallelAgainstOneProcess(group, dtype: .float32, bucketCapMB: cap)
            XCTAssertLessThanOrEqual(worst, 1e-6, "float32, bucket cap \(cap) MiB: max relative difference \(worst)")
        }
        let worst64 = try dataParallelAgainstOneProcess(group, dtype: .float64, bucketCapMB: 25)
        XCTAssertLessThanOrEqual(worst64, 1e-14, "float64: max relative difference \(worst64)")
        print("rank \(r) of \(n): float64 max relative difference \(worst64)")
        if n == 2 { try bitIdenticalToGradientAccumulation(group) }
        try differentModelsAreNamed(group)
        try unusedParametersGetZeroGradients(group)
        try group.barrier()
        print("rank \(r) of \(n): ok")
    }

    func collectives(_ group: MPIProcessGroup) throws {
        let (r, n) = (group.rank, group.worldSize)
        XCTAssertEqual(try group.allReduce([Double(r + 1), Double(r)]), [Double(n * (n + 1) / 2), Double(n * (n - 1) / 2)])
        XCTAssertEqual(try group.allReduce([Double(r)], op: .max), [Double(n - 1)])
        XCTAssertEqual(try group.allReduce([Double(r)], op: .min), [0])
        let t = Tensor([Float(r), 1, -2] as [Float], shape: [3])
        try group.allReduce(t)
        XCTAssertEqual(t.toArray(as: Float.self), [Float(n * (n - 1) / 2), Float(n), Float(-2 * n)])
        let i = Tensor([Int64(r) << 40], shape: [1])
        try group.allReduce(i, op: .max)
        XCTAssertEqual(i.toArray(as: Int64.self), [Int64(n - 1) << 40])
        let b = Tensor([Double(r), Double(r) * 2], shape: [2])
        try group.broadcast(b, root: n - 1)
        XCTAssertEqual(b.toArray(as: Double.self), [Double(n - 1), Double(2 * (n - 1))])
        let text = try group.broadcast(Array("from rank \(r)".utf8), root: 1)
        XCTAssertEqual(String(decoding: text, as: UTF8.self), "from rank 1")
        try group.barrier()
    }

    func model(_ dtype: DType, hidden: Int = 8) -> Sequential {
        let g = Generator(seed: 11)
        return Sequential([Linear(6, hidden, dtype: dtype, generator: g), Tanh(), Linear(hidden, 3, dtype: dtype, generator: g)])
    }

    /// k steps of SGD with momentum on 13 samples in global batches of 6 (6, 6, 1: the last one
    /// partial, and empty on every rank but 0), twice over: data-parallel here, and in one process on rank 0; returns the largest
    /// difference of a weight relative to that tensor's largest magnitude.
    func dataParallelAgainstOneProcess(_ group: ProcessGroup, dtype: DType, bucketCapMB: Double) throws -> Double {
        let g = Generator(seed: 3)
        let x = Tensor((0..<78).map { _ in g.nextNormal() }, shape: [13, 6]).to(dtype)
        let y = Tensor((0..<13).map { _ in Int64(g.nextInt(below: 3)) })
        let data = TensorDataset(inputs: x, labels: y)
        func train(_ m: Module, _ ddp: DistributedDataParallel?) throws {
            let opt = SGD(m.parameters(), lr: 0.1, momentum: 0.9)
            for epoch in 0..<2 {
                let loader = DataLoader(data, batchSize: 6, shuffle: true, prefetch: 0, generator: Generator(seed: UInt64(epoch)),
                                        sampler: ddp.map { DistributedSampler(rank: $0.processGroup.rank, worldSize: $0.processGroup.worldSize) })
                for (i, batch) in loader.enumerated() {
                    opt.zeroGrad()
                    let count = batch.labels.shape[0]
                    if let ddp {
                        ddp.gradientScale = Double(count) / Double(loader.globalBatchSize(i))
                        if count == 0 { try ddp.synchronizeWithoutBackward() }
                        else { Loss.crossEntropy(ddp(batch.inputs), batch.labels).backward() }
                    } else {
                        Loss.crossEntropy(m(batch.inputs), batch.labels).backward()
                    }
                    opt.step()
                }
            }
        }
        let parallel = model(dtype)
        let ddp = try DistributedDataParallel(parallel, processGroup: group, bucketCapMB: bucketCapMB)
        if bucketCapMB < 0.001 { XCTAssertEqual(ddp.bucketNames.count, 4, "one bucket per parameter at a cap of 104 bytes: \(ddp.bucketNames)") }
        else { XCTAssertEqual(ddp.bucketNames, [["2.bias", "2.weight", "0.bias", "0.weight"]]) }
        try train(parallel, ddp)
        XCTAssertEqual(ddp.statistics.steps, 6)
        // every bucket left while backward ran, except in the steps where a process had no
        // samples (the last batch of each epoch, 1 sample, is rank 0's alone)
        XCTAssertEqual(ddp.statistics.bucketsSentDuringBackward, (group.rank == 0 ? 6 : 4) * ddp.bucketNames.count)
        let single = model(dtype)
        try train(single, nil)
        var worst = 0.0
        for ((name, a), (_, b)) in zip(parallel.namedParameters(), single.namedParameters()) {
            let u = a.to(.float64).toArray(as: Double.self), v = b.to(.float64).toArray(as: Double.self)
            let scale = v.map(abs).max() ?? 1
            let d = zip(u, v).map { abs($0 - $1) }.max() ?? 0
            worst = Swift.max(worst, d / scale)
            XCTAssertTrue(u.allSatisfy(\.isFinite), name)
        }
        // every process holds the same weights
        let mine = parallel.parameters().flatMap { $0.to(.float64).toArray(as: Double.self) }
        let highest = try group.allReduce(mine, op: .max), lowest = try group.allReduce(mine, op: .min)
        XCTAssertEqual(highest, lowest, "the processes' weights differ")
        return worst
    }

    /// float64, 2 processes, parts of a power-of-two size: the same bits as one process that
    /// accumulates the gradients of the same two parts (a sum of two numbers does not depend on
    /// the order, and scaling by a power of two is exact).
    func bitIdenticalToGradientAccumulation(_ group: ProcessGroup) throws {
        let g = Generator(seed: 4)
        let x = Tensor((0..<96).map { _ in g.nextNormal() }, shape: [16, 6], dtype: .float64)
        let y = Tensor((0..<16).map { _ in Int64(g.nextInt(below: 3)) })
        let parallel = model(.float64), single = model(.float64)
        let ddp = try DistributedDataParallel(parallel, processGroup: group)
        let (optP, optS) = (SGD(parallel.parameters(), lr: 0.1, momentum: 0.9), SGD(single.parameters(), lr: 0.1, momentum: 0.9))
        for step in 0..<2 {
            let rows = step * 8 ..< step * 8 + 8
            optP.zeroGrad(); optS.zeroGrad()
            let mine = DistributedSampler(rank: group.rank, worldSize: 2).slice(of: rows)
            ddp.gradientScale = 0.5
            Loss.crossEntropy(ddp(x[mine]), y[mine]).backward()
            for r in 0..<2 {
                let part = DistributedSampler(rank: r, worldSize: 2).slice(of: rows)
                (Loss.crossEntropy(single(x[part]), y[part]) * 0.5).backward()
            }
            optP.step(); optS.step()
        }
        for ((name, a), (_, b)) in zip(parallel.namedParameters(), single.namedParameters()) {
            XCTAssertEqual(a.toArray(as: Double.self), b.toArray(as: Double.self), "\(name): not bit-identical")
        }
    }

    func differentModelsAreNamed(_ group: ProcessGroup) throws {
        let m = model(.float32, hidden: group.rank == 1 ? 9 : 8)
        XCTAssertThrowsError(try DistributedDataParallel(m, processGroup: group)) { e in
            let text = "\(e)"
            if group.rank == 1 {
                XCTAssertTrue(text.contains("rank 1's model differs from rank 0's at state-dict entry 1: rank 0 has 0.weight [8, 6] float32, rank 1 has 0.weight [9, 6] float32"), text)
            } else {
                XCTAssertTrue(text.contains("the processes' models differ (1 rank reported the difference)"), text)
            }
        }
    }

    func unusedParametersGetZeroGradients(_ group: ProcessGroup) throws {
        final class TwoHeads: Module {
            let used = Linear(2, 2, generator: Generator(seed: 1))
            let unused = Linear(2, 2, generator: Generator(seed: 2))
            override func forward(_ input: Tensor) -> Tensor { used(input) }
        }
        let m = TwoHeads()
        let ddp = try DistributedDataParallel(m, processGroup: group)
        ddp(Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])).sum().backward()
        XCTAssertEqual(m.unused.weight.grad?.toArray(as: Float.self), [0, 0, 0, 0])
        XCTAssertEqual(ddp.statistics.bucketsSentDuringBackward, 0, "the one bucket holds the unused parameters: it leaves at the end")
        // each process's gradient is the mean's share: the sum over N processes of x/N
        XCTAssertEqual(m.used.bias?.grad?.toArray(as: Float.self), [2, 2])
    }
}

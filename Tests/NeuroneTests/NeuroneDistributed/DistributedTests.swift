import XCTest
import Foundation
@testable import NeuroneDevice
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneData
@testable import NeuroneDistributed

/// The parts of data-parallel training that need one process, and the launcher of the tests that
/// need several (`DistributedWorkerTests`, run by Open MPI's mpirun).
final class DistributedTests: XCTestCase {
    func testSamplerPartsAreDisjointCoverTheBatchAndDifferByAtMostOne() {
        for count in 0...23 {
            for world in 1...5 {
                let parts = (0..<world).map { DistributedSampler.part(count: count, rank: $0, worldSize: world) }
                XCTAssertEqual(parts.first?.lowerBound, 0)
                XCTAssertEqual(parts.last?.upperBound, count)
                for r in 1..<world { XCTAssertEqual(parts[r].lowerBound, parts[r - 1].upperBound, "count \(count), world \(world)") }
                for (r, p) in parts.enumerated() {
                    XCTAssertEqual(p.count, count / world + (r < count % world ? 1 : 0), "count \(count), world \(world), rank \(r)")
                }
            }
        }
        // the rule, written out: 7 samples over 3 processes → 3, 2, 2; 1 sample → 1, 0, 0
        XCTAssertEqual((0..<3).map { DistributedSampler.part(count: 7, rank: $0, worldSize: 3) }, [0..<3, 3..<5, 5..<7])
        XCTAssertEqual((0..<3).map { DistributedSampler.part(count: 1, rank: $0, worldSize: 3) }, [0..<1, 1..<1, 1..<1])
        XCTAssertEqual(DistributedSampler(rank: 1, worldSize: 2).slice(of: 10..<15), 13..<15)
    }

    func testLoadersWithSamplersTakeTheirPartsOfTheSameGlobalBatches() {
        let n = 11
        let data = TensorDataset(inputs: Tensor((0..<n).map { Float($0) }, shape: [n, 1]), labels: Tensor((0..<n).map { Int64($0) }))
        let whole = DataLoader(data, batchSize: 4, shuffle: true, prefetch: 0, generator: Generator(seed: 5)).map { $0.labels.toArray(as: Int64.self) }
        XCTAssertEqual(whole.map(\.count), [4, 4, 3])
        for world in [2, 3, 5] {
            let parts = (0..<world).map { r in
                DataLoader(data, batchSize: 4, shuffle: true, prefetch: 0, generator: Generator(seed: 5),
                           sampler: DistributedSampler(rank: r, worldSize: world)).map { $0.labels.toArray(as: Int64.self) }
            }
            for (i, batch) in whole.enumerated() {
                XCTAssertEqual(parts.flatMap { $0[i] }, batch, "world \(world), batch \(i)")
            }
            let loader = DataLoader(data, batchSize: 4, sampler: DistributedSampler(rank: 0, worldSize: world))
            XCTAssertEqual((0..<4).map { loader.globalBatchSize($0) }, [4, 4, 3, 0])
        }
    }

    func testPostAccumulateGradHookRunsOnceWithTheFinalGradientThenTheQueuedCallback() {
        let x = Tensor([1.0, 2.0] as [Double], shape: [2])
        x.requiresGrad = true
        var events: [String] = []
        let first = x.registerPostAccumulateGradHook { t in
            events.append("hook \(t.grad!.toArray(as: Double.self))")
            Autograd.queueCallback { events.append("callback") }
        }
        x.registerPostAccumulateGradHook { _ in events.append("second") }
        // x is used by two ops: its gradient is final only after both have passed theirs back
        ((x * 2).sum() + (x * x).sum()).backward()
        XCTAssertEqual(events, ["hook [4.0, 6.0]", "second", "callback"])
        first.remove()
        first.remove()
        (x * 3).sum().backward()
        XCTAssertEqual(events, ["hook [4.0, 6.0]", "second", "callback", "second"])
        XCTAssertEqual(x.grad!.toArray(as: Double.self), [7, 9])
    }

    func testOutsideMPIrunTheProcessGroupSaysHowToLaunch() {
        XCTAssertNil(MPIProcessGroup.launch)
        XCTAssertThrowsError(try MPIProcessGroup.shared()) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("not started by mpirun") && m.contains("mpirun -np N neurone train"), m)
        }
    }

    /// Runs `DistributedWorkerTests` in 2 and 3 processes under Open MPI's mpirun.
    func testWorkersUnderMPIrun() throws {
        guard let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("Open MPI is not installed (apt-get install openmpi-bin libopenmpi-dev): the multi-process tests need mpirun")
        }
        let binary = ProcessInfo.processInfo.arguments[0]
        for np in [2, 3] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: mpirun)
            p.arguments = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", String(np), binary, "NeuroneTests.DistributedWorkerTests"]
            var env = ProcessInfo.processInfo.environment
            env["NEURONE_NUM_THREADS"] = "1"
            // a worker that fails on one rank must not leave the others waiting for long
            env["NEURONE_DISTRIBUTED_TIMEOUT"] = "60"
            p.environment = env
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "mpirun -np \(np) of the worker tests failed:\n\(output)")
            // every rank ran the worker test (not skipped) and passed it
            let passed = output.components(separatedBy: "Test Case 'DistributedWorkerTests.testCollectivesAndDataParallelTraining' passed").count - 1
            XCTAssertEqual(passed, np, output)
            XCTAssertFalse(output.contains("skipped"), output)
            for r in 0..<np { XCTAssertTrue(output.contains("rank \(r) of \(np): ok"), output) }
        }
    }
}

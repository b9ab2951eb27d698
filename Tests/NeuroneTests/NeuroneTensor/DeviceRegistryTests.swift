import XCTest
import Foundation
@testable import NeuroneDevice
@testable import NeuroneCPU
@testable import NeuroneReference
@testable import NeuroneTensor

/// The registry: the host backend is the one NEURONE_DEVICE names (the CPU's when unset), so a
/// suite run with NEURONE_DEVICE=reference really runs on the reference backend.
final class DeviceRegistryTests: XCTestCase {
    func testBackendFollowsNEURONE_DEVICE() {
        let want = ProcessInfo.processInfo.environment["NEURONE_DEVICE"] ?? "cpu"
        XCTAssertEqual(Device.cpu.backendName, want)
        XCTAssertEqual(Device.cpu.backend is ReferenceBackend, want == "reference")
        XCTAssertEqual(Device.cpu.backend is CPUBackend, want == "cpu")
        XCTAssertEqual(Device.hostBackends.map { $0.name }, ["cpu", "reference"])
        // tensors compute on it: a float32 tanh at 9 is exactly 1 on the CPU's kernel (it
        // saturates there) and tanhf's 0.99999994 on the reference backend
        let t = Tensor([Float(9)]).tanh().toArray(as: Float.self)[0]
        XCTAssertEqual(t, want == "reference" ? tanhf(9) : 1)
    }
}

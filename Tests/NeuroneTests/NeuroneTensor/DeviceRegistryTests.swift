import XCTest
import Foundation
@testable import NeuroneDevice
@testable import NeuroneCPU
@testable import NeuroneReference
@testable import NeuroneTensor

/// The registry: new tensors go to the device NEURONE_DEVICE names (the CPU when unset), so a
/// suite run with NEURONE_DEVICE=reference really runs on the reference backend.
final class DeviceRegistryTests: XCTestCase {
    func testDefaultDeviceFollowsNEURONE_DEVICE() {
        let want = ProcessInfo.processInfo.environment["NEURONE_DEVICE"] ?? "cpu"
        XCTAssertEqual(Device.default.name, want)
        XCTAssertEqual(Device.default.backend is ReferenceBackend, want == "reference")
        XCTAssertEqual(Device.default.backend is CPUBackend, want == "cpu")
        XCTAssertEqual(Device.registered.map { $0.name }, ["cpu", "reference"])
        XCTAssertEqual(Device(named: "reference"), .reference)
        XCTAssertNil(Device(named: "cuda"))
        XCTAssertEqual(Tensor([1, 2]).device, Device.default)
        XCTAssertEqual(Tensor.randn([2]).device, Device.default)
        // tensors compute on it: a float32 tanh at 9 is exactly 1 on the CPU's kernel (it
        // saturates there) and tanhf's 0.99999994 on the reference backend
        let t = Tensor([Float(9)]).tanh().toArray(as: Float.self)[0]
        XCTAssertEqual(t, want == "reference" ? tanhf(9) : 1)
    }

    func testEachDeviceComputesWithItsOwnBackend() {
        XCTAssertEqual(Tensor([Float(9)], device: .cpu).tanh().item(as: Float.self), 1)
        XCTAssertEqual(Tensor([Float(9)], device: .reference).tanh().item(as: Float.self), tanhf(9))
        XCTAssertEqual(Device.cpu.threadCount, Threading.threadCount)
        XCTAssertEqual(Device.reference.threadCount, 1)
    }
}

import Testing
import Foundation
@testable import NeuroneDevice
@testable import NeuroneCPU
@testable import NeuroneReference
@testable import NeuroneTensor
@testable import NeuroneNN

/// Mixing devices in one op is a programming error that stops the program with a message naming
/// the op and both devices: each case runs in a child process (swift-testing's exit tests) whose
/// standard error is checked.
@Suite struct MixedDeviceExitTests {
    @Test func anElementwiseOpOnTwoDevicesStopsNamingBoth() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor([1, 2, 3], device: .cpu) + Tensor([1, 2, 3], device: .reference)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("add: expected all tensors to be on the same device, but found at least two devices, cpu and reference"))
    }

    @Test func aLayerWhoseWeightsAreOnAnotherDeviceStopsNamingBoth() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let layer = Linear(3, 2).to(.reference)
            _ = layer(Tensor.ones([4, 3], device: .cpu))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("linear: expected all tensors to be on the same device, but found at least two devices, cpu and reference"))
    }

    @Test func aMatrixProductOnTwoDevicesStopsNamingBoth() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.ones([2, 2], device: .reference).matmul(Tensor.ones([2, 2], device: .cpu))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("matmul: expected all tensors to be on the same device, but found at least two devices, reference and cpu"))
    }
}

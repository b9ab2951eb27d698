import XCTest
@testable import NeuroneDevice
@testable import NeuroneCPU
@testable import NeuroneReference
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneOptim

/// Tensors belong to a device: `to(device:)` copies between devices, ops keep results on their
/// inputs' device, and the same model computed on the CPU and on the reference device agrees
/// (the reference backend as the tensor-level oracle of the CPU's kernels).
final class DeviceTests: XCTestCase {
    /// The registered device that is not the default one, so the tests cross devices whichever
    /// NEURONE_DEVICE the suite runs with.
    let other: Device = Device.default == .cpu ? .reference : .cpu

    func testToDeviceCopiesValuesAndKeepsShapeAndDType() {
        let x = Tensor((0..<12).map { Double($0) - 5.5 }, shape: [3, 4], dtype: .float64)
        let y = x.to(device: other)
        XCTAssertEqual(y.device, other)
        XCTAssertEqual(y.shape, [3, 4])
        XCTAssertEqual(y.dtype, .float64)
        XCTAssertEqual(y.doubles, x.doubles)
        XCTAssertTrue(x.to(device: x.device) === x, "to(device:) onto its own device is the tensor itself")
        // a strided view arrives as a contiguous copy in row-major order
        let t = x.transpose(0, 1).to(device: other)
        XCTAssertTrue(t.isContiguous)
        XCTAssertEqual(t.doubles, x.transpose(0, 1).doubles)
        // every dtype, back and forth
        for dt in [DType.float32, .float64, .int32, .int64, .bool] {
            let v = Tensor([0, 1, -2, 3], dtype: dt)
            XCTAssertEqual(v.to(device: other).to(device: .default).toArray(as: Double.self), v.toArray(as: Double.self), "\(dt)")
        }
        XCTAssertEqual(Tensor.zeros([0, 3]).to(device: other).shape, [0, 3])
    }

    func testOpsPutTheirResultsOnTheirInputsDevice() {
        let g = Generator(seed: 3)
        let x = Tensor.randn([2, 3, 6, 6], device: other, generator: g), w = Tensor.randn([4, 3, 3, 3], device: other, generator: g)
        let m = Tensor.randn([5, 7], device: other, generator: g)
        let results: [(String, Tensor)] = [
            ("add", m + m), ("scalar", m * 2.0), ("matmul", m.matmul(m.transpose(0, 1))), ("sum", m.sum()),
            ("max", m.max(dim: 1).values), ("argmax", m.argmax(dim: 1)), ("relu", m.relu()), ("softmax", m.softmax(dim: 1)),
            ("compare", m .> 0.0), ("where", Tensor.where(m .> 0.0, m, Tensor.zeros(like: m))), ("cast", m.to(.float64)),
            ("cat", Tensor.cat([m, m], dim: 0)), ("indexSelect", m.indexSelect(dim: 0, index: Tensor([Int64(4), 0], device: other))),
            ("oneHot", Tensor([Int64(1), 2], device: other).oneHot(numClasses: 3)),
            ("conv2d", x.conv2d(weight: w, padding: .explicit([1]))), ("maxPool2d", x.maxPool2d(kernel: [2])), ("avgPool2d", x.avgPool2d(kernel: [2])),
            ("linear", m.linear(weight: Tensor.randn([3, 7], device: other, generator: g))),
            ("dropout", m.dropout(p: 0.5, generator: g)), ("zerosLike", Tensor.zeros(like: m)), ("full", Tensor.full([2], 1, device: other)),
            ("eye", Tensor.eye(3, device: other)), ("arange", Tensor.arange(4, device: other)), ("rand", Tensor.rand([2], device: other)),
            ("randint", Tensor.randint(0, 5, [3], device: other)), ("scalar tensor", Tensor(2.5, device: other)),
            ("pad", m.pad([1, 2], value: 3)), ("logicalNot", (m .> 0.0).logicalNot()),
        ]
        for (name, t) in results { XCTAssertEqual(t.device, other, name) }
        // gradients land on the leaves' device
        let a = Tensor.randn([3, 4], device: other, generator: g).requiringGrad()
        (a * a).sum().backward()
        XCTAssertEqual(a.grad?.device, other)
        XCTAssertEqual(a.grad!.doubles, a.doubles.map { 2 * $0 }, "d(a²)/da")
    }

    func testAZeroDimensionalTensorJoinsAnOpOnAnotherDeviceAndGetsItsGradientHome() {
        // PyTorch's one exception to the same-device rule: a 0-d tensor is a scalar operand
        let x = Tensor([1.0, 2, 3], dtype: .float64, device: other).requiringGrad()
        let s = Tensor(2.0, dtype: .float64, device: .default).requiringGrad()
        let y = x * s
        XCTAssertEqual(y.device, other)
        XCTAssertEqual(y.doubles, [2, 4, 6])
        y.sum().backward()
        XCTAssertEqual(s.grad?.device, Device.default)
        XCTAssertEqual(s.grad?.item(), 6)
        XCTAssertEqual(x.grad?.doubles, [2, 2, 2])
    }

    func testGradientsFlowBackThroughACopyToAnotherDevice() {
        let a = Tensor([1.0, -2, 3], dtype: .float64).requiringGrad()
        let b = a.to(device: other)
        XCTAssertEqual(b.gradFnName, "ToCopyBackward")
        (b * b).sum().backward()
        XCTAssertEqual(a.grad?.device, Device.default)
        XCTAssertEqual(a.grad?.doubles, [2, -4, 6])
    }

    func testMixedDevicesMessageNamesTheOpAndBothDevices() {
        let msg = Tensor.mixedDevicesMessage("add", .cpu, .reference)
        XCTAssertTrue(msg.hasPrefix("add: expected all tensors to be on the same device"), msg)
        XCTAssertTrue(msg.contains("cpu and reference"), msg)
        XCTAssertTrue(msg.contains(".to(device:)"), msg)
    }

    /// The tensor-level oracle: one network with the same weights on the CPU and on the reference
    /// device gives the same outputs, input gradients, parameter gradients and optimiser steps (SGD: Adam's first step divides by |g| and magnifies rounding in near-zero gradients).
    func testTheSameModelOnTheCPUAndTheReferenceDeviceAgrees() throws {
        for name in ["lenet5", "course-cnn", "attention"] {
            let (cpuModel, shape) = try NamedModels.make(name, input: [1, 28, 28], generator: Generator(seed: 11))
            let (refModel, _) = try NamedModels.make(name, input: [1, 28, 28], generator: Generator(seed: 11))
            cpuModel.to(.cpu)
            refModel.to(.reference)
            XCTAssertTrue(refModel.parameters().allSatisfy { $0.device == .reference && $0.requiresGrad }, name)
            XCTAssertTrue(cpuModel.parameters().allSatisfy { $0.device == .cpu }, name)
            let x = Tensor.rand([3] + shape, device: .cpu, generator: Generator(seed: 5))
            let labels = Tensor([Int64(1), 7, 3], device: .cpu)
            let xr = x.to(device: .reference).requiringGrad(), xc = x.requiringGrad()
            let (optC, optR) = (SGD(cpuModel.parameters(), lr: 0.1, momentum: 0.9), SGD(refModel.parameters(), lr: 0.1, momentum: 0.9))
            let lc = Loss.crossEntropy(cpuModel(xc), labels), lr = Loss.crossEntropy(refModel(xr), labels.to(device: .reference))
            XCTAssertEqual(lr.device, .reference)
            XCTAssertEqual(lc.item(), lr.item(), accuracy: 1e-5 * Swift.max(1, abs(lc.item())), name)
            lc.backward(); lr.backward()
            assertClose(xc.grad!, xr.grad!, "\(name) input gradient")
            for ((pname, pc), (_, pr)) in zip(cpuModel.namedParameters(), refModel.namedParameters()) {
                XCTAssertEqual(pr.grad?.device, .reference)
                assertClose(pc.grad!, pr.grad!, "\(name) \(pname) gradient")
            }
            optC.step(); optR.step()
            for ((pname, pc), (_, pr)) in zip(cpuModel.namedParameters(), refModel.namedParameters()) {
                assertClose(pc, pr, "\(name) \(pname) after an SGD step")
            }
        }
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        let (x, y) = (a.doubles, b.doubles)
        let scale = Swift.max(1e-3, x.map { abs($0) }.max() ?? 0)
        let err = zip(x, y).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(err, 2e-4 * scale, "\(what): max |cpu − reference| \(err) against a scale of \(scale)", file: file, line: line)
    }
}

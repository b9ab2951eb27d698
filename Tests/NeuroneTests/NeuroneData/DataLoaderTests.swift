import Foundation
import XCTest
@testable import Neurone
@testable import NeuroneDevice
@testable import NeuroneCPU
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneOptim
@testable import NeuroneIO
@testable import NeuroneData
@testable import NeuronePlots
@testable import NeuroneTraining
@testable import NeuroneExplain

/// Transforms against hand-computed results and slow reference loops; the background loader
/// against the foreground one.
final class DataLoaderTests: XCTestCase {
    func testNormalizePerChannelAndOneHot() {
        let x = Tensor([1, 2, 3, 4, 10, 20, 30, 40] as [Float], shape: [1, 2, 2, 2])
        let y = Normalize(mean: [2, 20], std: [2, 10])(x.clone(), generator: Generator(seed: 0))
        XCTAssertEqual(y.toArray(as: Float.self), [-0.5, 0, 0.5, 1, -1, 0, 1, 2])
        let labels = OneHot(classes: 3)(Tensor([2, 0] as [Int64]), generator: Generator(seed: 0))
        XCTAssertEqual(labels.shape, [2, 3])
        XCTAssertEqual(labels.toArray(as: Float.self), [0, 0, 1, 1, 0, 0])
    }

    /// The shift and crop of each sample, recomputed from the same draws by slicing.
    func testShiftCropAndFlipMatchAReferenceBuiltFromTheSameDraws() {
        let x = Tensor.randn([5, 2, 6, 7], generator: Generator(seed: 1))
        let shifted = RandomShift(maxShift: 2)(x, generator: Generator(seed: 9))
        let g = Generator(seed: 9), xs = x.toArray(as: Float.self)
        var expected = [Float](repeating: 0, count: x.count)
        for s in 0..<5 {
            let dy = Int(g.nextInt(below: 5)) - 2, dx = Int(g.nextInt(below: 5)) - 2
            for c in 0..<2 { for yy in 0..<6 { for xx in 0..<7 {
                let sy = yy - dy, sx = xx - dx
                if (0..<6).contains(sy) && (0..<7).contains(sx) { expected[((s * 2 + c) * 6 + yy) * 7 + xx] = xs[((s * 2 + c) * 6 + sy) * 7 + sx] }
            } } }
        }
        XCTAssertEqual(shifted.toArray(as: Float.self), expected)
        let cropped = RandomCrop(height: 4, width: 4, padding: 1)(x, generator: Generator(seed: 4))
        XCTAssertEqual(cropped.shape, [5, 2, 4, 4])
        let padded = x.pad([1, 1, 1, 1])
        let g2 = Generator(seed: 4)
        for s in 0..<5 {
            let top = Int(g2.nextInt(below: 5)), left = Int(g2.nextInt(below: 6))
            let window = padded[s].narrow(dim: 1, start: top, length: 4).narrow(dim: 2, start: left, length: 4)
            XCTAssertEqual(cropped[s].toArray(as: Float.self), window.contiguous().toArray(as: Float.self))
        }
        let flipped = RandomHorizontalFlip(p: 0.5)(x.clone(), generator: Generator(seed: 2))
        let g3 = Generator(seed: 2)
        var flips = 0
        for s in 0..<5 {
            let flip = g3.nextDouble() < 0.5
            flips += flip ? 1 : 0
            let expected = flip ? x[s].indexSelect(dim: 2, index: Tensor((0..<7).reversed().map { Int64($0) })) : x[s]
            XCTAssertEqual(flipped[s].toArray(as: Float.self), expected.contiguous().toArray(as: Float.self))
        }
        XCTAssertTrue((1...4).contains(flips))
    }

    func testBackgroundBatchesEqualForegroundOnesAndStopEarlyCleanly() {
        let d = TensorDataset(inputs: Tensor.randn([103, 1, 5, 5], generator: Generator(seed: 3)), labels: Tensor.arange(103))
        func epochs(prefetch: Int) -> [[Float]] {
            let loader = DataLoader(d, batchSize: 10, shuffle: true, transforms: [RandomShift(maxShift: 1)], prefetch: prefetch,
                                    generator: Generator(seed: 8))
            var out: [[Float]] = []
            for _ in 0..<2 { for b in loader { out.append(b.inputs.toArray(as: Float.self) + b.labels.toArray(as: Float.self)) } }
            return out
        }
        let fore = epochs(prefetch: 0), back = epochs(prefetch: 3)
        XCTAssertEqual(fore.count, 22)
        XCTAssertEqual(fore, back)
        // Leaving an epoch after one batch stops the background thread; the next epoch starts afresh.
        let loader = DataLoader(d, batchSize: 10, prefetch: 2)
        for _ in 0..<50 { for b in loader { XCTAssertEqual(b.labels.shape, [10]); break } }
        XCTAssertEqual(Array(loader).count, 11)
    }

    func testGeneratorStateRestoresTheStream() {
        let g = Generator(seed: 5)
        _ = g.nextNormal()  // leaves a spare normal
        let saved = g.state
        let a = (0..<5).map { _ in g.nextNormal() }
        g.state = saved
        XCTAssertEqual((0..<5).map { _ in g.nextNormal() }, a)
    }
}

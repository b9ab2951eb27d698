import Foundation
import XCTest
import Neurone

/// The five-line example of README.md, verbatim, checked against the chain rule by hand.
final class ReadmeExampleTests: XCTestCase {
    func testReadmeExample() {
        let x = Tensor([0.05, 0.10], dtype: .float64)
        let w = Tensor.randn([2, 2], dtype: .float64, generator: Generator(seed: 0)).requiringGrad()
        let loss = ((w.matmul(x)).sigmoid() - Tensor([0.01, 0.99], dtype: .float64)).square().sum() * 0.5
        loss.backward(); print(w.grad!)   // ∂loss/∂w, exact in float64

        let wv = w.doubles, xv = [0.05, 0.10], y = [0.01, 0.99]
        for i in 0..<2 {
            let z = wv[2 * i] * xv[0] + wv[2 * i + 1] * xv[1]
            let a = 1 / (1 + Foundation.exp(-z))
            for j in 0..<2 {
                XCTAssertEqual(w.grad!.doubles[2 * i + j], (a - y[i]) * a * (1 - a) * xv[j], accuracy: 1e-15)
            }
        }
    }
}

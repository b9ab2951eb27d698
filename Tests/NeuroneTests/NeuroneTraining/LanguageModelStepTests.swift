import Foundation
import XCTest
@testable import Neurone
@testable import NeuroneDevice
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneOptim
@testable import NeuroneIO
@testable import NeuroneTraining

/// Training steps of small character-level language models replayed against PyTorch
/// (scripts/make_lm_steps_reference.py): the same initial weights, batches and Adam steps must
/// give the same loss at every step and the same weights at the end — the whole training step of
/// a sequence model (embedding, LSTM or causal pre-norm encoder, per-position cross-entropy,
/// Adam) checked at once.
final class LanguageModelStepTests: XCTestCase {
    let specs = ["lstm": "embedding(12,8) lstm(16) linear(12)",
                 "transformer": "embedding(12,16) posenc encoder(2,ff=32,layers=2,dropout=0,norm_first=true,causal=true) layernorm linear(12)"]

    func testTrainingStepsMatchPyTorch() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "lm_steps_torch", withExtension: "safetensors", subdirectory: "Reference"))
        let (t, meta) = try Safetensors.read(url.path)
        let steps = try XCTUnwrap(Int(meta["steps"] ?? "")), lr = try XCTUnwrap(Double(meta["lr"] ?? ""))
        for device in Device.registered {
            for key in specs.keys.sorted() {
                let label = "\(key) on \(device.name)"
                let model = try ModelSpec.build(specs[key]!, input: [10])
                let prefix = "\(key).init."
                try model.loadStateDict(Dictionary(uniqueKeysWithValues: t.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) }),
                                        strict: false)
                XCTAssertEqual(t.keys.filter { $0.hasPrefix(prefix) }.count, model.namedParameters().count, label)
                model.to(device)
                let trainer = Trainer(model: model, optimizer: Adam(model.parameters(), lr: lr))
                let x = t["\(key).x"]!, y = t["\(key).y"]!
                let expected = t["\(key).losses"]!.toArray(as: Double.self)
                var worst = 0.0
                for s in 0..<steps {
                    trainer.optimizer.zeroGrad()
                    let loss = trainer.loss(model(x.select(dim: 0, index: s).contiguous().to(device: device)), y.select(dim: 0, index: s).contiguous().to(device: device))
                    worst = Swift.max(worst, Swift.abs(loss.item() - expected[s]))
                    loss.backward()
                    trainer.optimizer.step()
                }
                XCTAssertLessThan(worst, 2e-4, "\(label): loss differs from PyTorch's by up to \(worst)")
                // Adam divides by √v: a weight whose gradients are all but zero moves by ±lr on
                // rounding noise, so the largest difference is a few steps' worth; the typical one is tiny.
                var worstWeight = 0.0, sum = 0.0, count = 0
                for (name, p) in model.namedParameters() {
                    let want = t["\(key).final.\(name)"]!.toArray(as: Double.self), got = p.to(.float64).toArray(as: Double.self)
                    XCTAssertEqual(got.count, want.count, "\(label): \(name)")
                    for (a, b) in zip(got, want) { worstWeight = Swift.max(worstWeight, Swift.abs(a - b)); sum += Swift.abs(a - b); count += 1 }
                }
                XCTAssertLessThan(worstWeight, 1e-2, "\(label): weights after \(steps) steps differ from PyTorch's by up to \(worstWeight)")
                XCTAssertLessThan(sum / Double(count), 1e-4, "\(label): weights after \(steps) steps differ from PyTorch's by \(sum / Double(count)) on average")
            }
        }
    }
}

import Foundation
import XCTest
@testable import Neurone
@testable import NeuroneDevice
@testable import NeuroneTensor
@testable import NeuroneNN
@testable import NeuroneIO

/// TransformerEncoderLayer, TransformerEncoder and TransformerDecoderLayer against PyTorch
/// (scripts/make_transformer_reference.py), by finite differences in float64, and the masks and
/// position encodings.
final class TransformerTests: XCTestCase {
    func assertClose(_ got: Tensor?, _ want: Tensor?, _ label: String, tol: Double) {
        guard let want else { return }
        guard let got else { return XCTFail("\(label): missing") }
        XCTAssertEqual(got.shape, want.shape, label)
        guard got.shape == want.shape else { return }
        let g = got.to(device: .cpu).to(.float64).toArray(as: Double.self), w = want.toArray(as: Double.self)
        var worst = 0.0
        for k in 0..<w.count { worst = Swift.max(worst, Swift.abs(g[k] - w[k]) / (1 + Swift.abs(w[k]))) }
        XCTAssertLessThanOrEqual(worst, tol, label)
    }

    func testAgainstPyTorch() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "transformer_torch", withExtension: "safetensors", subdirectory: "Reference"))
        let (t, meta) = try Safetensors.read(url.path)
        let cases = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(meta["cases"]).utf8)) as? [String: [String: Any]])
        XCTAssertEqual(cases.count, 5)
        for device in Device.registered {
            for (dtype, tol) in [(DType.float64, 1e-10), (.float32, 5e-5)] {
                for name in cases.keys.sorted() {
                    let c = cases[name]!, label = "\(name) \(dtype) on \(device.name)"
                    let d = c["d_model"] as! Int, h = c["nhead"] as! Int, ff = c["dim_feedforward"] as! Int
                    let act = TransformerActivation(rawValue: c["activation"] as! String)!
                    let bf = c["batch_first"] as! Bool, nf = c["norm_first"] as! Bool, kind = c["kind"] as! String
                    func make() -> TransformerEncoderLayer {
                        TransformerEncoderLayer(dModel: d, nhead: h, dimFeedforward: ff, dropout: 0, activation: act, batchFirst: bf, normFirst: nf, dtype: dtype)
                    }
                    let module: Module = kind == "encoder" ? TransformerEncoder(numLayers: c["layers"] as! Int, norm: LayerNorm([d], dtype: dtype), makeLayer: make)
                        : kind == "encoder_layer" ? make()
                        : TransformerDecoderLayer(dModel: d, nhead: h, dimFeedforward: ff, dropout: 0, activation: act, batchFirst: bf, normFirst: nf, dtype: dtype)
                    let prefix = "\(name).param."
                    let params = Dictionary(uniqueKeysWithValues: t.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
                    try module.loadStateDict(params)
                    module.to(device)
                    module.eval()
                    func leaf(_ key: String) -> Tensor {
                        let l = t["\(name).\(key)"]!.to(dtype).to(device: device).detach()
                        l.requiresGrad = true
                        return l
                    }
                    func mask(_ key: String) -> Tensor? { t["\(name).\(key)"]?.to(device: device) }
                    var inputs: [String: Tensor] = [:]
                    let out: Tensor
                    if kind == "decoder_layer" {
                        let (tgt, memory) = (leaf("tgt"), leaf("memory"))
                        inputs = ["tgt": tgt, "memory": memory]
                        let steps = tgt.shape[bf ? 1 : 0]
                        let causal = (c["causal"] as! Bool) ? Tensor.causalMask(steps, dtype: dtype, device: device) : nil
                        out = (module as! TransformerDecoderLayer)(tgt, memory: memory, tgtMask: causal, memoryKeyPaddingMask: mask("memory_key_padding_mask"))
                    } else {
                        let src = leaf("src")
                        inputs = ["src": src]
                        let steps = src.shape[bf ? 1 : 0]
                        let causal = (c["causal"] as! Bool) ? Tensor.causalMask(steps, dtype: dtype, device: device) : nil
                        out = kind == "encoder" ? (module as! TransformerEncoder)(src, mask: causal, keyPaddingMask: mask("key_padding_mask"))
                            : (module as! TransformerEncoderLayer)(src, mask: causal, keyPaddingMask: mask("key_padding_mask"))
                    }
                    assertClose(out, t["\(name).output"], "\(label) output", tol: tol)
                    (out * t["\(name).w_output"]!.to(dtype).to(device: device)).sum().backward()
                    for (k, v) in inputs { assertClose(v.grad, t["\(name).grad.\(k)"], "\(label) grad \(k)", tol: tol) }
                    let named = module.namedParameters()
                    XCTAssertEqual(Set(named.map { $0.0 }), Set(params.keys), label)
                    for (pname, p) in named { assertClose(p.grad, t["\(name).grad.param.\(pname)"], "\(label) grad \(pname)", tol: tol) }
                }
            }
        }
    }

    /// Finite differences in float64 through the input and every parameter, post- and pre-norm,
    /// with a causal mask and with padding.
    func testGradcheck() {
        let gen = Generator(seed: 23)
        for (normFirst, act) in [(false, TransformerActivation.relu), (true, .gelu)] {
            let layer = TransformerEncoderLayer(dModel: 4, nhead: 2, dimFeedforward: 6, dropout: 0, activation: act, batchFirst: true,
                                                normFirst: normFirst, dtype: .float64, generator: gen)
            layer.eval()
            let params = layer.namedParameters()
            let x = Tensor.uniform([2, 3, 4], low: -1, high: 1, dtype: .float64, generator: gen)
            let padding = Tensor([false, false, true, false, false, false], shape: [2, 3])
            let result = gradcheck({ xs in
                layer.replaceParameters(Dictionary(uniqueKeysWithValues: params.enumerated().map { ($0.element.0, xs[$0.offset + 1]) }))
                return layer(xs[0], mask: Tensor.causalMask(3, dtype: .float64), keyPaddingMask: padding)
            }, inputs: [x] + params.map { $0.1.detach() })
            XCTAssertTrue(result.passed, "normFirst \(normFirst): \(result)")
        }
    }

    func testMasksEncodingsAndNames() {
        XCTAssertEqual(Tensor.causalMask(3).toArray(as: Float.self), [0, -.infinity, -.infinity, 0, 0, -.infinity, 0, 0, 0])
        let pe = SinusoidalPositionalEncoding(dModel: 4, maxLength: 10)
        let v = pe.pe.toArray(as: Float.self)
        XCTAssertEqual(Array(v[0..<4]), [0, 1, 0, 1])
        XCTAssertEqual(Double(v[4]), sin(1.0), accuracy: 1e-6)
        XCTAssertEqual(Double(v[5]), cos(1.0), accuracy: 1e-6)
        XCTAssertEqual(Double(v[6]), sin(0.01), accuracy: 1e-6)   // 1 / 10000^(2/4)
        XCTAssertEqual(pe.stateDict().map { $0.0 }, ["pe"])
        XCTAssertEqual(pe(Tensor.zeros([2, 3, 4])).shape, [2, 3, 4])
        XCTAssertEqual(LearnedPositionalEncoding(dModel: 4, maxLength: 7).stateDict().map { "\($0.0) \($0.1.shape)" }, ["embedding.weight [7, 4]"])
        let encoder = TransformerEncoder(numLayers: 2, norm: LayerNorm(8)) { TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16) }
        let names = encoder.stateDict().map { $0.0 }
        XCTAssertEqual(names.count, 2 * 12 + 2)
        XCTAssertEqual(Array(names.prefix(12)), ["layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias", "layers.0.self_attn.out_proj.weight",
                                                  "layers.0.self_attn.out_proj.bias", "layers.0.linear1.weight", "layers.0.linear1.bias",
                                                  "layers.0.linear2.weight", "layers.0.linear2.bias", "layers.0.norm1.weight", "layers.0.norm1.bias",
                                                  "layers.0.norm2.weight", "layers.0.norm2.bias"])
        XCTAssertEqual(Array(names.suffix(2)), ["norm.weight", "norm.bias"])
        XCTAssertTrue(TransformerDecoderLayer(dModel: 8, nhead: 2).stateDict().map { $0.0 }.contains("multihead_attn.in_proj_weight"))
    }
}

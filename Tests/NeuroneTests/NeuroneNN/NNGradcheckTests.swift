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
import CNeuroneKernels

/// Float64 finite-difference checks of every layer's and loss's gradients.
final class NNGradcheckTests: XCTestCase {
    let gen = Generator(seed: 21)

    func r(_ shape: [Int], lo: Double = -1, hi: Double = 1) -> Tensor {
        Tensor.uniform(shape, low: lo, high: hi, dtype: .float64, generator: gen)
    }

    func check(_ name: String, _ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line, _ f: @escaping ([Tensor]) -> Tensor) {
        let result = gradcheck(f, inputs: inputs)
        XCTAssertTrue(result.passed, "\(name): \(result)", file: file, line: line)
    }

    func testConvolutions() {
        let configs: [([Int], [Int], [Int], ConvPadding, [Int], Int)] = [
            ([1, 2, 5, 5], [3, 2, 3, 3], [1], .explicit([1]), [1], 1),
            ([2, 2, 6, 5], [2, 2, 2, 3], [2, 1], .explicit([0, 1]), [1], 1),
            ([1, 4, 5, 5], [4, 2, 3, 3], [1], .explicit([1]), [1], 2),
            ([1, 1, 7, 7], [1, 1, 3, 3], [1], .explicit([2]), [2], 1),
            ([1, 2, 5, 4], [2, 2, 4, 4], [1], .same, [1], 1),
            ([1, 1, 8, 8], [2, 1, 2, 2], [3], .valid, [1], 1),
            // columns of ≥ 32 entries take the one-GEMM-per-batch path
            ([2, 4, 5, 5], [3, 4, 3, 3], [1], .explicit([1]), [1], 1),
            ([2, 4, 7, 6], [2, 4, 3, 3], [2, 1], .explicit([0, 1]), [1, 2], 1),
            ([1, 8, 4, 4], [2, 8, 2, 2], [1], .same, [1], 1),
        ]
        for (xs, ws, s, p, d, g) in configs {
            check("conv2d x\(xs) w\(ws) s\(s) \(p) d\(d) g\(g)", [r(xs), r(ws), r([ws[0]])]) {
                $0[0].conv2d(weight: $0[1], bias: $0[2], stride: s, padding: p, dilation: d, groups: g)
            }
        }
        check("conv2d one-GEMM path without bias", [r([2, 4, 4, 4]), r([2, 4, 3, 3])]) { $0[0].conv2d(weight: $0[1], padding: .explicit([1])) }
        check("linear function 3-D input", [r([2, 3, 4]), r([5, 4]), r([5])]) { $0[0].linear(weight: $0[1], bias: $0[2]) }
        check("linear function no bias", [r([3, 4]), r([2, 4])]) { $0[0].linear(weight: $0[1]) }
        check("conv1d", [r([2, 2, 7]), r([3, 2, 3]), r([3])]) { $0[0].conv1d(weight: $0[1], bias: $0[2], stride: 2, padding: .explicit([1])) }
    }

    func testTransposedConvolutionAndAttention() {
        check("convTranspose2d", [r([2, 3, 3, 2]), r([3, 2, 3, 3]), r([2])]) {
            $0[0].convTranspose2d(weight: $0[1], bias: $0[2], stride: [2], padding: [1], outputPadding: [1])
        }
        check("convTranspose2d groups dilation", [r([1, 4, 3, 3]), r([4, 1, 2, 2])]) {
            $0[0].convTranspose2d(weight: $0[1], stride: [1, 2], dilation: [2, 1], groups: 2)
        }
        let mha = MultiheadAttention(embedDim: 4, numHeads: 2, batchFirst: true, dtype: .float64, generator: gen)
        let mask = Tensor([false, false, true], shape: [1, 3]).expand([2, 3]).contiguous()
        check("multihead attention", [r([2, 2, 4]), r([2, 3, 4]), r([2, 3, 4])]) {
            mha(query: $0[0], key: $0[1], value: $0[2], keyPaddingMask: mask).output
        }
        check("multihead attention weights", [r([2, 2, 4]), r([2, 3, 4])]) {
            mha(query: $0[0], key: $0[1], value: $0[1]).weights
        }
        check("multihead attention, fused path", [r([2, 2, 4]), r([2, 3, 4]), r([2, 3, 4])]) {
            mha(query: $0[0], key: $0[1], value: $0[2], keyPaddingMask: mask, needWeights: false).output
        }
        check("multihead self-attention, fused path", [r([2, 3, 4])]) {
            mha(query: $0[0], key: $0[0], value: $0[0], attnMask: Tensor.eye(3).to(.bool), needWeights: false).output
        }
        // The fused kernel on column blocks of one tensor (row stride 12, heads read in place), with
        // a per-(sample, head) additive mask that hides some keys.
        var hidden = [Double](repeating: 0, count: 2 * 2 * 3 * 4)
        for i in stride(from: 0, to: hidden.count, by: 5) { hidden[i] = -.infinity }
        let perHead = Tensor(hidden, shape: [4, 3, 4])
        check("scaledDotProductAttention", [r([2, 3, 12]), r([2, 4, 12])]) {
            let (q, kv) = ($0[0].narrow(dim: 2, start: 4, length: 4), $0[1])
            return Tensor.scaledDotProductAttention(q: q, k: kv.narrow(dim: 2, start: 0, length: 4), v: kv.narrow(dim: 2, start: 8, length: 4),
                                                    heads: 2, mask: perHead).output
        }
    }

    /// Dropout on the attention weights inside the fused kernel: O = (P ⊙ M)·V with M's
    /// multipliers (0 or 1/(1 − p)), P returned undropped; gradients against finite differences
    /// (M fixed), on the general kernel (S = 37, D = 5) and through self-attention's packed path.
    func testFusedAttentionDropoutGradients() {
        let (n, h, l, s) = (2, 2, 3, 37)
        let multipliers = (0..<(n * h * l * s)).map { $0 % 3 == 1 ? 0.0 : 1.5 }
        let m = Tensor(multipliers, shape: [n, h, l, s])
        check("scaledDotProductAttention dropout", [r([n, l, h * 5]), r([n, s, h * 5]), r([n, s, h * 5])]) {
            Tensor.scaledDotProductAttention(q: $0[0], k: $0[1], v: $0[2], heads: h, dropoutMask: m).output
        }
        let mSelf = Tensor((0..<(n * h * 4 * 4)).map { $0 % 4 == 2 ? 0.0 : 4.0 / 3 }, shape: [n, h, 4, 4])
        check("packedSelfAttention dropout", [r([n, 4, 3 * h * 8])]) {
            Tensor.packedSelfAttention(qkv: $0[0], heads: h, mask: nil, dropoutMask: mSelf, needProbabilities: false).output
        }
    }

    /// MultiheadAttention in training with dropout: the fused path (dropout inside the kernel)
    /// gives what the composite ops give (needWeights with autograd on forces them) — the same
    /// weights dropped, the same output, input and parameter gradients — for self- and
    /// cross-attention, with a key-padding mask, float64 and float32; and dropout = 1 drops all.
    func testMultiheadAttentionDropoutFusedMatchesComposite() {
        for dt in [DType.float64, .float32] {
            for (selfAttn, p) in [(true, 0.3), (false, 0.5), (true, 1.0)] {
                let (x0, y0) = (r([2, 5, 12]), r([2, 7, 12]))
                func run(composite: Bool) -> [Tensor] {
                    let mha = MultiheadAttention(embedDim: 12, numHeads: 3, dropout: p, batchFirst: true, dtype: dt, generator: Generator(seed: 11))
                    mha.train()
                    let x = x0.to(dt).detach().requiringGrad(), y = y0.to(dt).detach().requiringGrad()
                    let pad = Tensor([false, false, false, false, false, true, true, false, false, false, false, false, false, true], shape: [2, 7])
                    let out = selfAttn ? mha(query: x, key: x, value: x, needWeights: composite).output
                                       : mha(query: x, key: y, value: y, keyPaddingMask: pad, needWeights: composite).output
                    (out * Tensor.arange(0, Double(out.count)).reshape(out.shape).to(dt).sin()).sum().backward()
                    return [out.detach(), x.grad!, selfAttn ? x.grad! : y.grad!, mha.inProjWeight.grad!, mha.outProj.weight.grad!]
                }
                let fused = run(composite: false), composite = run(composite: true)
                let tol = dt == .float64 ? 1e-12 : 2e-5
                for (i, (a, b)) in zip(fused, composite).enumerated() {
                    let err = (a.to(.float64) - b.to(.float64)).abs().max().item()
                    XCTAssertLessThan(err, tol, "\(dt) self \(selfAttn) p \(p): tensor \(i) differs by \(err)")
                }
                if p == 1 { XCTAssertEqual(fused[3].abs().max().item(), 0, "dropout 1: no gradient reaches the input projection") }
                if p < 1 { XCTAssertGreaterThan(fused[1].abs().max().item(), 0) }
            }
        }
    }

    /// The fused attention kernel's wide paths (32- and 8-column score blocks, 16- and 8-wide
    /// output blocks, odd row and column counts) against the composite ops, forward in float32 and
    /// float64, and its gradients against finite differences.
    func testFusedAttentionWidePathsMatchCompositeOps() {
        let (n, l, s, h, d) = (2, 5, 37, 2, 27)                    // D = 27: a 16-block, an 8-block, 3 single columns
        let q = r([n, l, h * d]), k = r([n, s, h * d]), v = r([n, s, h * d])
        var hidden = [Double](repeating: 0, count: l * s)
        for i in stride(from: 3, to: hidden.count, by: 7) { hidden[i] = -.infinity }
        let mask = Tensor(hidden, shape: [l, s])
        func composite(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> Tensor {
            func heads(_ t: Tensor) -> Tensor { t.reshape([n, t.shape[1], h, d]).permute(0, 2, 1, 3) }
            let scores = heads(q).matmul(heads(k).transpose(-2, -1)) * (1 / Double(d).squareRoot()) + mask.to(q.dtype)
            return scores.softmax(dim: -1).matmul(heads(v)).permute(0, 2, 1, 3).reshape([n, l, h * d])
        }
        for dt in [DType.float64, .float32] {
            let (qd, kd, vd) = (q.to(dt), k.to(dt), v.to(dt))
            let fused = withNoGrad { Tensor.scaledDotProductAttention(q: qd, k: kd, v: vd, heads: h, mask: mask.to(dt)) }
            let diff = withNoGrad { (fused.output - composite(qd, kd, vd)).abs().max().item() }
            XCTAssertLessThan(diff, dt == .float64 ? 1e-12 : 1e-5, "\(dt)")
            let rowSums = withNoGrad { fused.probabilities.sum(dim: -1) }.to(.float64).toArray(as: Double.self)
            XCTAssertTrue(rowSums.allSatisfy { Swift.abs($0 - 1) < 1e-5 })
        }
        check("scaledDotProductAttention wide", [r([1, 3, 2 * 27]), r([1, 37, 2 * 27]), r([1, 37, 2 * 27])]) {
            Tensor.scaledDotProductAttention(q: $0[0], k: $0[1], v: $0[2], heads: 2, mask: mask.narrow(dim: 0, start: 0, length: 3)).output
        }
    }

    /// Self-attention inference runs in chunks of samples (projections and attention per chunk);
    /// it must give what the whole-batch path gives (needWeights forces that path) and what the
    /// composite ops give with autograd on: 20 samples of 28 tokens are 3 chunks, the last one
    /// partial; batch-first and sequence-first, with and without a 2-D mask, float32 and float64.
    func testChunkedSelfAttentionInferenceMatchesWholeBatch() {
        for dt in [DType.float64, .float32] {
            for batchFirst in [true, false] {
                let mha = MultiheadAttention(embedDim: 12, numHeads: 3, batchFirst: batchFirst, dtype: dt, generator: Generator(seed: 5))
                for (i, p) in mha.parameters().enumerated() { withNoGrad { p.copy(from: Tensor.uniform(p.shape, low: -0.5, high: 0.5, dtype: dt, generator: Generator(seed: UInt64(10 + i)))) } }
                let x = Tensor.uniform(batchFirst ? [20, 28, 12] : [28, 20, 12], low: -1, high: 1, dtype: dt, generator: Generator(seed: 3))
                var causal = [Bool](repeating: false, count: 28 * 28)
                for a in 0..<28 { for b in (a + 1)..<28 { causal[a * 28 + b] = true } }
                for mask in [nil, Tensor(causal, shape: [28, 28])] {
                    let chunked = withNoGrad { mha(query: x, key: x, value: x, attnMask: mask, needWeights: false).output }
                    let whole = withNoGrad { mha(query: x, key: x, value: x, attnMask: mask, needWeights: true).output }
                    let composite = mha(query: x.requiringGrad(), key: x, value: x, attnMask: mask, needWeights: true).output.detach()
                    XCTAssertEqual(chunked.shape, x.shape)
                    let tol = dt == .float64 ? 1e-12 : 2e-5
                    for (name, other) in [("whole batch", whole), ("composite", composite)] {
                        let diff = withNoGrad { (chunked - other).abs().max().item() }
                        XCTAssertLessThan(diff, tol, "\(dt) batchFirst \(batchFirst) mask \(mask != nil): chunked vs \(name) differ by \(diff)")
                    }
                }
            }
        }
    }

    /// conv2d(…, activation:) against conv2d(…) followed by the activation as its own op, value
    /// for value (outputs and all three gradients exactly equal in float32, but for the GEMM path's
    /// bias gradient, the same sum in another order), on the direct path,
    /// the GEMM path with several samples per GEMM (scattered output) and with one (output written
    /// in place), and float64 (not fused); the same for linear(…, activation:); and Sequential's
    /// fusion of Conv2d or Linear with the ReLU/Tanh/Sigmoid layer after it.
    func testFusedActivationsMatchUnfused() {
        let configs: [([Int], [Int], ConvPadding)] = [
            ([3, 1, 9, 8], [13, 1, 3, 3], .explicit([1])),   // direct, output channels in blocks of 4, 4, 5
            ([3, 8, 6, 6], [5, 8, 3, 3], .explicit([1])),    // GEMM, 3 samples per product
            ([2, 8, 18, 18], [7, 8, 3, 3], .explicit([0])),  // GEMM, one sample per product (16·16 positions)
        ]
        for (xs, ws, p) in configs {
            for act in FusedActivation.allCases {
                for dt in [DType.float32, .float64] {
                    let x64 = r(xs), w64 = r(ws), b64 = r([ws[0]])
                    let seed = r([xs[0], ws[0], 1, 1]).to(dt)
                    func run(_ fused: Bool) -> [Tensor] {
                        let x = x64.to(dt).detach().requiringGrad(), w = w64.to(dt).detach().requiringGrad(), b = b64.to(dt).detach().requiringGrad()
                        let y = fused ? x.conv2d(weight: w, bias: b, padding: p, activation: act) : act.apply(x.conv2d(weight: w, bias: b, padding: p))
                        y.backward(seed.expand(y.shape).contiguousCopy() * y.detach())
                        return [y.detach(), x.grad!, w.grad!, b.grad!]
                    }
                    let want = run(false), got = run(true)
                    for (i, (u, v)) in zip(got, want).enumerated() {
                        XCTAssertEqual(u.shape, v.shape)
                        // the GEMM path's fused backward sums the bias gradient per group of
                        // samples in cache: the same terms added in another order (float32)
                        let tol = i == 3 && dt == .float32 && xs[1] * 9 >= 32 ? 1e-6 * v.abs().max().item() : 0
                        XCTAssertLessThanOrEqual((u - v).abs().max().item(), tol, "x\(xs) w\(ws) \(act) \(dt): output \(i) differs")
                    }
                    // relu zeroes a good share of the outputs, tanh and sigmoid none
                    let zeros = (want[0] .== 0.0).to(.float64).mean().item()
                    if act == .relu { XCTAssertGreaterThan(zeros, 0.1) } else { XCTAssertLessThan(zeros, 0.01) }
                }
            }
        }
        // linear(…, activation:): the packed kernel (≤ 96 input features, ≥ 192 rows), the GEMM
        // (more input features, or few rows), a 3-D input, and on AVX-512 CPUs few rows with ≥ 64
        // outputs (W's panels split over the threads); float64 not fused
        // With the input needing no gradient (a first layer; [64, 784] → 50 and [3, 70, 28] → 64
        // by the outer-product weight gradient, ≥ 32768 weights) the activation's gradient and the
        // bias's sum are taken as g is packed: the same values.
        for (xs, outF) in [([200, 40], 37), ([5, 40], 37), ([64, 130], 20), ([3, 70, 28], 64), ([64, 130], 100), ([5, 40], 70), ([64, 784], 50),
                           ([3, 70, 600], 64)] {
            for act in FusedActivation.allCases {
                for dt in [DType.float32, .float64] {
                    for inputGrad in [true, false] {
                        let x64 = r(xs), w64 = r([outF, xs.last!]), b64 = r([outF])
                        func run(_ fused: Bool) -> [Tensor] {
                            let x = x64.to(dt).detach().requiringGrad(inputGrad), w = w64.to(dt).detach().requiringGrad(), b = b64.to(dt).detach().requiringGrad()
                            let y = fused ? x.linear(weight: w, bias: b, activation: act) : act.apply(x.linear(weight: w, bias: b))
                            (y * y).sum().backward()
                            return [y.detach(), w.grad!, b.grad!] + (inputGrad ? [x.grad!] : [])
                        }
                        let want = run(false), got = run(true)
                        for (i, (u, v)) in zip(got, want).enumerated() {
                            XCTAssertEqual(u.shape, v.shape)
                            XCTAssertEqual((u - v).abs().max().item(), 0,
                                           "linear x\(xs) out \(outF) \(act) \(dt) input grad \(inputGrad): output \(i) differs")
                        }
                    }
                }
            }
        }
        // the in-place kernel keeps NaN and −0 through relu, as the standalone op
        var v: [Float] = [-1, .nan, -0.0, 2, -.infinity]
        nk_activation_f32(0, &v, Int64(v.count))
        XCTAssertEqual(v[0], 0); XCTAssertTrue(v[1].isNaN); XCTAssertEqual(v[2].sign, .minus); XCTAssertEqual(v[3], 2); XCTAssertEqual(v[4], 0)
        // and so does the packed kernel's relu on its tiles: y = 1·w + b for w = [−1, NaN, −0, 2, −∞], b = [0, 0, −0, 0, 0]
        var one: [Float] = [1], wv: [Float] = [-1, .nan, -0.0, 2, -.infinity], bv: [Float] = [0, 0, -0.0, 0, 0]
        var pk = [Float](repeating: 0, count: 16), yv = [Float](repeating: 7, count: 5)
        nk_linear_pack_f32(&wv, 5, 1, &pk)
        nk_linear_packed_f32(&one, 1, 0, 1, 1, &pk, &bv, 5, &yv, 5, 1)
        XCTAssertEqual(yv[0], 0); XCTAssertTrue(yv[1].isNaN); XCTAssertEqual(yv[2], 0); XCTAssertEqual(yv[2].sign, .minus)
        XCTAssertEqual(yv[3], 2); XCTAssertEqual(yv[4], 0)
        // Sequential fuses a convolution with the activation layer after it: same output, same
        // gradients as the layers run one by one; a tracer (summary) still sees every layer
        let g = Generator(seed: 5)
        let net = Sequential(Conv2d(1, 6, kernelSize: 3, generator: g), ReLU(), Conv2d(6, 8, kernelSize: 3, generator: g), Tanh(),
                             Conv2d(8, 4, kernelSize: 2, generator: g), Sigmoid(), Flatten(), Linear(4 * 9 * 9, 5, generator: g), ReLU(),
                             Linear(5, 3, generator: g))
        let x = Tensor.uniform([2, 1, 14, 14], low: -1, high: 1, generator: g)
        func grads(_ forward: () -> Tensor) -> [Tensor] {
            for p in net.parameters() { p.grad = nil }
            let y = forward()
            (y * y).sum().backward()
            return [y.detach()] + net.parameters().map { $0.grad! }
        }
        let fused = grads { net(x) }
        let plain = grads { net.layers.reduce(x) { $1($0) } }
        for (i, (u, v)) in zip(fused, plain).enumerated() {
            // tensors 4 and 6: the bias gradients of the GEMM-path convolutions (summed in another order)
            let tol = i == 4 || i == 6 ? 1e-6 * v.abs().max().item() : 0
            XCTAssertLessThanOrEqual((u - v).abs().max().item(), tol, "Sequential: tensor \(i) differs")
        }
        let rows = net.summary(input: [1, 14, 14]).layers.map(\.type)
        XCTAssertEqual(rows.filter { $0 == "ReLU" || $0 == "Tanh" || $0 == "Sigmoid" }.count, 4, "\(rows)")
    }

    func testPooling() {
        check("maxpool k2", [r([1, 2, 4, 6])]) { $0[0].maxPool2d(kernel: [2]) }
        check("maxpool k3 s2 p1 ceil", [r([1, 1, 7, 6])]) { $0[0].maxPool2d(kernel: [3], stride: [2], padding: [1], ceilMode: true) }
        check("maxpool dilated", [r([1, 1, 5, 5])]) { $0[0].maxPool2d(kernel: [2], stride: [1], dilation: [2]) }
        check("avgpool count pad", [r([1, 2, 5, 5])]) { $0[0].avgPool2d(kernel: [3], stride: [2], padding: [1]) }
        check("avgpool exclude pad ceil", [r([1, 1, 6, 5])]) { $0[0].avgPool2d(kernel: [2], stride: [2], padding: [1], ceilMode: true, countIncludePad: false) }
        check("adaptive avgpool", [r([1, 2, 7, 5])]) { $0[0].adaptiveAvgPool2d([3, 2]) }
    }

    func testNormalisationAndEmbedding() {
        let bn = BatchNorm2d(2, dtype: .float64)
        check("batchnorm2d train", [r([3, 2, 2, 3]), r([2]), r([2])]) { x in
            (x[0] - x[0].mean(dims: [0, 2, 3], keepDim: true)) / (x[0].variance(dims: [0, 2, 3], correction: 0, keepDim: true) + 1e-5).sqrt()
                * x[1].reshape([1, 2, 1, 1]) + x[2].reshape([1, 2, 1, 1])
        }
        check("BatchNorm2d module", [r([3, 2, 2, 2])]) { bn($0[0]) }
        let ln = LayerNorm([3, 2], dtype: .float64)
        check("LayerNorm module", [r([2, 3, 2])]) { ln($0[0]) }
        check("layerNorm with weight and bias", [r([4, 5]), r([5]), r([5])]) { $0[0].layerNorm(normalizedCount: 5, weight: $0[1], bias: $0[2]) }
        check("layerNorm over 6 of a [2, 2, 3] input, no affine", [r([2, 2, 3])]) { $0[0].layerNorm(normalizedCount: 6, eps: 1e-3) }
        // The CPU's kernel against the reference device on many rows (threads over rows for dx,
        // over columns for dw and db), float32.
        let g = Generator(seed: 8)
        var results: [[Tensor]] = []
        let x0 = Tensor.uniform([300, 96], low: -2, high: 2, generator: g), w0 = Tensor.uniform([96], generator: g), b0 = Tensor.uniform([96], generator: g)
        let dy = Tensor.uniform([300, 96], low: -1, high: 1, generator: g)
        for device in [Device.cpu, Device.reference] {
            let (x, w, b) = (x0.to(device: device).detach(), w0.to(device: device).detach(), b0.to(device: device).detach())
            for t in [x, w, b] { t.requiresGrad = true }
            let y = x.layerNorm(normalizedCount: 96, weight: w, bias: b)
            y.backward(dy.to(device: device))
            results.append([y, x.grad!, w.grad!, b.grad!].map { $0.to(device: .cpu) })
        }
        for (k, (a, b)) in zip(results[0], results[1]).enumerated() {
            let d = zip(a.toArray(as: Float.self), b.toArray(as: Float.self)).map { Swift.abs($0 - $1) / (1 + Swift.abs($1)) }.max()!
            XCTAssertLessThan(d, 2e-5, "layerNorm CPU vs reference, tensor \(k)")
        }
        let emb = Embedding(5, 3, dtype: .float64, generator: gen)
        check("embedding weight", [emb.weight.detach()]) { w in w[0].indexSelect(dim: 0, index: Tensor([4, 0, 4, 2])) }
    }

    func testActivations() {
        let x = r([3, 4], lo: -3, hi: 3)
        check("leakyRelu", [x]) { $0[0].leakyRelu(negativeSlope: 0.2) }
        check("elu", [x]) { $0[0].elu(alpha: 0.7) }
        check("gelu", [x]) { $0[0].gelu() }
        check("gelu tanh", [x]) { $0[0].gelu(approximateTanh: true) }
        check("silu", [x]) { $0[0].silu() }
        check("softplus", [x]) { $0[0].softplus(beta: 2, threshold: 4) }
        check("softmax", [x]) { $0[0].softmax(dim: 1) }
        check("logSoftmax", [x]) { $0[0].logSoftmax(dim: 0) }
        check("logSigmoid", [x]) { $0[0].logSigmoid() }
        check("erf", [x]) { $0[0].erf() }
        check("prelu per channel", [r([2, 3, 2], lo: -2, hi: 2), r([3])]) { $0[0].prelu($0[1]) }
        check("prelu shared", [r([4], lo: -2, hi: 2), r([1])]) { $0[0].prelu($0[1]) }
    }

    func testBinaryCrossEntropyOfSaturatedProbabilitiesHasFiniteGradients() {
        // float32 sigmoid(±30) is exactly 1 / 0: the composite log's gradient would be ∞·0 = NaN.
        let x = Tensor([30, -30, 0.5] as [Float], shape: [3]).requiringGrad()
        let p = x.sigmoid()
        XCTAssertEqual(p.toArray(as: Float.self)[0], 1)
        let loss = Loss.binaryCrossEntropy(p, Tensor([0, 1, 1] as [Float], shape: [3]), reduction: .sum)
        XCTAssertEqual(loss.item(), 100 + 30 - log(1 / (1 + exp(-0.5))), accuracy: 1e-3)   // log(1 − 1) clamps at −100; σ(−30) ≈ e⁻³⁰ is not 0
        loss.backward()
        let g = x.grad!.toArray(as: Float.self)
        XCTAssertTrue(g.allSatisfy { $0.isFinite }, "\(g)")
        XCTAssertEqual(Double(g[2]), 1 / (1 + exp(-0.5)) - 1, accuracy: 1e-6)              // σ(x) − y away from saturation
    }

    func testLosses() {
        let a = r([4, 3]), b = r([4, 3])
        check("mse", [a, b]) { Loss.mse($0[0], $0[1]) }
        check("l1", [a, b]) { Loss.l1($0[0], $0[1], reduction: .sum) }
        check("smoothL1", [a, b]) { Loss.smoothL1($0[0], $0[1], beta: 0.5) }
        check("halfSSE", [a, b]) { Loss.halfSumSquaredError($0[0], $0[1]) }
        let p = r([4, 3], lo: 0.1, hi: 0.9), y = Tensor.bernoulli([4, 3], p: 0.5, dtype: .float64, generator: gen)
        check("bce", [p]) { Loss.binaryCrossEntropy($0[0], y) }
        check("bce target", [p, r([4, 3], lo: 0.1, hi: 0.9)]) { Loss.binaryCrossEntropy($0[0], $0[1], reduction: .sum) }
        check("bce logits pos weight", [r([4, 3], lo: -3, hi: 3), r([3], lo: 0.5, hi: 2)]) {
            Loss.binaryCrossEntropyWithLogits($0[0], y, posWeight: $0[1])
        }
        let t = Tensor([0, 2, 1, 1])
        let w = Tensor([0.3, 1.0, 2.0], dtype: .float64)
        check("crossEntropy", [r([4, 3], lo: -2, hi: 2)]) { Loss.crossEntropy($0[0], t) }
        check("crossEntropy weighted smoothed", [r([4, 3], lo: -2, hi: 2)]) { Loss.crossEntropy($0[0], t, weight: w, labelSmoothing: 0.2) }
        check("crossEntropy probabilities", [r([4, 3], lo: -2, hi: 2)]) { Loss.crossEntropy($0[0], probabilities: Tensor.full([4, 3], 1.0 / 3, dtype: .float64)) }
        check("nll", [r([4, 3], lo: -3, hi: -0.1)]) { Loss.nll($0[0], t, weight: w) }
        check("klDiv", [r([2, 3], lo: -3, hi: -0.1)]) { Loss.klDivergence($0[0], Tensor([0.2, 0.3, 0.5, 0.0, 0.5, 0.5], shape: [2, 3], dtype: .float64), reduction: .batchMean) }
        check("hinge", [r([6])]) { Loss.hingeEmbedding($0[0], Tensor([1.0, -1, -1, 1, -1, 1], dtype: .float64)) }
        check("contrastive", [r([4, 3]), r([4, 3])]) { Loss.contrastive($0[0], $0[1], label: Tensor([0.0, 1, 1, 0], dtype: .float64)) }
        check("vae", [r([2, 3], lo: 0.1, hi: 0.9), r([2, 2]), r([2, 2])]) {
            Loss.vae(reconstruction: $0[0], target: Tensor.full([2, 3], 0.3, dtype: .float64), mu: $0[1], logVar: $0[2])
        }
        check("l2 regulariser", [r([3]), r([2, 2])]) { Regularizer.l2($0, lambda: 0.1) }
        check("kl sparsity", [r([5, 3], lo: 0.05, hi: 0.95)]) { Regularizer.klSparsity($0[0], rho: 0.1, beta: 3) }
    }
}

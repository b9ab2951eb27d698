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

    /// 2×2 max pooling, float32 (the C kernel) and float64 (the generic loop): the first maximum
    /// wins on ties, NaN wins, indices are flat positions in the plane, and the gradient goes to them.
    func testMaxPoolTiesNaNAndIndicesAgree() {
        let values: [Double] = [1, 1, 5, .nan,
                                0, 1, 2, 3,
                                -1, -2, 7, 7,
                                -3, -1, 7, 9]
        for dt in [DType.float32, .float64] {
            let x = Tensor(values, shape: [1, 1, 4, 4]).to(dt)
            let (v, i) = x.maxPool2dWithIndices(kernel: [2])
            let got = v.to(.float64).toArray(as: Double.self)
            XCTAssertEqual(got[0], 1); XCTAssertTrue(got[1].isNaN); XCTAssertEqual(got[2], -1); XCTAssertEqual(got[3], 9)
            XCTAssertEqual(i.toArray(as: Int64.self), [0, 3, 8, 15], "\(dt)")
            let leaf = x.requiringGrad()
            leaf.maxPool2d(kernel: [2]).sum().backward()
            XCTAssertEqual(leaf.grad!.to(.float64).toArray(as: Double.self).enumerated().filter { $0.element != 0 }.map { $0.offset }, [0, 3, 8, 15])
            // without a gradient to take, maxPool2d writes no indices (the values-only kernels): the same values,
            // on the 2×2 kernel and on the general path (3×3, stride 1, padded)
            for (k, st, p) in [([2], [2], [0]), ([3], [1], [1])] {
                let want = x.maxPool2dWithIndices(kernel: k, stride: st, padding: p).values.to(.float64).toArray(as: Double.self)
                let got = x.maxPool2d(kernel: k, stride: st, padding: p).to(.float64).toArray(as: Double.self)
                XCTAssertEqual(got.count, want.count)
                for (a, b) in zip(got, want) { XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "\(dt) kernel \(k): \(got) vs \(want)") }
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

    /// The float32 kernel for short key sequences (S ≤ 32, D = 8, 16, 24, 32: one to four score
    /// vectors per row, one to four output vectors, base-2 softmax in registers) against the
    /// float64 composite ops: odd and even L, S at and between multiples of 8, strided rows, with
    /// and without a mask (hidden keys get probability exactly 0; a fully hidden row gives NaN, as
    /// in PyTorch), probabilities kept or not.
    func testShortSequenceAttentionKernelMatchesFloat64() {
        for (l, s, d) in [(1, 1, 8), (3, 7, 16), (4, 8, 8), (5, 13, 24), (28, 28, 16), (6, 32, 32), (2, 17, 32), (7, 25, 8)] {
            let h = 2, n = 2
            let q = r([n, l, h * d], lo: -2, hi: 2), k = r([n, s, h * d], lo: -2, hi: 2), v = r([n, s, h * d])
            var hidden = [Double](repeating: 0, count: l * s)
            for i in stride(from: 1, to: hidden.count, by: 3) { hidden[i] = -.infinity }
            for mask in [nil, Tensor(hidden, shape: [l, s])] {
                func heads(_ t: Tensor) -> Tensor { t.reshape([n, t.shape[1], h, d]).permute(0, 2, 1, 3) }
                var scores = heads(q).matmul(heads(k).transpose(-2, -1)) * (1 / Double(d).squareRoot())
                if let m = mask { scores = scores + m }
                let p64 = scores.softmax(dim: -1), o64 = p64.matmul(heads(v)).permute(0, 2, 1, 3).reshape([n, l, h * d])
                for keep in [true, false] {
                    // q, k, v as column blocks of one wider tensor: row strides larger than E
                    let wide = Tensor.cat([q, Tensor.zeros([n, l, 3], dtype: .float64)], dim: 2).to(.float32).narrow(dim: 2, start: 0, length: h * d)
                    let f = withNoGrad { Tensor.scaledDotProductAttention(q: wide, k: k.to(.float32), v: v.to(.float32), heads: h,
                                                                          mask: mask?.to(.float32), needProbabilities: keep) }
                    let tag = "L \(l) S \(s) D \(d) mask \(mask != nil) keep \(keep)"
                    let allHidden = mask != nil && s == 1 // every key of a row hidden: NaN rows
                    if allHidden { continue }
                    XCTAssertLessThan((f.output.to(.float64) - o64).abs().max().item(), 2e-6, tag)
                    if keep {
                        XCTAssertLessThan((f.probabilities.to(.float64) - p64).abs().max().item(), 1e-6, tag)
                        if mask != nil {
                            let pr = f.probabilities.toArray(as: Float.self)
                            for (i, x) in pr.enumerated() where hidden[i % (l * s)] == -.infinity { XCTAssertEqual(x, 0, tag) }
                        }
                    }
                }
            }
        }
        // a row with every key hidden: NaN output, as PyTorch's softmax of all −inf
        let m = Tensor([0, -Double.infinity, -.infinity, -.infinity, -.infinity, -.infinity], shape: [2, 3]).to(.float32)
        let out = withNoGrad { Tensor.scaledDotProductAttention(q: r([1, 2, 8]).to(.float32), k: r([1, 3, 8]).to(.float32), v: r([1, 3, 8]).to(.float32),
                                                                heads: 1, mask: m).output }.toArray(as: Float.self)
        XCTAssertTrue(out[0..<8].allSatisfy { $0.isFinite } && out[8..<16].allSatisfy { $0.isNaN }, "\(out)")
    }

    /// The float32 backward for short key sequences (S ≤ 32, D = 8…32: dP, dS and dQ per pair of
    /// query rows, dK and dV per pair of keys, all in registers) against the float64 kernel (itself
    /// gradient-checked): odd and even L and S, S at and between multiples of 8, separate q, k, v
    /// with strided rows and a mask, and the packed [N, L, 3E] projection of self-attention whose
    /// one gradient holds the three (row stride 3E).
    func testShortSequenceAttentionBackwardMatchesFloat64() {
        for (l, s, d) in [(1, 1, 8), (3, 7, 16), (4, 8, 8), (5, 13, 24), (28, 28, 16), (6, 32, 32), (2, 17, 32), (7, 25, 8), (9, 3, 16)] {
            let h = 2, n = 2
            let q = r([n, l, h * d], lo: -2, hi: 2), k = r([n, s, h * d], lo: -2, hi: 2), v = r([n, s, h * d])
            let seed = r([n, l, h * d])
            var hidden = [Double](repeating: 0, count: l * s)
            for i in stride(from: 1, to: hidden.count, by: 3) where s > 1 { hidden[i] = -.infinity }
            let mask = Tensor(hidden, shape: [l, s])
            func grads(_ dt: DType) -> [Tensor] {
                // q as a column block of a wider tensor: a row stride larger than E
                let qw = Tensor.cat([q, Tensor.zeros([n, l, 3], dtype: .float64)], dim: 2).to(dt).detach().requiringGrad()
                let kk = k.to(dt).detach().requiringGrad(), vv = v.to(dt).detach().requiringGrad()
                let out = Tensor.scaledDotProductAttention(q: qw.narrow(dim: 2, start: 0, length: h * d), k: kk, v: vv, heads: h,
                                                           mask: mask.to(dt)).output
                (out * seed.to(dt)).sum().backward()
                return [qw.grad!, kk.grad!, vv.grad!]
            }
            let want = grads(.float64), got = grads(.float32)
            for (i, (u, w)) in zip(got, want).enumerated() {
                let err = (u.to(.float64) - w).abs().max().item(), scale = w.abs().max().item()
                XCTAssertLessThan(err, 2e-5 * Swift.max(1, scale), "L \(l) S \(s) D \(d): gradient \(i) differs by \(err)")
            }
            if l == s {  // self-attention through one packed projection
                let qkv = Tensor.cat([q, k, v], dim: 2)
                func packed(_ dt: DType) -> Tensor {
                    let x = qkv.to(dt).detach().requiringGrad()
                    (Tensor.packedSelfAttention(qkv: x, heads: h, mask: nil, needProbabilities: false).output * seed.to(dt)).sum().backward()
                    return x.grad!
                }
                let err = (packed(.float32).to(.float64) - packed(.float64)).abs().max().item()
                XCTAssertLessThan(err, 2e-5 * Swift.max(1, packed(.float64).abs().max().item()), "packed L \(l) D \(d): \(err)")
            }
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

    /// The float32 packed linear kernel (linear.c, AVX2) against float64, directly up to 400 inputs:
    /// tiles of 1–6 rows, 16-column panels with 1–16 live columns, reductions that are and are not
    /// multiples of 8, with and without bias, rows split over threads; shapes past the limits take
    /// the GEMM. The packing and the kernel are also called directly, so that the
    /// plain loops that stand in for them below AVX2 are checked under NEURONE_KERNEL=generic.
    func testPackedLinearKernelMatchesFloat64() {
        // through linear(): the packed kernel from 192 rows and up to 96 inputs, the GEMM otherwise
        let shapes = [(1, 1, 1), (5, 7, 9), (6, 16, 8), (13, 17, 28), (7, 33, 64), (64, 10, 120), (200, 64, 28), (9, 24, 400), (4, 5, 401),
                      (197, 17, 9), (193, 33, 400), (192, 5, 401)]
        for (rows, outF, inF) in shapes {
            let x = r([rows, inF]), w = r([outF, inF]), b = r([outF])
            for bias in [b, nil] {
                let want = x.linear(weight: w, bias: bias)
                let got = withNoGrad { x.to(.float32).linear(weight: w.to(.float32), bias: bias?.to(.float32)) }
                let err = (got.to(.float64) - want).abs().max().item()
                XCTAssertLessThan(err, 1e-6 * Double(inF).squareRoot() * 4, "rows \(rows) out \(outF) in \(inF) bias \(bias != nil)")
                // the C entry points themselves, on a row range in the middle
                let (x32, w32, b32) = (x.to(.float32), w.to(.float32), bias?.to(.float32))
                let pk = CPUBackend.packLinearWeight(w32.data, outFeatures: outF, inFeatures: inF)
                let y = Tensor.zeros([rows, outF], dtype: .float32)
                let (m0, m1) = (rows / 3, rows)
                withExtendedLifetime(b32) {
                    nk_linear_packed_f32(x32.data.assumingMemoryBound(to: Float.self), Int64(inF), Int64(m0), Int64(m1), Int64(inF),
                                         pk.data.assumingMemoryBound(to: Float.self), b32?.data.assumingMemoryBound(to: Float.self),
                                         Int64(outF), y.data.assumingMemoryBound(to: Float.self), Int64(outF), 0)
                }
                let direct = (y.to(.float64) - want).narrow(dim: 0, start: m0, length: m1 - m0).abs().max().item()
                XCTAssertLessThan(direct, 1e-6 * Double(inF).squareRoot() * 4, "direct: rows \(rows) out \(outF) in \(inF)")
                if m0 > 0 { XCTAssertEqual(y.narrow(dim: 0, start: 0, length: m0).abs().max().item(), 0, "rows before m0 untouched") }
            }
        }
    }

    /// Float32 2×2 stride-2 average pooling (the C kernel, its planes split over the threads) on
    /// odd sizes against float64.
    func testAvgPool2x2Float32MatchesFloat64() {
        for shape in [[1, 1, 2, 2], [2, 3, 5, 7], [4, 8, 33, 31]] {
            let x = r(shape)
            let want = x.avgPool2d(kernel: [2])
            let got = x.to(.float32).avgPool2d(kernel: [2])
            XCTAssertEqual(got.shape, want.shape)
            XCTAssertLessThan((got.to(.float64) - want).abs().max().item(), 1e-6, "shape \(shape)")
        }
    }

    /// linear()'s float32 weight gradient (the outer-product kernel on AVX2 up to 256 rows, here
    /// for weights of any size, the GEMM beyond) against float64, on edge tiles (features not
    /// multiples of 6 and 16) and a strided input; then nk_wgrad_f32 itself (portable loops under
    /// NEURONE_KERNEL=generic) on a panel range, writing and accumulating, with reductions split
    /// into K blocks (rows over 256).
    func testLinearWeightGradientKernelMatchesFloat64() {
        let saved = Tensor.linearKernels
        defer { Tensor.linearKernels = saved }
        Tensor.linearKernels.weightGradientMinWeights = 0
        let shapes = [(1, 1, 1), (5, 7, 9), (6, 16, 8), (64, 13, 17), (7, 33, 64), (300, 10, 120), (520, 25, 40), (64, 120, 400), (3, 5, 401)]
        for (rows, outF, inF) in shapes {
            let x64 = r([rows, inF]), w64 = r([outF, inF]), g64 = r([rows, outF])
            let want = g64.transpose(0, 1).matmul(x64)
            for strided in [false, true] {
                let w = w64.to(.float32).detach().requiringGrad()
                // a strided input: the first inF columns of a tensor twice as wide, made contiguous by linear()
                let x = strided ? Tensor.cat([x64, x64], dim: 1).to(.float32).narrow(dim: 1, start: 0, length: inF) : x64.to(.float32)
                let y = x.linear(weight: w)
                y.backward(g64.to(.float32))
                let err = (w.grad!.to(.float64) - want).abs().max().item()
                XCTAssertLessThan(err, 1e-6 * Double(rows).squareRoot() * 4, "rows \(rows) out \(outF) in \(inF) strided \(strided)")
            }
            // the C entry points: panels [p0, panels) written, then accumulated onto
            let (g32, x32) = (g64.to(.float32), x64.to(.float32))
            let tiles = (outF + 5) / 6, panels = (inF + 15) / 16, p0 = panels / 2
            let pa = Tensor.zeros([tiles * 6 * rows], dtype: .float32), pb = Tensor.zeros([panels * 16 * rows], dtype: .float32)
            let dw = Tensor.zeros([outF, inF], dtype: .float32)
            let (gp, xp) = (g32.data.assumingMemoryBound(to: Float.self), x32.data.assumingMemoryBound(to: Float.self))
            let (ap, bp, dp) = (pa.data.assumingMemoryBound(to: Float.self), pb.data.assumingMemoryBound(to: Float.self), dw.data.assumingMemoryBound(to: Float.self))
            nk_wgrad_pack_g_f32(gp, Int64(outF), Int64(outF), Int64(rows), 0, Int64(tiles), ap)
            for accumulate: Int32 in [0, 1] {
                nk_wgrad_f32(ap, xp, Int64(inF), bp, Int64(outF), Int64(inF), Int64(rows), Int64(p0), Int64(panels), dp, Int64(inF), accumulate)
                let c0 = 16 * p0, scale = Double(accumulate + 1)
                let part = (dw.to(.float64) - want * scale).narrow(dim: 1, start: c0, length: inF - c0).abs().max().item()
                XCTAssertLessThan(part, 2e-6 * Double(rows).squareRoot() * 4, "direct: rows \(rows) out \(outF) in \(inF) accumulate \(accumulate)")
                if c0 > 0 { XCTAssertEqual(dw.narrow(dim: 1, start: 0, length: c0).abs().max().item(), 0, "columns before panel p0 untouched") }
            }
        }
    }

    /// The float32 fast paths (direct kernel for short columns, one GEMM per chunk of samples for
    /// long ones) agree with the float64 im2col path, forward and backward.
    func testFloat32ConvolutionPathsMatchFloat64() {
        let configs: [([Int], [Int], [Int], ConvPadding, [Int])] = [
            ([3, 1, 9, 8], [4, 1, 3, 3], [1], .explicit([0]), [1]),      // direct
            ([2, 2, 7, 7], [3, 2, 3, 3], [1], .explicit([1, 2]), [1]),   // direct, padded
            ([2, 3, 8, 9], [2, 3, 2, 3], [1], .explicit([1]), [2, 1]),   // direct, dilated
            ([2, 1, 28, 28], [6, 1, 5, 5], [1], .explicit([2]), [1]),    // direct, lenet5's conv1 (one block of 6)
            ([2, 1, 12, 11], [13, 1, 3, 3], [1], .explicit([0]), [1]),   // direct, blocks of 4, 4, 5
            ([1, 2, 10, 10], [7, 2, 3, 3], [1], .explicit([1]), [1]),    // direct, blocks of 3 and 4, two channels
            ([2, 1, 9, 9], [5, 1, 4, 4], [1], .explicit([1]), [1]),      // direct, weight-gradient taps in blocks of 3 and 1
            ([1, 2, 6, 6], [1, 2, 3, 1], [1], .explicit([0]), [1]),      // direct, one output channel, one tap per row
            ([2, 8, 6, 6], [5, 8, 3, 3], [1], .explicit([1]), [1]),      // one GEMM per chunk
            ([3, 16, 5, 7], [4, 16, 2, 2], [2], .explicit([1]), [1]),    // one GEMM per chunk, strided
            ([2, 4, 20, 19], [9, 4, 3, 3], [1], .explicit([1]), [1]),    // one sample per product: 380 columns (panels of 16 and a tail of 12), 9 rows (tiles of 6 and 3)
            ([2, 5, 11, 11], [7, 5, 3, 3], [1], .explicit([2]), [2]),    // two samples per product, dilated
            ([1, 32, 12, 12], [64, 32, 3, 3], [1], .explicit([0]), [1]), // mnist-cnn's conv2 shape (smaller image): 64 rows, K = 288
            ([1, 32, 20, 20], [8, 32, 3, 3], [1], .explicit([1]), [1]),  // K = 288, padded, 400 columns
            ([1, 32, 23, 23], [4, 32, 3, 3], [2], .explicit([1]), [1]),  // K = 288, strided, 4 rows (one short tile)
            ([7, 4, 16, 17], [6, 4, 3, 3], [1], .explicit([0]), [1]),    // four groups of two samples: several per thread (weight-gradient partials added)
            ([2, 6, 14, 14], [16, 6, 5, 5], [1], .explicit([0]), [1]),   // lenet5's conv2: 25 rows per channel (panels of 16 span two channels), K = 150
            ([2, 40, 5, 5], [8, 40, 1, 1], [1], .explicit([0]), [1]),    // 1×1: one row per channel (a panel spans 16), 50 columns (a tail of 2 past 8-column blocks)
            ([2, 4, 10, 10], [6, 4, 3, 3], [1], .explicit([0]), [1]),   // rows 8 wide (forward columns in pieces of 8), two samples, 128 columns
            ([3, 4, 8, 8], [5, 4, 3, 3], [1], .explicit([1]), [1]),      // 8 wide, padded (runs gathered, zero rows), three samples
            ([1, 4, 9, 10], [6, 4, 3, 3], [1], .explicit([0]), [1]),     // 8 wide, 56 columns: the last panel half empty
            ([2, 4, 16, 16], [3, 4, 3, 3], [2], .explicit([1]), [1]),    // 8 wide, strided
            ([1, 4, 12, 12], [3, 4, 3, 3], [1], .explicit([0]), [2]),    // 8 wide, dilated
            ([1, 32, 8, 26], [4, 32, 3, 3], [1], .explicit([0]), [1]),   // 24 wide, K = 288: forward columns in chunks of 112 and 32, the second from mid-row
            ([2, 32, 10, 10], [5, 32, 3, 3], [1], .explicit([1]), [1]),  // 8 wide, K = 288, padded: two samples in a chunk of 112, then one of 16
        ]
        for (xs, ws, st, p, d) in configs {
            let x64 = r(xs), w64 = r(ws), b64 = r([ws[0]]), g64 = r([1])
            func run(_ dt: DType) -> [Tensor] {
                let x = x64.to(dt).detach().requiringGrad(), w = w64.to(dt).detach().requiringGrad(), b = b64.to(dt).detach().requiringGrad()
                let y = x.conv2d(weight: w, bias: b, stride: st, padding: p, dilation: d)
                let seed = Tensor.uniform(y.shape, low: -1, high: 1, dtype: dt, generator: Generator(seed: 99))
                y.backward(seed)
                _ = g64
                return [y, x.grad!, w.grad!, b.grad!]
            }
            let a = run(.float32), b = run(.float64)
            for (i, (u, v)) in zip(a, b).enumerated() {
                XCTAssertEqual(u.shape, v.shape)
                let err = (u.to(.float64) - v).abs().max().item()
                XCTAssertLessThan(err, 1e-4, "x\(xs) w\(ws) stride \(st) \(p) dilation \(d): output \(i) differs by \(err)")
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
        // (more input features, or few rows), a 3-D input; float64 not fused
        for (xs, outF) in [([200, 40], 37), ([5, 40], 37), ([64, 130], 20), ([3, 70, 28], 64)] {
            for act in FusedActivation.allCases {
                for dt in [DType.float32, .float64] {
                    let x64 = r(xs), w64 = r([outF, xs.last!]), b64 = r([outF])
                    func run(_ fused: Bool) -> [Tensor] {
                        let x = x64.to(dt).detach().requiringGrad(), w = w64.to(dt).detach().requiringGrad(), b = b64.to(dt).detach().requiringGrad()
                        let y = fused ? x.linear(weight: w, bias: b, activation: act) : act.apply(x.linear(weight: w, bias: b))
                        (y * y).sum().backward()
                        return [y.detach(), x.grad!, w.grad!, b.grad!]
                    }
                    let want = run(false), got = run(true)
                    for (i, (u, v)) in zip(got, want).enumerated() {
                        XCTAssertEqual(u.shape, v.shape)
                        XCTAssertEqual((u - v).abs().max().item(), 0, "linear x\(xs) out \(outF) \(act) \(dt): output \(i) differs")
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

    /// Convolutions with long columns (≥ 256 output positions) run one sample per GEMM; forward,
    /// input, weight and bias gradients against plain loops in double precision, strided + padded
    /// and dilated, float32 and float64.
    func testBandedConvolutionMatchesPlainLoops() {
        let configs: [([Int], [Int], Int, Int, Int)] = [([2, 64, 40, 34], [4, 64, 3, 3], 2, 1, 1), ([1, 40, 30, 30], [3, 40, 3, 3], 1, 0, 2)]
        for (xs, ws, st, pad, dil) in configs {
            let (n, c, h, w) = (xs[0], xs[1], xs[2], xs[3]), (o, kh, kw) = (ws[0], ws[2], ws[3])
            let oh = (h + 2 * pad - dil * (kh - 1) - 1) / st + 1, ow = (w + 2 * pad - dil * (kw - 1) - 1) / st + 1
            XCTAssertGreaterThanOrEqual(oh * ow, 256, "one sample per GEMM")
            let x = r(xs), wt = r(ws), b = r([o]), gy = r([n, o, oh, ow])
            let X = x.toArray(as: Double.self), W = wt.toArray(as: Double.self), B = b.toArray(as: Double.self), G = gy.toArray(as: Double.self)
            var Y = [Double](repeating: 0, count: n * o * oh * ow), DX = [Double](repeating: 0, count: X.count)
            var DW = [Double](repeating: 0, count: W.count), DB = [Double](repeating: 0, count: o)
            for ni in 0..<n { for oi in 0..<o { for oy in 0..<oh { for ox in 0..<ow {
                let yi = ((ni * o + oi) * oh + oy) * ow + ox
                var acc = B[oi]
                DB[oi] += G[yi]
                for ci in 0..<c { for i in 0..<kh { for j in 0..<kw {
                    let yy = oy * st - pad + i * dil, xx = ox * st - pad + j * dil
                    guard yy >= 0 && yy < h && xx >= 0 && xx < w else { continue }
                    let xi = ((ni * c + ci) * h + yy) * w + xx, wi = ((oi * c + ci) * kh + i) * kw + j
                    acc += X[xi] * W[wi]
                    DX[xi] += G[yi] * W[wi]
                    DW[wi] += G[yi] * X[xi]
                } } }
                Y[yi] = acc
            } } } }
            for dt in [DType.float32, .float64] {
                let xl = x.to(dt).detach().requiringGrad(), wl = wt.to(dt).detach().requiringGrad(), bl = b.to(dt).detach().requiringGrad()
                let y = xl.conv2d(weight: wl, bias: bl, stride: [st], padding: .explicit([pad]), dilation: [dil])
                y.backward(gy.to(dt))
                for (name, got, want) in [("output", y, Y), ("input grad", xl.grad!, DX), ("weight grad", wl.grad!, DW), ("bias grad", bl.grad!, DB)] {
                    let g = got.to(.float64).toArray(as: Double.self)
                    let err = zip(g, want).map { Swift.abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThan(err, dt == .float64 ? 1e-9 : 2e-3, "x\(xs) w\(ws) \(dt): \(name) differs by \(err)")
                }
            }
        }
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

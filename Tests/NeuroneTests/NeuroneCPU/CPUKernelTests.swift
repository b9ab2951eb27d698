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

/// The CPU backend's float32 kernels (C, AVX2/AVX-512 and the portable variants, which CI runs
/// under NEURONE_KERNEL=avx2 and generic): each path against float64 or plain loops, some calling
/// the C entry points directly.
final class CPUKernelTests: XCTestCase {
    let gen = Generator(seed: 21)

    func r(_ shape: [Int], lo: Double = -1, hi: Double = 1) -> Tensor {
        Tensor.uniform(shape, low: lo, high: hi, dtype: .float64, generator: gen)
    }

    /// The activation gradients (float32, every level's build): out = g·f′ exactly as plain loops
    /// compute it — relu passing g where the input is NaN and clearing it at −0, tanh's g·(1 − y²)
    /// and sigmoid's g·y·(1 − y) unfused (an FMA would change the last bit) — in the plain, the
    /// reordering ([chunk, rows, len] → [rows, chunk·len]) and the widening forms, with the row and
    /// plane sums as eight running sums added in their fixed order; lengths with vector tails.
    func testActivationGradientKernelsMatchPlainLoops() {
        let rows = 5, chunk = 3, len = 37, wide = 42, n = rows * chunk * len
        var g = (0..<n).map { Float(sin(Double($0) * 0.37)) * 1.3 }
        var s = (0..<n).map { Float(cos(Double($0) * 0.91)) * 0.9 }
        s[5] = .nan; s[7] = -0.0; s[8] = 0; g[9] = .nan
        func f(_ op: Int32, _ gv: Float, _ sv: Float) -> Float {
            switch op {
            case 0: return sv <= 0 ? 0 : gv
            case 1: let t = 1 - sv * sv; return gv * t
            default: let t = gv * sv; let u = 1 - sv; return t * u
            }
        }
        func total(_ v: ArraySlice<Float>) -> Float {
            var acc = [Float](repeating: 0, count: 8)
            let b = v.startIndex
            var i = 0
            while i + 8 <= v.count { for j in 0..<8 { acc[j] += v[b + i + j] }; i += 8 }
            var t = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
            while i < v.count { t += v[b + i]; i += 1 }
            return t
        }
        func same(_ a: [Float], _ b: [Float], _ what: String) {
            XCTAssertEqual(a.count, b.count)
            // bit for bit, but a NaN's sign (which operand order decides) is not compared
            for i in 0..<Swift.min(a.count, b.count) where a[i].bitPattern != b[i].bitPattern && !(a[i].isNaN && b[i].isNaN) {
                XCTFail("\(what): element \(i) is \(a[i]), plain loops give \(b[i])"); return
            }
        }
        for op: Int32 in [0, 1, 2] {
            var plain = [Float](repeating: 0, count: n)
            nk_activation_grad_f32(op, g, s, &plain, Int64(n))
            same(plain, (0..<n).map { f(op, g[$0], s[$0]) }, "nk_activation_grad_f32 op \(op)")
            var out = [Float](repeating: 0, count: n), sums = [Float](repeating: 1, count: rows)
            nk_activation_grad_rows_f32(op, g, s, &out, Int64(rows), Int64(chunk), Int64(len), &sums)
            var want = [Float](repeating: 0, count: n)
            for r in 0..<rows { for c in 0..<chunk { for i in 0..<len {
                want[(r * chunk + c) * len + i] = f(op, g[(c * rows + r) * len + i], s[(c * rows + r) * len + i])
            } } }
            same(out, want, "nk_activation_grad_rows_f32 op \(op)")
            same(sums, (0..<rows).map { 1 + total(want[($0 * chunk * len)..<(($0 + 1) * chunk * len)]) }, "row sums op \(op)")
            // the same values read as `chunk` planes of `rows` rows, each widened to `wide`
            let planes = chunk
            var widened = [Float](repeating: 9, count: planes * rows * wide), planeSums = [Float](repeating: 9, count: planes)
            nk_activation_grad_widen_f32(op, g, s, &widened, Int64(rows), Int64(len), Int64(wide), &planeSums, 0, Int64(planes))
            var wantWide = [Float](repeating: 0, count: planes * rows * wide), wantSums = [Float](repeating: 0, count: planes)
            for p in 0..<planes {
                for r in 0..<rows {
                    let row = p * rows + r
                    for i in 0..<len { wantWide[row * wide + i] = f(op, g[row * len + i], s[row * len + i]) }
                    wantSums[p] += total(wantWide[(row * wide)..<(row * wide + len)])
                }
            }
            same(widened, wantWide, "nk_activation_grad_widen_f32 op \(op)")
            same(planeSums, wantSums, "plane sums op \(op)")
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

    /// 2×2 max pooling with indices, float32 (the C kernels: AVX-512 16 outputs at a time with masked
    /// row ends, AVX2 and portable loops, as NEURONE_KERNEL allows) against float64 (the generic
    /// loops), bit for bit, forward and backward: rows of 1–33 outputs (odd widths and heights leave
    /// a column or row out, which the gradient clears), values from a small set so that windows tie,
    /// and NaNs; gradients with −0 (read +0, as the clear-then-add loop gives) and NaN, over planes
    /// the threads split.
    func testMaxPoolWithIndicesMatchesFloat64OnWideRows() {
        for (h, w) in [(4, 4), (5, 7), (24, 24), (9, 33), (6, 65), (2, 35), (3, 2), (8, 32), (7, 18)] {
            var values = (0..<(3 * h * w)).map { _ in Double(Int(gen.nextDouble() * 4) - 1) }
            for k in stride(from: 5, to: values.count, by: 11) { values[k] = .nan }
            let x = Tensor(values, shape: [1, 3, h, w]).to(.float64)
            let (v64, i64) = x.maxPool2dWithIndices(kernel: [2])
            let (v32, i32) = x.to(.float32).maxPool2dWithIndices(kernel: [2])
            XCTAssertEqual(i32.toArray(as: Int64.self), i64.toArray(as: Int64.self), "indices \(h)×\(w)")
            let (a, b) = (v32.to(.float64).toArray(as: Double.self), v64.toArray(as: Double.self))
            XCTAssertEqual(a.count, b.count)
            for (p, q) in zip(a, b) { XCTAssertTrue(p == q || (p.isNaN && q.isNaN), "values \(h)×\(w): \(p) vs \(q)") }

            var gv = (0..<v64.count).map { _ in Double(Float(gen.nextDouble() * 4 - 2)) }
            for k in stride(from: 3, to: gv.count, by: 7) { gv[k] = -0.0 }
            for k in stride(from: 4, to: gv.count, by: 13) { gv[k] = .nan }
            var grads: [[Double]] = []
            for dt in [DType.float64, .float32] {
                let leaf = x.to(dt).detach().requiringGrad()
                leaf.maxPool2d(kernel: [2]).backward(Tensor(gv, shape: v64.shape).to(dt))
                grads.append(leaf.grad!.to(.float64).toArray(as: Double.self))
            }
            XCTAssertEqual(grads[1].count, 3 * h * w)
            XCTAssertEqual(grads[0].filter { $0 != 0 || $0.sign == .minus || $0.isNaN }.count, gv.filter { $0 != 0 }.count, "\(h)×\(w)")
            for (k, (p, q)) in zip(grads[1], grads[0]).enumerated() {
                XCTAssertTrue(p.bitPattern == q.bitPattern || (p.isNaN && q.isNaN), "gradient \(h)×\(w) at \(k): \(p) vs \(q)")
            }
        }
        // planes enough for both threads to take some (the split is by planes, 16384 values a chunk)
        let x = r([2, 64, 24, 24]).to(.float32), gy = r([2, 64, 12, 12]).to(.float32)
        var grads: [[Double]] = []
        for dt in [DType.float64, .float32] {
            let leaf = x.to(dt).detach().requiringGrad()
            leaf.maxPool2d(kernel: [2]).backward(gy.to(dt))
            grads.append(leaf.grad!.to(.float64).toArray(as: Double.self))
        }
        XCTAssertEqual(grads[1].map { $0.bitPattern }, grads[0].map { $0.bitPattern }, "2×64×24×24")
    }

    /// col2im that sets the planes (nk_col2im_set_f32: AVX-512 runs of 16 columns summed in
    /// registers at stride 1) against clearing them and adding tap by tap (nk_col2im_f32), bit for
    /// bit: kernels 1–5 wide, padding, dilation, stride 2 (which takes the clearing path), widths
    /// around 16 and 32, strided column rows and samples, a range of planes (the others untouched).
    /// nk_transpose_f32 (8×8 register blocks with AVX2, element by element at the edges and on the
    /// baseline) against plain indexing: sizes on and off multiples of 8 and 16, padded row strides,
    /// nothing written between dst's rows.
    func testTransposeKernelMatchesIndexing() {
        for (rows, cols) in [(1, 1), (8, 8), (16, 16), (7, 9), (17, 33), (128, 512), (40, 3), (3, 40), (24, 57)] {
            let (lds, ldd) = (cols + 5, rows + 3)
            let src = (0..<(rows * lds)).map { Float($0) }
            var dst = [Float](repeating: -1, count: cols * ldd)
            nk_transpose_f32(src, Int64(lds), Int64(rows), Int64(cols), &dst, Int64(ldd))
            for j in 0..<cols {
                for i in 0..<ldd {
                    XCTAssertEqual(dst[j * ldd + i], i < rows ? src[i * lds + j] : -1, "\(rows)×\(cols) at [\(j), \(i)]")
                }
            }
        }
    }

    /// nk_gemm_packed_t_f32 (the product stored transposed, each tile transposed in registers on
    /// AVX-512 CPUs, plain loops below) against nk_gemm_packed_f32 at the same level, bit for bit
    /// where both run the same sums (AVX-512, and the plain loops; at the AVX2 level the AVX2
    /// kernel's fused multiply-adds against the loops: within 1e-5 of the value's scale):
    /// tiles of 12 and fewer rows, a last panel of 1–16 columns, a reduction past 2048 (two blocks,
    /// the second adding to the first's transposed stores), relu with −0 and NaN kept, a row range
    /// inside a wider C (the rest untouched).
    func testTransposedStoreMatchesPackedProduct() {
        let g = Generator(seed: 41), sameSums = nk_kernel_level() != 1
        for (m, n, k, relu) in [(12, 32, 20, false), (13, 17, 9, true), (5, 1, 3, false), (30, 40, 2100, true), (1, 16, 784, true), (25, 50, 64, false)] {
            var a = (0..<(m * k)).map { _ in Float(g.nextDouble() * 2 - 1) }, b = (0..<(k * n)).map { _ in Float(g.nextDouble() * 2 - 1) }
            let bias = (0..<m).map { _ in Float(g.nextDouble() * 2 - 1) }
            if relu { a[0] = .nan; b[0] = 0 }  // row 0's first column NaN
            var pk = [Float](repeating: 0, count: (n + 15) / 16 * 16 * k)
            nk_pack_panels16_f32(b, Int64(n), Int64(k), Int64(n), &pk)
            var c = [Float](repeating: 7, count: m * n), ct = [Float](repeating: 7, count: n * (m + 2))
            let (m0, m1) = (m > 2 ? 1 : 0, m)  // rows [m0, m1) only
            nk_gemm_packed_f32(a, Int64(k), Int64(m0), Int64(m1), Int64(k), pk, bias, Int64(n), &c, Int64(n), relu ? 1 : 0)
            nk_gemm_packed_t_f32(a, Int64(k), Int64(m0), Int64(m1), Int64(k), pk, bias, Int64(n), &ct, Int64(m + 2), relu ? 1 : 0)
            for j in 0..<n {
                for i in 0..<(m + 2) {
                    let got = ct[j * (m + 2) + i]
                    if i >= m0 && i < m1 {
                        let want = c[i * n + j]
                        let same = got.bitPattern == want.bitPattern || (got.isNaN && want.isNaN)
                            || (sameSums ? false : Swift.abs(got - want) <= 1e-5 * Swift.max(1, Swift.abs(want)))
                        XCTAssertTrue(same, "\(m)×\(n)×\(k) at (\(i), \(j)): \(got) vs \(want)")
                    } else {
                        XCTAssertEqual(got, 7, "\(m)×\(n)×\(k): column \(i) of row \(j) written")
                    }
                }
            }
        }
    }

    func testCol2imSetMatchesClearThenAdd() {
        // (C, H, W, kh, kw, sh, sw, ph, pw, dh, dw)
        let cases: [[Int]] = [[2, 26, 26, 3, 3, 1, 1, 0, 0, 1, 1], [3, 7, 17, 2, 5, 1, 1, 1, 2, 1, 1], [1, 5, 33, 3, 3, 1, 1, 1, 1, 2, 2],
                              [2, 9, 16, 1, 1, 1, 1, 0, 0, 1, 1], [2, 12, 40, 5, 3, 1, 1, 2, 1, 1, 1], [2, 11, 13, 3, 3, 2, 2, 1, 1, 1, 1]]
        for cs in cases {
            let (c, h, w, kh, kw, sh, sw, ph, pw, dh, dw) = (cs[0], cs[1], cs[2], cs[3], cs[4], cs[5], cs[6], cs[7], cs[8], cs[9], cs[10])
            let oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1
            let n = 3, rs = oh * ow + 3, ss = c * kh * kw * rs + 5
            let dims: [Int64] = [c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, ss, rs].map { Int64($0) }
            let cols = (0..<(n * ss)).map { _ in Float(gen.nextDouble() * 2 - 1) }
            var want = [Float](repeating: 9, count: n * c * h * w), got = want
            let (p0, p1) = (1, n * c - 1)
            for k in (p0 * h * w)..<(p1 * h * w) { want[k] = 0 }
            nk_col2im_f32(cols, dims, &want, Int64(p0), Int64(p1))
            nk_col2im_set_f32(cols, dims, &got, Int64(p0), Int64(p1))
            XCTAssertEqual(got.map { $0.bitPattern }, want.map { $0.bitPattern }, "geometry \(cs)")
        }
    }

    /// The float32 kernel for short key sequences (S ≤ 32, D = 8, 16, 24, 32: one to four score
    /// vectors per row, one to four output vectors, base-2 softmax in registers; AVX-512 or AVX2 as
    /// NEURONE_KERNEL allows) against the float64 composite ops: L in and between groups of 2 and 4
    /// rows, S at and between multiples of 8 and 16, D with a half-filled last 16-lane vector, strided rows, with
    /// and without a mask (hidden keys get probability exactly 0; a fully hidden row gives NaN, as
    /// in PyTorch), probabilities kept or not.
    func testShortSequenceAttentionKernelMatchesFloat64() {
        for (l, s, d) in [(1, 1, 8), (3, 7, 16), (4, 8, 8), (5, 13, 24), (28, 28, 16), (6, 32, 32), (2, 17, 32), (7, 25, 8),
                          (5, 16, 16), (3, 31, 24), (8, 19, 8)] {
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

    /// The float32 backward for short key sequences (S ≤ 32, D = 8…32: dP, dS and dQ per pair (AVX2)
    /// or group of four (AVX-512) query rows, dK and dV per pair or four keys, all in registers)
    /// against the float64 kernel (itself gradient-checked): L and S in and between groups of 2 and
    /// 4, S at and between multiples of 8 and 16, separate q, k, v with strided rows and a mask, and
    /// the packed [N, L, 3E] projection of self-attention whose
    /// one gradient holds the three (row stride 3E).
    func testShortSequenceAttentionBackwardMatchesFloat64() {
        for (l, s, d) in [(1, 1, 8), (3, 7, 16), (4, 8, 8), (5, 13, 24), (28, 28, 16), (6, 32, 32), (2, 17, 32), (7, 25, 8), (9, 3, 16),
                          (5, 16, 16), (3, 31, 24), (8, 19, 8), (17, 17, 24)] {
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

    /// Dropout inside the float32 attention kernels (the short ones at the level NEURONE_KERNEL
    /// allows, and the general one past S = 32 or for D not a multiple of 8): O = (P ⊙ M)·V with P
    /// returned undropped, and the gradients of q, k, v, against the float64 composite ops, over
    /// the short kernels' row groups, masked row ends and the general kernel; with an additive mask.
    func testAttentionDropoutMatchesCompositeFloat64() {
        for (l, s, d) in [(1, 1, 8), (3, 7, 16), (5, 13, 24), (28, 28, 16), (6, 32, 32), (2, 17, 32), (7, 25, 8), (9, 3, 16),
                          (3, 31, 24), (17, 17, 24), (4, 40, 16), (5, 9, 12)] {
            let h = 2, n = 2
            let q = r([n, l, h * d], lo: -2, hi: 2), k = r([n, s, h * d], lo: -2, hi: 2), v = r([n, s, h * d]), seed = r([n, l, h * d])
            let drop = Tensor((0..<(n * h * l * s)).map { ($0 * 7) % 5 == 2 ? 0.0 : 1.25 }, shape: [n, h, l, s])
            var hidden = [Double](repeating: 0, count: l * s)
            for i in stride(from: 2, to: hidden.count, by: 5) where s > 1 { hidden[i] = -.infinity }
            let mask = Tensor(hidden, shape: [l, s])
            func heads(_ t: Tensor) -> Tensor { t.reshape([n, t.shape[1], h, d]).permute(0, 2, 1, 3) }
            // float64 composite: the reference
            let (q64, k64, v64) = (q.detach().requiringGrad(), k.detach().requiringGrad(), v.detach().requiringGrad())
            let p64 = (heads(q64).matmul(heads(k64).transpose(-2, -1)) * (1 / Double(d).squareRoot()) + mask).softmax(dim: -1)
            let o64 = (p64 * drop).matmul(heads(v64)).permute(0, 2, 1, 3).reshape([n, l, h * d])
            (o64 * seed).sum().backward()
            // float32 fused, q as a column block of a wider tensor
            let qw = Tensor.cat([q, Tensor.zeros([n, l, 3], dtype: .float64)], dim: 2).to(.float32).detach().requiringGrad()
            let (k32, v32) = (k.to(.float32).detach().requiringGrad(), v.to(.float32).detach().requiringGrad())
            let f = Tensor.scaledDotProductAttention(q: qw.narrow(dim: 2, start: 0, length: h * d), k: k32, v: v32, heads: h,
                                                     mask: mask.to(.float32), dropoutMask: drop.to(.float32))
            (f.output * seed.to(.float32)).sum().backward()
            let tag = "L \(l) S \(s) D \(d)"
            XCTAssertLessThan((f.output.to(.float64) - o64).abs().max().item(), 4e-6, tag)
            XCTAssertLessThan((f.probabilities.to(.float64) - p64.detach()).abs().max().item(), 1e-6, tag)
            for (i, (u, w)) in zip([qw.grad!.narrow(dim: 2, start: 0, length: h * d), k32.grad!, v32.grad!], [q64.grad!, k64.grad!, v64.grad!]).enumerated() {
                let err = (u.to(.float64) - w).abs().max().item()
                XCTAssertLessThan(err, 2e-5 * Swift.max(1, w.abs().max().item()), "\(tag): gradient \(i) differs by \(err)")
            }
        }
    }

    /// The float32 packed linear kernel (linear.c, AVX-512 or AVX2) against float64, directly up to 400 inputs:
    /// tiles of 1–6 rows, 16-column panels with 1–16 live columns, reductions that are and are not
    /// multiples of 8, with and without bias, rows split over threads; shapes past the limits take
    /// the GEMM. The packing and the kernel are also called directly, so that the
    /// plain loops that stand in for them below AVX2 are checked under NEURONE_KERNEL=generic.
    func testPackedLinearKernelMatchesFloat64() {
        // through linear(): up to 12 rows (AVX2: 8) dot products (linear_dot.c, its own test
        // below), the packed kernel from 192 rows and up to 96 inputs, the GEMM otherwise (on
        // AVX-512 CPUs also fewer rows with ≥ 64 outputs: with twice as many outputs as rows the
        // transpose, otherwise W's panels split over the threads in pairs, the last pair one panel
        // or a part of one)
        let shapes = [(1, 1, 1), (5, 7, 9), (6, 16, 8), (13, 17, 28), (7, 33, 64), (64, 10, 120), (200, 64, 28), (9, 24, 400), (4, 5, 401),
                      (197, 17, 9), (193, 33, 400), (192, 5, 401), (5, 64, 9), (37, 70, 33), (3, 130, 50), (64, 97, 784), (191, 64, 200), (64, 100, 300),
                      // AVX-512 tiles: 12 + 12 + 6 + 1 rows over two pairs of panels (the last 2 columns wide), and a
                      // pair plus a single panel
                      (31, 50, 70), (29, 40, 20),
                      // AVX-512 CPUs, 8–256 rows with ≥ 64 outputs and ≥ 2 per row: as the transpose yᵀ = W·xᵀ (x in
                      // 16-row panels, the last partial; W's rows in blocks of whole 12-row tiles, several at 784 inputs)
                      (13, 64, 5), (37, 80, 200), (100, 300, 784), (128, 256, 33), (200, 401, 50),
                      // AVX-512: past 2048 inputs the depth in blocks (the first from the bias, later ones added,
                      // relu on the last): 3 blocks of 834, 5 of 820
                      (13, 70, 2500), (29, 40, 4100)]
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
                                         pk.address.assumingMemoryBound(to: Float.self), b32?.data.assumingMemoryBound(to: Float.self),
                                         Int64(outF), y.data.assumingMemoryBound(to: Float.self), Int64(outF), 0)
                }
                let direct = (y.to(.float64) - want).narrow(dim: 0, start: m0, length: m1 - m0).abs().max().item()
                XCTAssertLessThan(direct, 1e-6 * Double(inF).squareRoot() * 4, "direct: rows \(rows) out \(outF) in \(inF)")
                if m0 > 0 { XCTAssertEqual(y.narrow(dim: 0, start: 0, length: m0).abs().max().item(), 0, "rows before m0 untouched") }
                if inF > 2048 {
                    // relu applied once, to the whole sum
                    withExtendedLifetime(b32) {
                        nk_linear_packed_f32(x32.data.assumingMemoryBound(to: Float.self), Int64(inF), 0, Int64(rows), Int64(inF),
                                             pk.address.assumingMemoryBound(to: Float.self), b32?.data.assumingMemoryBound(to: Float.self),
                                             Int64(outF), y.data.assumingMemoryBound(to: Float.self), Int64(outF), 1)
                    }
                    let relu = (y.to(.float64) - want.relu()).abs().max().item()
                    XCTAssertLessThan(relu, 1e-6 * Double(inF).squareRoot() * 4, "relu: rows \(rows) out \(outF) in \(inF)")
                }
            }
        }
    }

    /// The segmented product (nk_gemm_segments_f32: AVX-512, AVX2 or plain loops as NEURONE_KERNEL
    /// allows) against float64 sums over the same runs: rows at scattered offsets, runs wider apart
    /// than they are long, rows in tiles of 12, 6 and the rest (AVX2: 6 and the rest), one to three
    /// panels with the last partial, a row range in the middle (the rows before untouched), written
    /// and added to what c holds, the panels from g at a row stride wider than its rows
    /// (nk_pack_rows16_f32).
    func testSegmentedProductMatchesFloat64() {
        // (rows, N, segs, segLen, segStride)
        for (rows, n, segs, segLen, segStride) in [(1, 1, 1, 1, 1), (35, 17, 9, 3, 9), (42, 20, 7, 7, 11), (29, 48, 4, 24, 26), (7, 33, 3, 5, 5)] {
            let depth = segs * segLen
            let span = (segs - 1) * segStride + segLen
            let x = r([rows * 3 + span + 7]), gWide = r([n, depth + 3]), c0 = r([rows, n])
            let offsets = (0..<rows).map { Int64(($0 * 37) % (rows * 3 + 7)) }
            let (x32, g32, c32) = (x.to(.float32), gWide.to(.float32), c0.to(.float32).contiguous())
            let pk = Tensor.zeros([(n + 15) / 16 * 16 * depth], dtype: .float32)
            nk_pack_rows16_f32(g32.data.assumingMemoryBound(to: Float.self), Int64(depth + 3), Int64(n), Int64(depth),
                               pk.data.assumingMemoryBound(to: Float.self))
            let xv: [Double] = x32.to(.float64).toArray(), gv: [Double] = g32.to(.float64).toArray(), cv: [Double] = c32.to(.float64).toArray()
            let m0 = rows / 3
            for add in [0, 1] {
                let c = c32.clone()
                offsets.withUnsafeBufferPointer { off in
                    nk_gemm_segments_f32(x32.data.assumingMemoryBound(to: Float.self), off.baseAddress!, Int64(m0), Int64(rows), Int64(segs),
                                         Int64(segLen), Int64(segStride), pk.data.assumingMemoryBound(to: Float.self), Int64(n),
                                         c.data.assumingMemoryBound(to: Float.self), Int64(n), Int32(add))
                }
                let got: [Double] = c.to(.float64).toArray()
                var worst = 0.0
                for i in 0..<rows {
                    for j in 0..<n {
                        if i < m0 { XCTAssertEqual(got[i * n + j], cv[i * n + j], "row \(i) before m0 untouched"); continue }
                        var want: Double = add == 1 ? cv[i * n + j] : 0
                        let base = Int(offsets[i])
                        for s in 0..<segs {
                            for q in 0..<segLen {
                                let xq: Double = xv[base + s * segStride + q], gq: Double = gv[j * (depth + 3) + s * segLen + q]
                                want += xq * gq
                            }
                        }
                        worst = Swift.max(worst, abs(got[i * n + j] - want))
                    }
                }
                XCTAssertLessThan(worst, 1e-6 * Double(depth).squareRoot() * 4, "rows \(rows) N \(n) runs \(segs)×\(segLen) at \(segStride), add \(add)")
            }
        }
    }

    /// The few-rows forward (linear_dot.c, AVX-512, AVX2 or plain loops as NEURONE_KERNEL allows)
    /// against float64, called directly: 1–13 rows (groups of 4 rows of x and the 1–3 left over),
    /// tiles of 4 rows of W and the 1–3 left over, reductions with and without a tail past the
    /// vectors (16 and 8 lanes), row strides wider than the rows, a column range in the middle
    /// (the columns outside untouched), with and without bias, added to what y holds or not, and
    /// relu as nk_activation_f32 (NaN kept).
    func testLinearDotKernelMatchesFloat64() {
        for (rows, outF, inF) in [(1, 1, 1), (1, 37, 784), (2, 6, 9216), (3, 70, 37), (4, 9, 16), (5, 13, 40), (7, 5, 9), (8, 64, 24),
                                  (12, 10, 100), (13, 11, 23)] {
            let (ldx, ldw, ldy) = (inF + 3, inF + 5, outF + 2)
            let x = r([rows, ldx]), w = r([outF, ldw]), b = r([outF])
            let (n0, n1) = (outF / 3, outF - outF / 5)
            for bias in [b, nil] {
                for (relu, add) in [(false, false), (true, false), (false, true), (true, true)] {
                    // y starts at 7 everywhere: add ≠ 0 adds the product to it
                    var want = x.narrow(dim: 1, start: 0, length: inF).linear(weight: w.narrow(dim: 1, start: 0, length: inF), bias: bias)
                    if add { want = want + 7 }
                    if relu { want = want.relu() }
                    let (x32, w32, b32) = (x.to(.float32), w.to(.float32), bias?.to(.float32))
                    let y = Tensor.full([rows, ldy], 7, dtype: .float32)
                    withExtendedLifetime((x32, w32, b32)) {
                        nk_linear_dot_f32(x32.data.assumingMemoryBound(to: Float.self), Int64(ldx), Int64(rows), Int64(inF),
                                          w32.data.assumingMemoryBound(to: Float.self), Int64(ldw), b32?.data.assumingMemoryBound(to: Float.self),
                                          Int64(n0), Int64(n1), y.data.assumingMemoryBound(to: Float.self), Int64(ldy), relu ? 1 : 0, add ? 1 : 0)
                    }
                    let what = "rows \(rows) out \(outF) in \(inF) columns \(n0)..<\(n1) bias \(bias != nil) relu \(relu) add \(add)"
                    let got = y.to(.float64).narrow(dim: 1, start: n0, length: n1 - n0), ref = want.narrow(dim: 1, start: n0, length: n1 - n0)
                    XCTAssertLessThan((got - ref).abs().max().item(), 1e-6 * Double(inF).squareRoot() * 4, what)
                    let outside = y.to(.float64).narrow(dim: 1, start: 0, length: n0).sum().item()
                        + y.to(.float64).narrow(dim: 1, start: n1, length: ldy - n1).sum().item()
                    XCTAssertEqual(outside, 7 * Double(rows * (ldy - (n1 - n0))), "columns outside untouched: " + what)
                }
            }
        }
        // relu keeps NaN, as nk_activation_f32: one row, W = [1], x = [NaN], [−2], [3] (a sum that
        // starts from +0 never gives −0)
        for (input, check) in [(Float.nan, { (v: Float) in v.isNaN }), (-2, { $0 == 0 && $0.sign == .plus }), (3, { $0 == 3 })] {
            var xv = input, wv: Float = 1, yv: Float = 5
            nk_linear_dot_f32(&xv, 1, 1, 1, &wv, 1, nil, 0, 1, &yv, 1, 1, 0)
            XCTAssertTrue(check(yv), "relu of \(input) gave \(yv)")
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

    /// layerNorm's float32 kernels (layernorm.c: sums in lanes of doubles, tails past 16 columns)
    /// against float64's loops: outputs and the gradients of x, weight and bias, on widths below,
    /// at and past the 16 lanes, with and without the affine parameters, rows of large offset
    /// (a mean far from 0 tests the two-pass variance), and one row count split over the threads.
    func testLayerNormFloat32MatchesFloat64() {
        for cols in [1, 7, 16, 33, 64, 100] {
            for (useW, useB) in [(true, true), (true, false), (false, true), (false, false)] {
                let rows = cols == 64 ? 300 : 5
                let x = r([rows, cols]) * 3 + 50
                let w = useW ? r([cols], lo: 0.5, hi: 1.5) : nil, b = useB ? r([cols]) : nil
                let upstream = r([rows, cols])
                var results: [[Tensor]] = []
                for dtype in [DType.float64, .float32] {
                    let xs = x.to(dtype).detach().requiringGrad()
                    let ws = w?.to(dtype).detach().requiringGrad(), bs = b?.to(dtype).detach().requiringGrad()
                    let y = xs.layerNorm(normalizedCount: cols, weight: ws, bias: bs)
                    (y * upstream.to(dtype)).sum().backward()
                    results.append([y, xs.grad!] + (ws.map { [$0.grad!] } ?? []) + (bs.map { [$0.grad!] } ?? []))
                }
                for (k, (want, got)) in zip(results[0], results[1]).enumerated() {
                    let err = (got.to(.float64) - want).abs().max().item(), scale = max(1, want.abs().max().item())
                    // float32 rounding of x near 50 (~4e-6) divided by the spread (~1.7): the outputs
                    // and gradients carry ~1e-5 relative error; a wrong sum or tail would be O(1).
                    XCTAssertLessThan(err / scale, cols == 1 ? 1e-6 : 2e-4, "cols \(cols) w \(useW) b \(useB): tensor \(k)")
                }
            }
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
        // then AVX-512 tiles over 4 + 1 panels (6 columns live in the last), 4 + 4, and 3; the last:
        // panels in several chunks of a quarter of the L2 each (32 panels at 256 rows of a 2 MiB L2)
        // over two K blocks
        let shapes = [(1, 1, 1), (5, 7, 9), (6, 16, 8), (64, 13, 17), (7, 33, 64), (300, 10, 120), (520, 25, 40), (64, 120, 400), (3, 5, 401),
                      (31, 50, 70), (40, 13, 128), (12, 7, 40), (300, 13, 2100)]
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

    /// wgrad_rows.c (dWᵀ = xᵀ·g over many rows, operands in place, with the bias gradient) against
    /// float64: row strides wider than the rows, columns split at a multiple of 32 between two calls
    /// (as the threads do) and a partial last strip, blocks of the input features of every size the
    /// tiles take, rows past one block of 128, written then accumulated; then linear()'s weight and
    /// bias gradients where they take this path (few input features, many rows).
    func testWeightGradientByRowsMatchesFloat64() {
        // columns past the whole strips of 32 (16): 16, 8 and masked (AVX2: 8, 4 and plain) — 61 takes all four pieces
        for (rows, m, n) in [(1, 1, 1), (5, 16, 1), (37, 45, 13), (300, 100, 30), (129, 64, 28), (260, 96, 7), (1792, 512, 28),
                             (70, 61, 19), (33, 27, 9)] {
            let (ldg, ldx) = (m + 3, n + 5)
            let g64 = r([rows, ldg]), x64 = r([rows, ldx])
            let g = g64.narrow(dim: 1, start: 0, length: m), x = x64.narrow(dim: 1, start: 0, length: n)
            let wantT = x.transpose(0, 1).matmul(g), wantB = g.sum(dim: 0)
            let (g32, x32) = (g64.to(.float32), x64.to(.float32))
            let ct = Tensor.full([n, m], .nan, dtype: .float32), db = Tensor.full([m], .nan, dtype: .float32)
            let (gp, xp) = (g32.data.assumingMemoryBound(to: Float.self), x32.data.assumingMemoryBound(to: Float.self))
            let (cp, bp) = (ct.data.assumingMemoryBound(to: Float.self), db.data.assumingMemoryBound(to: Float.self))
            let split = m / 64 * 32
            for accumulate: Int32 in [0, 1] {
                nk_wgrad_rows_f32(gp, Int64(ldg), xp, Int64(ldx), Int64(rows), Int64(m), Int64(n), 0, Int64(split), cp, Int64(m), bp, accumulate)
                nk_wgrad_rows_f32(gp, Int64(ldg), xp, Int64(ldx), Int64(rows), Int64(m), Int64(n), Int64(split), Int64(m), cp, Int64(m), bp, accumulate)
                let scale = Double(accumulate + 1), tol = 2e-6 * Double(rows).squareRoot() * 4
                XCTAssertLessThan((ct.to(.float64) - wantT * scale).abs().max().item(), tol, "rows \(rows) m \(m) n \(n) accumulate \(accumulate)")
                XCTAssertLessThan((db.to(.float64) - wantB * scale).abs().max().item(), tol, "bias: rows \(rows) m \(m) n \(n) accumulate \(accumulate)")
            }
        }
        // linear(): shapes with at most 64 input features over at least 256 rows take the kernel
        for (rows, outF, inF) in [(256, 32, 1), (300, 45, 13), (1792, 512, 28), (520, 33, 64)] {
            XCTAssertEqual(CPUBackend.usesRowsWeightGradient(.float32, rows: rows, inFeatures: inF, outFeatures: outF), CPUBackend.rowsWeightGradientAvailable)
            let x64 = r([rows, inF]), g64 = r([rows, outF])
            let w = r([outF, inF]).to(.float32).detach().requiringGrad(), b = r([outF]).to(.float32).detach().requiringGrad()
            x64.to(.float32).linear(weight: w, bias: b).backward(g64.to(.float32))
            let err = (w.grad!.to(.float64) - g64.transpose(0, 1).matmul(x64)).abs().max().item()
            XCTAssertLessThan(err, 8e-6 * Double(rows).squareRoot(), "linear rows \(rows) out \(outF) in \(inF)")
            let errB = (b.grad!.to(.float64) - g64.sum(dim: 0)).abs().max().item()
            XCTAssertLessThan(errB, 8e-6 * Double(rows).squareRoot(), "linear's bias rows \(rows) out \(outF) in \(inF)")
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
            ([40, 1, 28, 28], [6, 1, 5, 5], [1], .explicit([2]), [1]),   // direct, 40 samples: the weight gradient over chunks of 17, 17 and 6
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
                // relative to the largest value (sums over 40 samples reach ~100)
                let err = (u.to(.float64) - v).abs().max().item()
                XCTAssertLessThan(err, 1e-4 * Swift.max(1, v.abs().max().item()),
                                  "x\(xs) w\(ws) stride \(st) \(p) dilation \(d): output \(i) differs by \(err)")
            }
        }
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
}

extension Tensor {
    /// The host address of a tensor in host memory, for calling the C entry points directly.
    fileprivate var data: UnsafeMutableRawPointer { backend.hostAddress(buffer)! }
}

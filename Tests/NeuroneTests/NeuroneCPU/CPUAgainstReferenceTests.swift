import XCTest
@testable import NeuroneDevice
@testable import NeuroneCPU
@testable import NeuroneReference
@testable import NeuroneTensor
import CNeuroneKernels

/// The CPU backend's layer kernels against the reference backend (plain float64 loops), called
/// directly on device buffers with the same inputs, on the shapes that take each CPU path: the
/// reference is the oracle of the fast kernels, whichever backend the rest of the suite runs on.
final class CPUAgainstReferenceTests: XCTestCase {
    let cpu = CPUBackend.shared, ref = ReferenceBackend.shared
    let generator = Generator(seed: 7)

    /// A new host buffer holding `values` in `dt`.
    func buffer(_ values: [Double], _ dt: DType) -> DeviceBuffer {
        let b = DeviceBuffer(storage: Storage(hostByteCount: Swift.max(1, values.count) * dt.byteSize, device: .cpu), byteOffset: 0)
        let e = Elements(b, dt)
        for (i, v) in values.enumerated() { e[i] = v }
        return b
    }

    func random(_ count: Int, _ dt: DType, lo: Double = -1, hi: Double = 1) -> DeviceBuffer {
        buffer((0..<count).map { _ in lo + (hi - lo) * generator.nextDouble() }, dt)
    }

    /// An uninitialised buffer of `count` values, filled with NaN so that a value left unwritten shows.
    func empty(_ count: Int, _ dt: DType) -> DeviceBuffer { buffer([Double](repeating: .nan, count: count), dt) }

    func values(_ b: DeviceBuffer, _ count: Int, _ dt: DType) -> [Double] { (0..<count).map { Elements(b, dt)[$0] } }

    /// max |a − b| / (1 + max |b|) over two buffers.
    func relativeError(_ a: DeviceBuffer, _ b: DeviceBuffer, _ count: Int, _ dt: DType) -> Double {
        let (x, y) = (values(a, count, dt), values(b, count, dt))
        let scale = 1 + (y.map { Swift.abs($0) }.max() ?? 0)
        var worst = 0.0
        for i in 0..<count {
            if x[i].isNaN != y[i].isNaN { return .infinity }
            if !x[i].isNaN { worst = Swift.max(worst, Swift.abs(x[i] - y[i]) / scale) }
        }
        return worst
    }

    func tolerance(_ dt: DType) -> Double { dt == .float32 ? 2e-5 : 1e-12 }

    /// Both convolution paths (single GEMM: packed float32 with and without the 8-wide chunked
    /// forward, GEMM float64, several samples per group; direct: padded, dilated), with bias and a
    /// fused activation, forward and all three gradients.
    /// The CPU's float32 uniform and dropout fills (random.c: eight lanes of the stream, each
    /// started by a jump) against drawing one value at a time: the same bits, the stream left in
    /// the same state (the next draws agree), at counts below, at and past the lanes' threshold and
    /// with every remainder of 8, on one thread and on three (a part each, past 131,072 values); and
    /// a jump against stepping.
    func testRandomFillsMatchDrawingOneByOne() {
        let saved = Threading.threadCount
        defer { Threading.threadCount = saved }
        for (threads, count) in [(1, 1), (1, 9), (1, 16_383), (1, 16_384), (1, 16_391), (1, 40_003), (1, 229_376), (3, 131_071), (3, 131_074), (3, 229_376)] {
            Threading.threadCount = threads
            for distribution in [RandomDistribution.uniform(low: -0.5, high: 2.5), .scaledBernoulli(keep: 0.9), .scaledBernoulli(keep: 0.25)] {
                var mine = RandomStream(seed: UInt64(count)), theirs = mine
                let (a, b) = (empty(count, .float32), empty(count, .float32))
                cpu.randomFill(distribution, dtype: .float32, a, count: count, stream: &mine)
                ref.hostRandomFill(distribution, dtype: .float32, b, count: count, stream: &theirs)
                let (pa, pb) = (a.pointer.assumingMemoryBound(to: UInt32.self), b.pointer.assumingMemoryBound(to: UInt32.self))
                var firstDifference: Int?
                for i in 0..<count where pa[i] != pb[i] { firstDifference = i; break }
                XCTAssertNil(firstDifference, "\(distribution) count \(count) threads \(threads)")
                XCTAssertEqual([mine.nextUInt64(), mine.nextUInt64()], [theirs.nextUInt64(), theirs.nextUInt64()], "state after \(count), \(threads) threads")
            }
        }
        for steps: UInt64 in [0, 1, 255, 256, 5_000] {
            var stepped = RandomStream(seed: 3)
            var words = (stepped.s0, stepped.s1, stepped.s2, stepped.s3)
            for _ in 0..<steps { _ = stepped.nextUInt64() }
            withUnsafeMutableBytes(of: &words) { nk_random_jump($0.baseAddress!.assumingMemoryBound(to: UInt64.self), steps) }
            XCTAssertTrue(words == (stepped.s0, stepped.s1, stepped.s2, stepped.s3), "jump by \(steps)")
        }
    }

    func testConvolutionMatchesReference() {
        // (N, C, H, W, O, kh, kw, stride, pad, dilation)
        let shapes = [(2, 32, 12, 12, 64, 3, 3, 1, 0, 1),   // mnist-cnn's conv2 shape, scaled down: 10-wide rows
                      (3, 8, 10, 18, 5, 3, 3, 1, 1, 1),     // 18-wide padded rows: 8-wide chunked forward
                      (5, 6, 9, 7, 16, 5, 5, 2, 2, 1),      // strided, several samples per GEMM group
                      (2, 1, 9, 9, 6, 5, 5, 1, 2, 1),       // lenet5's conv1: the direct path
                      (2, 2, 8, 10, 7, 3, 3, 1, 1, 2),      // direct, dilated
                      (1, 4, 6, 6, 3, 1, 1, 1, 0, 1),       // 1×1, short columns, direct
                      // unpadded, stride 1: the weight gradient from x's runs (nk_gemm_segments_f32); 42 and
                      // 35 rows (tiles of 12, 6 and 5 rows), 20 and 17 outputs (a masked last panel), dilated,
                      // several samples per group and two groups (one per thread on two)
                      (8, 7, 11, 9, 20, 3, 2, 1, 0, 2),
                      (3, 5, 9, 9, 17, 1, 7, 1, 0, 1),
                      // direct, at least 16 channels: without dx (a first layer), the weight gradient from
                      // x's runs too (20 channels: a masked last panel; padded and dilated)
                      (3, 1, 12, 11, 20, 3, 3, 1, 0, 1),
                      (2, 2, 9, 9, 16, 3, 3, 1, 1, 2)]
        for dt in [DType.float32, .float64] {
            for (n, c, h, w, o, kh, kw, s, pd, dl) in shapes {
                let oh = (h + 2 * pd - dl * (kh - 1) - 1) / s + 1, ow = (w + 2 * pd - dl * (kw - 1) - 1) / s + 1
                let g = WindowGeometry(kernelH: kh, kernelW: kw, strideH: s, strideW: s, padH: pd, padW: pd,
                                       dilationH: dl, dilationW: dl, outH: oh, outW: ow)
                let p = Conv2dProblem(dtype: dt, batch: n, channels: c, height: h, width: w, outChannels: o, geometry: g)
                guard cpu.supportsConv2d(p) else { continue }
                for act in [nil, FusedActivation.relu, .tanh] where act == nil || cpu.fusesActivation(dtype: dt) {
                    let what = "\(dt) \(n)×\(c)×\(h)×\(w) → \(o), \(kh)×\(kw) stride \(s) pad \(pd) dilation \(dl), \(act?.rawValue ?? "no activation")"
                    let x = random(n * c * h * w, dt), wt = random(o * c * kh * kw, dt), b = random(o, dt)
                    let yCount = n * o * oh * ow
                    let (y1, y2) = (empty(yCount, dt), empty(yCount, dt))
                    let saved = cpu.conv2d(p, x: x, weight: wt, bias: b, activation: act, out: y1)
                    _ = ref.conv2d(p, x: x, weight: wt, bias: b, activation: act, out: y2)
                    XCTAssertLessThan(relativeError(y1, y2, yCount, dt), tolerance(dt), "forward: \(what)")
                    let gy = random(yCount, dt)
                    let grads = [(n * c * h * w), (o * c * kh * kw), o].map { (empty($0, dt), empty($0, dt), $0) }
                    cpu.conv2dBackward(p, saved: saved, x: x, weight: wt, output: act == nil ? nil : y1, activation: act, gradOut: gy,
                                       dx: grads[0].0, dweight: grads[1].0, dbias: grads[2].0)
                    ref.conv2dBackward(p, saved: nil, x: x, weight: wt, output: act == nil ? nil : y1, activation: act, gradOut: gy,
                                       dx: grads[0].1, dweight: grads[1].1, dbias: grads[2].1)
                    for (name, (a, r, count)) in zip(["dx", "dweight", "dbias"], grads) {
                        XCTAssertLessThan(relativeError(a, r, count, dt), tolerance(dt) * 4, "\(name): \(what)")
                    }
                    // without dx (a network's first layer), with and without the bias's gradient
                    for withBias in [true, false] {
                        let (dw, db) = (empty(o * c * kh * kw, dt), empty(o, dt))
                        cpu.conv2dBackward(p, saved: saved, x: x, weight: wt, output: act == nil ? nil : y1, activation: act, gradOut: gy,
                                           dx: nil, dweight: dw, dbias: withBias ? db : nil)
                        XCTAssertLessThan(relativeError(dw, grads[1].1, o * c * kh * kw, dt), tolerance(dt) * 4, "dweight without dx: \(what)")
                        if withBias { XCTAssertLessThan(relativeError(db, grads[2].1, o, dt), tolerance(dt) * 4, "dbias without dx: \(what)") }
                    }
                }
            }
        }
    }

    /// The linear forward (dot products up to 12 rows, 8 with AVX2 tiles (7×9→5, 1×784→37,
    /// 3×37→70, 5×40→64, 12×100→9); the packed kernel from 192 rows, or fewer with ≥ 64 outputs on
    /// AVX-512 CPUs; there 13–256 rows with at least twice as many outputs as rows as its transpose
    /// (37×200→80 one block of W's rows per thread, the last 16-row panel of x partial; 100×784→300
    /// several blocks of 72 rows; 13×50→64; 200×300→400), W's panels split over the threads for
    /// fewer outputs (64×300→100, 40×40→64), bias rows + GEMM otherwise; fused relu, tanh, sigmoid) and
    /// the weight gradient (outer-product kernel for ≥ 32768 weights, wgrad_rows.c for few features
    /// over many rows on AVX-512 CPUs (300×28→80), GEMM otherwise; with the bias's gradient or not;
    /// with a fused activation's gradient taken from its output, in the packing of g where the
    /// outer-product kernel runs (64×784→50, its last tile of 6 outputs partial; 193×120→300)). 200×600→90:
    /// on AVX-512 CPUs the packed kernel past 512 features, W packed by two threads (6 panels, the
    /// last of 10 columns). 20×2100→64: the transpose with its reduction in two blocks (the second
    /// adds to the first's stores), its second panel of x 4 rows wide.
    func testLinearMatchesReference() {
        for dt in [DType.float32, .float64] {
            for (rows, inF, outF) in [(7, 9, 5), (200, 64, 33), (64, 784, 50), (193, 120, 300), (200, 600, 90), (64, 300, 100), (300, 28, 80),
                                      (37, 200, 80), (100, 784, 300), (13, 50, 64), (40, 40, 64), (200, 300, 400),
                                      (1, 784, 37), (3, 37, 70), (5, 40, 64), (12, 100, 9), (20, 2100, 64)] {
                let x = random(rows * inF, dt), w = random(outF * inF, dt), b = random(outF, dt)
                for act in [nil, FusedActivation.relu, .tanh, .sigmoid] where act == nil || cpu.fusesActivation(dtype: dt) {
                    let (y1, y2) = (empty(rows * outF, dt), empty(rows * outF, dt))
                    cpu.linear(dtype: dt, rows: rows, inFeatures: inF, outFeatures: outF, x: x, weight: w, bias: b, activation: act, out: y1)
                    ref.linear(dtype: dt, rows: rows, inFeatures: inF, outFeatures: outF, x: x, weight: w, bias: b, activation: act, out: y2)
                    XCTAssertLessThan(relativeError(y1, y2, rows * outF, dt), tolerance(dt), "linear \(dt) \(rows)×\(inF)→\(outF) \(act?.rawValue ?? "no activation")")
                }
                let g = random(rows * outF, dt)
                // with a fused activation, g is the gradient of its output y (the forward's, with
                // the bias, so that relu's has zeros) and g·f′(y) is taken on the way
                // (the activations on the smaller shapes only: the reference's loops are slow)
                for act in [nil, FusedActivation.relu, .tanh, .sigmoid] where act == nil || rows * inF * outF <= 8_000_000 {
                    let y = act.map { a in
                        let y = empty(rows * outF, dt)
                        ref.linear(dtype: dt, rows: rows, inFeatures: inF, outFeatures: outF, x: x, weight: w, bias: b, activation: a, out: y)
                        return y
                    }
                    for withBias in act == nil ? [false, true] : [true] {
                        let (d1, d2) = (empty(outF * inF, dt), empty(outF * inF, dt)), (b1, b2) = (empty(outF, dt), empty(outF, dt))
                        cpu.linearWeightGradient(dtype: dt, rows: rows, inFeatures: inF, outFeatures: outF, gradOut: g, x: x, into: d1,
                                                 bias: withBias ? b1 : nil, activation: act, output: y)
                        ref.linearWeightGradient(dtype: dt, rows: rows, inFeatures: inF, outFeatures: outF, gradOut: g, x: x, into: d2,
                                                 bias: withBias ? b2 : nil, activation: act, output: y)
                        let what = "\(dt) \(rows)×\(inF)→\(outF) \(act?.rawValue ?? "no activation")"
                        XCTAssertLessThan(relativeError(d1, d2, outF * inF, dt), tolerance(dt) * 4, "weight gradient \(what)")
                        if withBias { XCTAssertLessThan(relativeError(b1, b2, outF, dt), tolerance(dt) * 4, "bias gradient \(what)") }
                    }
                }
            }
        }
    }

    /// Attention forward (probabilities kept or not, with a mask that hides keys), backward into
    /// packed [N, L, 3E] gradients, and the inference self-attention, on short (register) and
    /// long (generic) key sequences.
    func testAttentionMatchesReference() {
        for dt in [DType.float32, .float64] {
            for (n, l, s, heads, d) in [(2, 5, 7, 2, 8), (3, 28, 28, 4, 16), (1, 40, 40, 1, 12)] {
                let e = heads * d
                let p = AttentionProblem(dtype: dt, batch: n, queries: l, keys: s, heads: heads, headDim: d)
                let q = random(n * l * e, dt), k = random(n * s * e, dt), v = random(n * s * e, dt)
                var maskValues = (0..<(l * s)).map { _ in generator.nextDouble() - 0.5 }
                maskValues[1] = -.infinity
                let mask = buffer(maskValues, dt)
                func rows(_ b: DeviceBuffer, _ len: Int) -> StridedRows { StridedRows(buffer: b, batchStride: len * e, rowStride: e) }
                // without and with dropout multipliers on the probabilities
                let dropout = buffer((0..<(n * heads * l * s)).map { $0 % 3 == 0 ? 0.0 : 1.5 }, dt)
                let what = "\(dt) N \(n) L \(l) S \(s) heads \(heads) D \(d)"
                for drop in [nil, dropout] {
                    let (o1, o2) = (empty(n * l * e, dt), empty(n * l * e, dt))
                    let (p1, p2) = (empty(n * heads * l * s, dt), empty(n * heads * l * s, dt))
                    cpu.attention(p, q: rows(q, l), k: rows(k, s), v: rows(v, s), mask: mask, maskBlockStride: 0, dropout: drop, probabilities: p1, out: o1)
                    ref.attention(p, q: rows(q, l), k: rows(k, s), v: rows(v, s), mask: mask, maskBlockStride: 0, dropout: drop, probabilities: p2, out: o2)
                    let what = what + " dropout \(drop != nil)"
                    XCTAssertLessThan(relativeError(o1, o2, n * l * e, dt), tolerance(dt), "attention output \(what)")
                    XCTAssertLessThan(relativeError(p1, p2, n * heads * l * s, dt), tolerance(dt), "attention probabilities \(what)")
                    let go = random(n * l * e, dt)
                    let grads = [(l, n * l * e), (s, n * s * e), (s, n * s * e)].map { (empty($0.1, dt), empty($0.1, dt), $0.0, $0.1) }
                    cpu.attentionBackward(p, q: rows(q, l), k: rows(k, s), v: rows(v, s), probabilities: p1, dropout: drop, gradOut: go,
                                          gq: rows(grads[0].0, l), gk: rows(grads[1].0, s), gv: rows(grads[2].0, s))
                    ref.attentionBackward(p, q: rows(q, l), k: rows(k, s), v: rows(v, s), probabilities: p1, dropout: drop, gradOut: go,
                                          gq: rows(grads[0].1, l), gk: rows(grads[1].1, s), gv: rows(grads[2].1, s))
                    for (name, (a, r, _, count)) in zip(["dq", "dk", "dv"], grads) {
                        XCTAssertLessThan(relativeError(a, r, count, dt), tolerance(dt) * 4, "\(name) \(what)")
                    }
                }
                guard l == s else { continue }
                let x = random(n * l * e, dt), wi = random(3 * e * e, dt), bi = random(3 * e, dt), wo = random(e * e, dt), bo = random(e, dt)
                let (s1, s2) = (empty(n * l * e, dt), empty(n * l * e, dt))
                cpu.selfAttention(p, x: x, inWeight: wi, inBias: bi, outWeight: wo, outBias: bo, mask: mask, out: s1)
                ref.selfAttention(p, x: x, inWeight: wi, inBias: bi, outWeight: wo, outBias: bo, mask: mask, out: s2)
                XCTAssertLessThan(relativeError(s1, s2, n * l * e, dt), tolerance(dt) * 4, "self-attention \(what)")
            }
        }
    }

    /// The float32 forward without mask, dropout or probabilities (inference: the kernels with the
    /// scores transposed, sixteen query rows a group — at the AVX2 level two vectors, and one of
    /// eight for the last ≤ 8 rows — where the shape suits them) against the same forward keeping
    /// the probabilities (the kernels training takes): the same outputs bit for bit, and against
    /// the reference; query counts below, at and past a group (and a last group of eight after one
    /// of sixteen), key counts taking each key-chunk path (AVX2's sixteen rows: 6s, then 4–5 or
    /// 1–3 keys; eight rows and AVX-512: 8s, then 5–7 or 1–4) and past 16, every head width, and
    /// shapes each level leaves to the other kernel.
    func testAttentionInferenceMatchesTheTrainingKernelBitForBit() {
        for (l, s, d) in [(28, 28, 16), (27, 19, 8), (5, 32, 32), (13, 7, 24), (9, 3, 16), (1, 12, 8), (16, 13, 32), (8, 1, 24), (20, 11, 16), (24, 16, 8)] {
            let (n, heads, dt) = (2, 2, DType.float32), e = heads * d
            let p = AttentionProblem(dtype: dt, batch: n, queries: l, keys: s, heads: heads, headDim: d)
            // q, k and v in one [N, max(L, S), 3E] buffer, as the projections lie
            let rows = Swift.max(l, s), qkv = random(n * rows * 3 * e, dt, lo: -3, hi: 3)
            func view(_ part: Int) -> StridedRows {
                StridedRows(buffer: qkv + part * e * dt.byteSize, batchStride: rows * 3 * e, rowStride: 3 * e)
            }
            let (o1, o2, o3) = (empty(n * l * e, dt), empty(n * l * e, dt), empty(n * l * e, dt))
            cpu.attention(p, q: view(0), k: view(1), v: view(2), mask: nil, maskBlockStride: 0, dropout: nil, probabilities: nil, out: o1)
            cpu.attention(p, q: view(0), k: view(1), v: view(2), mask: nil, maskBlockStride: 0, dropout: nil,
                          probabilities: empty(n * heads * l * s, dt), out: o2)
            ref.attention(p, q: view(0), k: view(1), v: view(2), mask: nil, maskBlockStride: 0, dropout: nil, probabilities: nil, out: o3)
            let what = "L \(l) S \(s) D \(d)"
            XCTAssertEqual(values(o1, n * l * e, dt).map { $0.bitPattern }, values(o2, n * l * e, dt).map { $0.bitPattern }, what)
            XCTAssertLessThan(relativeError(o1, o3, n * l * e, dt), tolerance(dt), what)
        }
    }

    /// Max pooling (2×2 kernel, padded 3×3 with dilation), its adjoint, average pooling with and
    /// without padding counted, forward and backward.
    func testPoolingMatchesReference() {
        for dt in [DType.float32, .float64] {
            for (planes, h, w, k, s, pd, dl) in [(6, 8, 10, 2, 2, 0, 1), (2, 7, 9, 2, 2, 0, 1), (3, 9, 7, 3, 2, 1, 1), (2, 11, 11, 3, 1, 1, 2)] {
                let oh = (h + 2 * pd - dl * (k - 1) - 1) / s + 1, ow = (w + 2 * pd - dl * (k - 1) - 1) / s + 1
                let g = WindowGeometry(kernelH: k, kernelW: k, strideH: s, strideW: s, padH: pd, padW: pd, dilationH: dl, dilationW: dl, outH: oh, outW: ow)
                let x = random(planes * h * w, dt), outCount = planes * oh * ow
                let (m1, m2) = (empty(outCount, dt), empty(outCount, dt))
                let (i1, i2) = (empty(outCount, .int64), empty(outCount, .int64))
                cpu.maxPool2d(dtype: dt, x, planes: planes, height: h, width: w, geometry: g, m1, indices: i1)
                ref.maxPool2d(dtype: dt, x, planes: planes, height: h, width: w, geometry: g, m2, indices: i2)
                XCTAssertEqual(values(m1, outCount, dt), values(m2, outCount, dt), "max pooling \(dt) \(planes)×\(h)×\(w) k\(k)")
                XCTAssertEqual(values(i1, outCount, .int64), values(i2, outCount, .int64), "max pooling indices")
                let gy = random(outCount, dt)
                let (dx1, dx2) = (empty(planes * h * w, dt), empty(planes * h * w, dt))
                cpu.maxPool2dBackward(dtype: dt, gy, indices: i1, planes: planes, height: h, width: w, geometry: g, dx1)
                ref.maxPool2dBackward(dtype: dt, gy, indices: i1, planes: planes, height: h, width: w, geometry: g, dx2)
                XCTAssertLessThan(relativeError(dx1, dx2, planes * h * w, dt), tolerance(dt), "max pooling backward")
                guard dl == 1 else { continue }
                for countPad in [true, false] {
                    let (a1, a2) = (empty(outCount, dt), empty(outCount, dt))
                    cpu.avgPool2d(dtype: dt, x, planes: planes, height: h, width: w, geometry: g, countIncludePad: countPad, divisorOverride: nil, backward: false, a1)
                    ref.avgPool2d(dtype: dt, x, planes: planes, height: h, width: w, geometry: g, countIncludePad: countPad, divisorOverride: nil, backward: false, a2)
                    XCTAssertLessThan(relativeError(a1, a2, outCount, dt), tolerance(dt), "average pooling \(dt) count pad \(countPad)")
                    cpu.avgPool2d(dtype: dt, gy, planes: planes, height: h, width: w, geometry: g, countIncludePad: countPad, divisorOverride: nil, backward: true, dx1)
                    ref.avgPool2d(dtype: dt, gy, planes: planes, height: h, width: w, geometry: g, countIncludePad: countPad, divisorOverride: nil, backward: true, dx2)
                    XCTAssertLessThan(relativeError(dx1, dx2, planes * h * w, dt), tolerance(dt), "average pooling backward \(dt) count pad \(countPad)")
                }
            }
        }
    }

    /// Batched GEMM with every transpose and a shared A, beta 0 (C not read: NaN there must not
    /// show) and beta 1; and the fused optimiser updates, which compute in the parameter's dtype
    /// with the same operations and so agree exactly.
    func testGemmAndOptimizerUpdatesMatchReference() {
        for dt in [DType.float32, .float64] {
            let (batch, m, n, k) = (3, 13, 17, 40)
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for beta in [0.0, 1.0] {
                    let a = random(m * k, dt), b = random(batch * k * n, dt)
                    let c0 = beta == 0 ? [Double](repeating: .nan, count: batch * m * n) : values(random(batch * m * n, dt), batch * m * n, dt)
                    let (c1, c2) = (buffer(c0, dt), buffer(c0, dt))
                    for (be, c) in [(cpu as Backend, c1), (ref as Backend, c2)] {
                        be.gemm(dtype: dt, batch: batch, transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a, lda: ta ? m : k, strideA: 0,
                                b, ldb: tb ? k : n, strideB: k * n, beta: beta, c, ldc: n, strideC: m * n)
                    }
                    XCTAssertLessThan(relativeError(c1, c2, batch * m * n, dt), tolerance(dt), "gemm \(dt) transA \(ta) transB \(tb) beta \(beta)")
                }
            }
            let count = 100_003   // large enough to be split over threads on the CPU
            let rules: [(OptimizerUpdateRule, Int)] = [
                (.sgd(lr: 0.1, weightDecay: 0.01, maximize: false), 0),
                (.sgdMomentum(momentum: 0.9, dampening: 0.1, lr: 0.05, weightDecay: 0.001, nesterov: true, maximize: true, first: false), 1),
                (.sgdMomentum(momentum: 0.9, dampening: 0, lr: 0.05, weightDecay: 0, nesterov: false, maximize: false, first: true), 1),
                (.adadelta(rho: 0.9, eps: 1e-6, lr: 1.0, weightDecay: 0.01), 2)]
            for (rule, stateCount) in rules {
                let p0 = values(random(count, dt), count, dt), g = random(count, dt)
                let s0 = (0..<stateCount).map { _ in values(random(count, dt, lo: 0, hi: 1), count, dt) }
                let (p1, p2) = (buffer(p0, dt), buffer(p0, dt))
                let (st1, st2) = (s0.map { buffer($0, dt) }, s0.map { buffer($0, dt) })
                cpu.optimizerUpdate(rule, dtype: dt, count: count, parameter: p1, gradient: g, states: st1)
                ref.optimizerUpdate(rule, dtype: dt, count: count, parameter: p2, gradient: g, states: st2)
                XCTAssertEqual(values(p1, count, dt), values(p2, count, dt), "\(rule) \(dt): parameters")
                for (a, b) in zip(st1, st2) { XCTAssertEqual(values(a, count, dt), values(b, count, dt), "\(rule) \(dt): state") }
            }
        }
    }

    /// NaN equals NaN; everything else exactly, or within `tolerance` relative to 1 + |reference|.
    func assertSame(_ a: [Double], _ b: [Double], tolerance: Double = 0, _ what: String) {
        XCTAssertEqual(a.count, b.count, what)
        for (i, (x, y)) in zip(a, b).enumerated() where !(x.isNaN && y.isNaN) {
            if x == y { continue }
            XCTAssertLessThanOrEqual(Swift.abs(x - y), tolerance * (1 + Swift.abs(y)), "\(what) [\(i)]: cpu \(x), reference \(y)")
        }
    }

    /// The primitive kernels on edge values (±0, NaN, ±∞, the int32 extremes) in every dtype: maps,
    /// binary ops with both broadcast steps, comparisons, select, clamp (an integer bound beyond
    /// int32 saturates), casts and reductions. Exact, except float32 exp/tanh/sigmoid (the CPU's own
    /// approximations) and float32 sums (summed in float32 lanes on the CPU).
    func testPrimitiveKernelsMatchReference() {
        let floats: [Double] = [0, -0.0, 1.5, -2.25, .nan, .infinity, -.infinity, 1e-30, 3, -7, 0.5, 100]
        let ints: [Double] = [0, 1, -1, 7, -9, 2147483647, -2147483648, 42, 3, -3, 5, 2]
        let bools: [Double] = [0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0]
        let n = floats.count
        for dt in [DType.float32, .float64, .int32, .int64, .bool] {
            let inputs = dt.isFloatingPoint ? floats : (dt == .bool ? bools : ints)
            let a = buffer(inputs, dt), b = buffer(inputs.reversed(), dt)
            func run(_ outType: DType, _ body: (Backend, DeviceBuffer) -> Void) -> ([Double], [Double]) {
                let (o1, o2) = (empty(n, outType), empty(n, outType))
                body(cpu, o1); body(ref, o2)
                return (values(o1, n, outType), values(o2, n, outType))
            }
            let unaries: [UnaryOp] = dt.isFloatingPoint ? [.neg, .abs, .sqrt, .exp, .log, .log1p, .sin, .cos, .tanh, .sigmoid, .relu, .sign, .reciprocal, .erf]
                : (dt == .bool ? [.abs, .relu, .sign] : [.neg, .abs, .relu, .sign])
            for op in unaries {
                let (x, y) = run(dt) { $0.unary(op, dtype: dt, a, $1, count: n) }
                let approximate = dt == .float32 && [.exp, .tanh, .sigmoid].contains(op)
                assertSame(x, y, tolerance: approximate ? 1e-6 : 0, "\(op) \(dt)")
            }
            let binaries: [BinaryOp] = dt.isFloatingPoint ? [.add, .sub, .mul, .div, .pow, .minimum, .maximum]
                : (dt == .bool ? [.add, .mul, .minimum, .maximum] : [.add, .sub, .mul, .minimum, .maximum])
            for op in binaries {
                for (sa, sb) in [(1, 1), (0, 1), (1, 0)] {
                    let (x, y) = run(dt) { $0.binary(op, dtype: dt, a, aStep: sa, b, bStep: sb, $1, count: n) }
                    assertSame(x, y, "\(op) \(dt) steps \(sa),\(sb)")
                }
            }
            for op in [CompareOp.eq, .ne, .lt, .le, .gt, .ge] {
                let (x, y) = run(.bool) { $0.compare(op, dtype: dt, a, aStep: 1, b, bStep: 1, $1, count: n) }
                assertSame(x, y, "\(op) \(dt)")
            }
            let cond = buffer(bools, .bool)
            let (sx, sy) = run(dt) { $0.select(dtype: dt, cond: cond, a, b, $1, count: n) }
            assertSame(sx, sy, "select \(dt)")
            for (lo, hi) in [(-2.0, 3.0), (3e9, nil), (nil, -3e9)] as [(Double?, Double?)] {
                let (x, y) = run(dt) { $0.clamp(dtype: dt, a, $1, count: n, min: lo, max: hi) }
                assertSame(x, y, "clamp \(dt) \(String(describing: lo)) \(String(describing: hi))")
            }
            for to in [DType.float32, .float64, .int32, .int64, .bool] {
                let (x, y) = run(to) { $0.cast(a, from: dt, $1, to: to, count: n) }
                assertSame(x, y, "cast \(dt) → \(to)")
            }
            for (outer, size, inner) in [(3, 4, 1), (1, 3, 4), (2, 2, 3)] {
                for op in [ReduceOp.sum, .max, .min, .argmax, .argmin] {
                    let outType: DType = op == .argmax || op == .argmin ? .int64 : (op == .sum && !dt.isFloatingPoint ? .int64 : dt)
                    let count = outer * inner
                    let (o1, o2) = (empty(count, outType), empty(count, outType))
                    let (i1, i2) = (empty(count, .int64), empty(count, .int64))
                    let withIndices = op == .max || op == .min
                    cpu.reduce(op, dtype: dt, a, outer: outer, size: size, inner: inner, o1, indices: withIndices ? i1 : nil)
                    ref.reduce(op, dtype: dt, a, outer: outer, size: size, inner: inner, o2, indices: withIndices ? i2 : nil)
                    assertSame(values(o1, count, outType), values(o2, count, outType), tolerance: op == .sum && dt == .float32 ? 1e-6 : 0,
                               "\(op) \(dt) [\(outer), \(size), \(inner)]")
                    if withIndices { assertSame(values(i1, count, .int64), values(i2, count, .int64), "\(op) indices \(dt)") }
                }
            }
        }
    }
}

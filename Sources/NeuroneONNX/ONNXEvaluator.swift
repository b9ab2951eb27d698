import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneONNXProto

/// A small evaluator of ONNX nodes on `Folded` values (row-major, Double): what import uses to
/// recognise a block of a graph by what it computes rather than by how an exporter arranged its
/// nodes (PyTorch's own exports of `nn.MultiheadAttention` split Q, K and V with Reshape,
/// Transpose, Squeeze and Gather, scale Q and K apart and compute masks from shapes; each
/// exporter and version arranges them differently). It runs a block on a small probe input;
/// the result is compared with a Neurone layer of the weights found in the block.
extension ChainReader {
    /// The most values an evaluated value may hold.
    static let maxEvaluatedValues = 1 << 24
    /// The most multiply-adds one evaluated MatMul or Gemm may take (seconds at most).
    static let maxEvaluatedProducts = 1 << 34
    /// The most multiply-adds the products of one evaluated block may take together.
    static let maxEvaluatedWork = 1 << 36
    /// The most values one evaluation may hold at once (512 MiB of Double).
    static let maxEvaluatedHeld = 1 << 26

    /// Evaluates graph values for bound inputs: constants, static nodes and the walked nodes
    /// whose index is in `allowed`; a value computed by any other node is an error.
    struct Evaluator {
        let reader: ChainReader
        let nodes: [Onnx_NodeProto]
        let allowed: ClosedRange<Int>
        /// The batch size the bound inputs have (what -1 in a known shape stands for).
        let batch: Int
        var values: [String: Folded]
        /// The multiply-adds of the products evaluated so far (about: A's values × B's columns),
        /// and the most they may reach.
        var work = 0
        let budget: Int
        /// The values computed and held so far.
        var held = 0

        init(_ reader: ChainReader, nodes: [Onnx_NodeProto], allowed: ClosedRange<Int>, batch: Int, inputs: [String: Folded],
             budget: Int = ChainReader.maxEvaluatedWork) {
            self.reader = reader
            self.nodes = nodes
            self.allowed = allowed
            self.batch = batch
            self.values = inputs
            self.budget = budget
        }

        /// The value `name`.
        mutating func value(_ name: String, depth: Int = 0) throws -> Folded {
            if let v = values[name] { return v }
            if let t = reader.constants[name] {
                guard t.count <= ChainReader.maxEvaluatedValues else { throw ONNXError("the constant '\(name)' is too large to evaluate") }
                let v = Folded(shape: t.shape, values: t.to(.float64).toArray(as: Double.self), integer: !t.dtype.isFloatingPoint)
                values[name] = v
                return v
            }
            let node: Onnx_NodeProto
            if let s = reader.staticNodes[name] { node = s }
            else if let k = reader.valueProducers[name], allowed.contains(k) { node = nodes[k] }
            else { throw ONNXError("'\(name)' is computed outside the block") }
            guard depth < 200 else { throw reader.fail(node, "it is computed through more than 200 nodes in a row") }
            // the shape of a value before the block (the graph's input: PyTorch's zero states): known
            if node.opType == "Shape", let input = node.input.first, values[input] == nil, reader.constants[input] == nil,
               reader.staticNodes[input] == nil, reader.valueProducers[input].map({ !allowed.contains($0) }) ?? true,
               let dims = reader.fullShapes[input] {
                let v = try reader.evaluate(node, [Folded(shape: dims.map { $0 < 0 ? batch : $0 }, values: [], integer: false)])
                values[name] = v
                return v
            }
            var inputs: [Folded?] = []
            for input in node.input { inputs.append(input.isEmpty ? nil : try value(input, depth: depth + 1)) }
            if ["MatMul", "Gemm"].contains(node.opType), let a = inputs.first ?? nil, inputs.count > 1, let b = inputs[1] {
                // the whole block's products within a budget too (a hostile block of many products)
                work += a.values.count * (b.shape.last ?? 1)
                guard work <= budget else {
                    throw reader.fail(node, "the block it is in takes more than \(budget) multiply-adds for import to evaluate")
                }
            }
            let v = try reader.evaluate(node, inputs)
            guard v.values.count <= ChainReader.maxEvaluatedValues else { throw reader.fail(node, "it computes more than \(ChainReader.maxEvaluatedValues) values") }
            held += v.values.count
            guard held <= ChainReader.maxEvaluatedHeld else {
                throw reader.fail(node, "the block it is in holds more than \(ChainReader.maxEvaluatedHeld) values for import to evaluate")
            }
            for o in node.output.prefix(1) where !o.isEmpty { values[o] = v }
            return v
        }
    }

    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { s[d] = s[d + 1] * shape[d + 1] }
        return s
    }

    /// The numpy broadcast of two shapes, or nil.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = Swift.max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a, pb = [Int](repeating: 1, count: r - b.count) + b
        var out: [Int] = []
        for (x, y) in zip(pa, pb) {
            guard x == y || x == 1 || y == 1 else { return nil }
            out.append(x == 1 ? y : x)
        }
        return out
    }

    /// `f`'s values broadcast to `shape` (which `broadcast` gave).
    static func expanded(_ f: Folded, to shape: [Int]) -> [Double] {
        if f.shape == shape { return f.values }
        let r = shape.count
        let padded = [Int](repeating: 1, count: r - f.shape.count) + f.shape
        let own = strides(padded)
        return strided(f.values, shape: shape, steps: (0..<r).map { padded[$0] == 1 ? 0 : own[$0] })
    }

    /// `f` with its axes permuted.
    static func transposed(_ f: Folded, _ perm: [Int]) -> Folded {
        let own = strides(f.shape)
        let shape = perm.map { f.shape[$0] }
        return Folded(shape: shape, values: strided(f.values, shape: shape, steps: perm.map { own[$0] }), integer: f.integer)
    }

    /// The values of `shape` read from `values` with the given step along each axis (0 repeats).
    static func strided(_ values: [Double], shape: [Int], steps: [Int]) -> [Double] {
        let n = shape.reduce(1, *), r = shape.count
        var out = [Double](repeating: 0, count: n)
        var index = [Int](repeating: 0, count: r), at = 0
        for k in 0..<n {
            out[k] = values[at]
            var d = r - 1
            while d >= 0 {
                index[d] += 1
                at += steps[d]
                if index[d] < shape[d] { break }
                at -= steps[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
        return out
    }

    /// What `node` computes from its `inputs` (nil for an omitted optional input).
    func evaluate(_ node: Onnx_NodeProto, _ inputs: [Folded?]) throws -> Folded {
        func input(_ k: Int) throws -> Folded {
            guard k < inputs.count, let v = inputs[k] else { throw fail(node, "its input \(k) is missing") }
            return v
        }
        func optional(_ k: Int) -> Folded? { k < inputs.count ? inputs[k] : nil }
        func ints(_ f: Folded, _ what: String) throws -> [Int] {
            guard f.values.allSatisfy({ $0 == $0.rounded() }) else { throw fail(node, "its \(what) is not integer") }
            // beyond ±10¹⁵ (INT64_MAX as Slice's "to the end"): clamped
            return f.values.map { abs($0) < 1e15 ? Int($0) : $0 > 0 ? Int.max / 4 : Int.min / 4 }
        }
        func axis(_ a: Int, _ rank: Int) throws -> Int {
            guard a >= -rank, a < rank else { throw fail(node, "its axis \(a) is outside a value of \(rank) dimensions") }
            return a < 0 ? a + rank : a
        }
        func count(_ shape: [Int]) throws -> Int {
            guard shape.allSatisfy({ $0 >= 0 }), let n = CheckedSize.product(shape), n <= ChainReader.maxEvaluatedValues else {
                throw fail(node, "it would compute a value of shape \(shape)")
            }
            return n
        }
        let op = node.opType
        switch op {
        case "Identity", "Dropout":
            return try input(0)
        case "Cast":
            var f = try input(0)
            let to = Onnx_TensorProto.DataType(rawValue: int(node, "to", 1))
            if to == .bool { f.values = f.values.map { $0 != 0 ? 1 : 0 }; f.integer = true }
            else {
                f.integer = ![.float, .double, .float16, .bfloat16].contains(to)
                if f.integer { f.values = f.values.map { $0.rounded(.towardZero) } }
            }
            return f
        case "Shape":
            let full = try input(0).shape, r = full.count
            var start = int(node, "start", 0), end = int(node, "end", r)
            start = Swift.min(Swift.max(start < 0 ? start + r : start, 0), r)
            end = Swift.min(Swift.max(end < 0 ? end + r : end, 0), r)
            let part = start < end ? Array(full[start..<end]) : []
            return Folded(shape: [part.count], values: part.map(Double.init), integer: true)
        case "Size":
            return Folded(shape: [], values: [Double(try input(0).values.count)], integer: true)
        case "Reshape":
            var f = try input(0)
            let target = try ints(try input(1), "shape"), allowZero = int(node, "allowzero", 0) == 1
            var shape = target.enumerated().map { !allowZero && $0.element == 0 && $0.offset < f.shape.count ? f.shape[$0.offset] : $0.element }
            guard shape.allSatisfy({ $0 >= -1 }), shape.filter({ $0 == -1 }).count <= 1 else { throw fail(node, "it reshapes \(f.shape) to \(target)") }
            if let free = shape.firstIndex(of: -1) {
                guard let known = CheckedSize.product(shape.filter { $0 != -1 }), known > 0, f.values.count % known == 0 else { throw fail(node, "it reshapes \(f.shape) to \(target)") }
                shape[free] = f.values.count / known
            }
            guard try count(shape) == f.values.count else { throw fail(node, "it reshapes \(f.shape) to \(target)") }
            f.shape = shape
            return f
        case "Transpose":
            let f = try input(0)
            let perm = self.ints(node, "perm") ?? Array((0..<f.shape.count).reversed())
            guard perm.sorted() == Array(0..<f.shape.count) else { throw fail(node, "its perm \(perm) does not fit a value of shape \(f.shape)") }
            return ChainReader.transposed(f, perm)
        case "Squeeze", "Unsqueeze":
            let axes = try opset >= 13 ? optional(1).map { try ints($0, "axes") } : self.ints(node, "axes")
            return try squeezeOrUnsqueeze(node, try input(0), axes: axes)
        case "Gather":
            let data = try input(0), indexValue = try input(1)
            let index = try ints(indexValue, "index")
            let a = try axis(int(node, "axis", 0), data.shape.count), size = data.shape[a]
            let outer = data.shape[..<a].reduce(1, *), inner = data.shape[(a + 1)...].reduce(1, *)
            let shape = Array(data.shape[..<a]) + indexValue.shape + Array(data.shape[(a + 1)...])
            var out: [Double] = []
            out.reserveCapacity(try count(shape))
            for o in 0..<outer {
                for i in index {
                    guard i >= -size, i < size else { throw fail(node, "its index \(i) is outside the \(size) along axis \(a)") }
                    let base = (o * size + (i < 0 ? i + size : i)) * inner
                    out.append(contentsOf: data.values[base..<(base + inner)])
                }
            }
            return Folded(shape: shape, values: out, integer: data.integer)
        case "Slice":
            let data = try input(0)
            let starts = try ints(try input(1), "starts"), ends = try ints(try input(2), "ends")
            let axes = try optional(3).map { try ints($0, "axes") } ?? Array(0..<starts.count)
            let steps = try optional(4).map { try ints($0, "steps") } ?? Array(repeating: 1, count: starts.count)
            guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count, !steps.contains(0) else {
                throw fail(node, "its starts, ends, axes and steps do not fit together")
            }
            let r = data.shape.count
            var first = [Int](repeating: 0, count: r), step = [Int](repeating: 1, count: r), shape = data.shape
            for (k, a) in axes.enumerated() {
                let d = try axis(a, r), size = data.shape[d], s = steps[k]
                func clamp(_ v: Int, _ low: Int, _ high: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + size : v, low), high) }
                let b = s > 0 ? clamp(starts[k], 0, size) : clamp(starts[k], -1, size - 1)
                let e = s > 0 ? clamp(ends[k], 0, size) : clamp(ends[k], -1, size - 1)
                first[d] = b
                step[d] = s
                shape[d] = s > 0 ? Swift.max(0, (e - b + s - 1) / s) : Swift.max(0, (b - e - s - 1) / -s)
            }
            let n = try count(shape), own = ChainReader.strides(data.shape)
            var out = [Double](repeating: 0, count: n), index = [Int](repeating: 0, count: r)
            for k in 0..<n {
                var at = 0
                for d in 0..<r { at += (first[d] + index[d] * step[d]) * own[d] }
                out[k] = data.values[at]
                var d = r - 1
                while d >= 0 {
                    index[d] += 1
                    if index[d] < shape[d] { break }
                    index[d] = 0
                    d -= 1
                }
            }
            return Folded(shape: shape, values: out, integer: data.integer)
        case "Concat":
            let parts = try inputs.indices.map { try input($0) }
            guard let head = parts.first else { throw fail(node, "it has no inputs") }
            let a = try axis(int(node, "axis", 0), head.shape.count)
            guard parts.allSatisfy({ p in p.shape.count == head.shape.count && p.shape.indices.allSatisfy { d in d == a || p.shape[d] == head.shape[d] } }) else {
                throw fail(node, "it concatenates values of shapes \(parts.map { $0.shape })")
            }
            var shape = head.shape
            shape[a] = parts.map { $0.shape[a] }.reduce(0, +)
            var out: [Double] = []
            out.reserveCapacity(try count(shape))
            let outer = head.shape[..<a].reduce(1, *)
            for o in 0..<outer {
                for p in parts {
                    let block = p.shape[a...].reduce(1, *)
                    out.append(contentsOf: p.values[(o * block)..<((o + 1) * block)])
                }
            }
            return Folded(shape: shape, values: out, integer: parts.allSatisfy { $0.integer })
        case "Expand":
            let f = try input(0), target = try ints(try input(1), "shape")
            guard let shape = ChainReader.broadcast(f.shape, target) else { throw fail(node, "it expands \(f.shape) to \(target)") }
            _ = try count(shape)
            return Folded(shape: shape, values: ChainReader.expanded(f, to: shape), integer: f.integer)
        case "ConstantOfShape":
            let shape = try ints(try input(0), "shape")
            var fill = Folded(shape: [1], values: [0], integer: false)
            if let a = attribute(node, "value"), a.hasT {
                let t = try ONNXTensors.tensor(a.t, what: "the value of node '\(node.name)'")
                fill = Folded(shape: t.shape, values: t.to(.float64).toArray(as: Double.self), integer: !t.dtype.isFloatingPoint)
            }
            guard fill.values.count == 1 else { throw fail(node, "its value is not a single number") }
            return Folded(shape: shape, values: Array(repeating: fill.values[0], count: try count(shape)), integer: fill.integer)
        case "Range":
            let start = try input(0), limit = try input(1), delta = try input(2)
            guard let s = start.values.first, let l = limit.values.first, let d = delta.values.first, d != 0 else { throw fail(node, "its start, limit or delta is missing or zero") }
            let steps = ((l - s) / d).rounded(.up)
            guard steps.isFinite, steps <= Double(ChainReader.maxEvaluatedValues) else { throw fail(node, "it would count \(steps) values") }
            let n = Swift.max(0, Int(steps))
            return Folded(shape: [n], values: (0..<n).map { s + Double($0) * d }, integer: start.integer && delta.integer)
        case "Trilu":
            var f = try input(0)
            guard f.shape.count >= 2 else { throw fail(node, "it reads a value of \(f.shape.count) dimensions; expected at least 2") }
            let k = try optional(1).map { try ints($0, "k").first ?? 0 } ?? 0, upper = int(node, "upper", 1) == 1
            let rows = f.shape[f.shape.count - 2], cols = f.shape[f.shape.count - 1]
            for (at, _) in f.values.enumerated() {
                let j = at % cols, i = (at / cols) % rows
                if upper ? j - i < k : j - i > k { f.values[at] = 0 }
            }
            return f
        case "Where":
            let c = try input(0), x = try input(1), y = try input(2)
            guard let s1 = ChainReader.broadcast(c.shape, x.shape), let shape = ChainReader.broadcast(s1, y.shape) else {
                throw fail(node, "its inputs of shapes \(c.shape), \(x.shape), \(y.shape) do not broadcast")
            }
            _ = try count(shape)
            let cv = ChainReader.expanded(c, to: shape), xv = ChainReader.expanded(x, to: shape), yv = ChainReader.expanded(y, to: shape)
            return Folded(shape: shape, values: cv.indices.map { cv[$0] != 0 ? xv[$0] : yv[$0] }, integer: x.integer && y.integer)
        case "MatMul":
            return try matmul(node, try input(0), try input(1))
        case "Gemm":
            var a = try input(0), b = try input(1)
            guard a.shape.count == 2, b.shape.count == 2 else { throw fail(node, "it multiplies \(a.shape) by \(b.shape); expected matrices") }
            if int(node, "transA", 0) != 0 { a = ChainReader.transposed(a, [1, 0]) }
            if int(node, "transB", 0) != 0 { b = ChainReader.transposed(b, [1, 0]) }
            var y = try matmul(node, a, b)
            let alpha = float(node, "alpha", 1), beta = float(node, "beta", 1)
            if alpha != 1 { y.values = y.values.map { $0 * alpha } }
            if let c = optional(2) {
                guard let shape = ChainReader.broadcast(c.shape, y.shape), shape == y.shape else { throw fail(node, "its C of shape \(c.shape) does not broadcast to \(y.shape)") }
                let cv = ChainReader.expanded(c, to: shape)
                for k in y.values.indices { y.values[k] += beta * cv[k] }
            }
            return y
        case "Softmax":
            var f = try input(0)
            let r = f.shape.count
            let a = try axis(int(node, "axis", opset >= 13 ? -1 : 1), r)
            // opset ≥ 13: along the axis; before, over everything from the axis on
            let inner = opset >= 13 ? f.shape[(a + 1)...].reduce(1, *) : 1
            let size = opset >= 13 ? f.shape[a] : f.shape[a...].reduce(1, *)
            let outer = f.values.count / Swift.max(1, size * inner)
            for o in 0..<outer {
                for i in 0..<inner {
                    let at = { (k: Int) in (o * size + k) * inner + i }
                    var m = -Double.infinity
                    for k in 0..<size { m = Swift.max(m, f.values[at(k)]) }
                    var sum = 0.0
                    for k in 0..<size { let e = m == -.infinity ? 0 : Foundation.exp(f.values[at(k)] - m); f.values[at(k)] = e; sum += e }
                    for k in 0..<size { f.values[at(k)] = sum > 0 ? f.values[at(k)] / sum : .nan }
                }
            }
            return f
        case "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or":
            var acc = try input(0)
            for k in 1..<Swift.max(2, inputs.count) {
                let b = try input(k)
                guard let shape = ChainReader.broadcast(acc.shape, b.shape) else { throw fail(node, "its inputs of shapes \(acc.shape) and \(b.shape) do not broadcast") }
                _ = try count(shape)
                let x = ChainReader.expanded(acc, to: shape), y = ChainReader.expanded(b, to: shape)
                let integer = acc.integer && b.integer, fmod = int(node, "fmod", 0) == 1
                var out = [Double](repeating: 0, count: x.count)
                for j in out.indices {
                    let p = x[j], q = y[j]
                    switch op {
                    case "Add": out[j] = p + q
                    case "Sub": out[j] = p - q
                    case "Mul": out[j] = p * q
                    case "Div":
                        if integer { guard q != 0 else { throw fail(node, "it divides by zero") }; out[j] = (p / q).rounded(.towardZero) } else { out[j] = p / q }
                    case "Pow": out[j] = Foundation.pow(p, q)
                    case "Mod":
                        if integer { guard q != 0 else { throw fail(node, "it divides by zero") } }
                        let m = Foundation.fmod(p, q)
                        out[j] = fmod || m == 0 || (m < 0) == (q < 0) ? m : m + q
                    case "Max": out[j] = Swift.max(p, q)
                    case "Min": out[j] = Swift.min(p, q)
                    case "Equal": out[j] = p == q ? 1 : 0
                    case "Less": out[j] = p < q ? 1 : 0
                    case "Greater": out[j] = p > q ? 1 : 0
                    case "LessOrEqual": out[j] = p <= q ? 1 : 0
                    case "GreaterOrEqual": out[j] = p >= q ? 1 : 0
                    case "And": out[j] = p != 0 && q != 0 ? 1 : 0
                    default: out[j] = p != 0 || q != 0 ? 1 : 0
                    }
                }
                let comparison = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or"].contains(op)
                acc = Folded(shape: shape, values: out, integer: integer || comparison)
            }
            return acc
        case "Sqrt", "Neg", "Exp", "Log", "Reciprocal", "Tanh", "Sigmoid", "Relu", "Erf", "Abs", "Not", "Floor", "Ceil":
            var f = try input(0)
            f.values = f.values.map { x in
                switch op {
                case "Sqrt": return x.squareRoot()
                case "Neg": return -x
                case "Exp": return Foundation.exp(x)
                case "Log": return Foundation.log(x)
                case "Reciprocal": return 1 / x
                case "Tanh": return Foundation.tanh(x)
                case "Sigmoid": return 1 / (1 + Foundation.exp(-x))
                case "Relu": return Swift.max(0, x)
                case "Erf": return Foundation.erf(x)
                case "Abs": return Swift.abs(x)
                case "Not": return x == 0 ? 1 : 0
                case "Floor": return x.rounded(.down)
                default: return x.rounded(.up)
                }
            }
            if op == "Not" { f.integer = true }
            return f
        default:
            throw fail(node, "import does not evaluate \(op) nodes")
        }
    }

    /// numpy's matmul of `a` and `b` (batch dimensions broadcast; a vector operand gains and
    /// then loses a dimension).
    func matmul(_ node: Onnx_NodeProto, _ a0: Folded, _ b0: Folded) throws -> Folded {
        guard !a0.shape.isEmpty, !b0.shape.isEmpty else { throw fail(node, "it multiplies a scalar") }
        var a = a0, b = b0
        let vectorA = a.shape.count == 1, vectorB = b.shape.count == 1
        if vectorA { a.shape.insert(1, at: 0) }
        if vectorB { b.shape.append(1) }
        let m = a.shape[a.shape.count - 2], k = a.shape[a.shape.count - 1], n = b.shape[b.shape.count - 1]
        guard b.shape[b.shape.count - 2] == k, let batch = ChainReader.broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))) else {
            throw fail(node, "it multiplies \(a0.shape) by \(b0.shape)")
        }
        // a matrix B (a weight) multiplies every row of A at once; otherwise both take the batch shape
        let shared = b.shape.count == 2 && Array(a.shape.dropLast(2)) == batch
        for shape in [batch + [m, n]] + (shared ? [] : [batch + [m, k], batch + [k, n]]) {
            guard let size = CheckedSize.product(shape), size <= ChainReader.maxEvaluatedValues else {
                throw fail(node, "it would compute a product of \(a0.shape) and \(b0.shape) through a value of shape \(shape)")
            }
        }
        let batches = batch.reduce(1, *), total = batches * m * n
        // a bounded amount of work (2³⁴ multiply-adds: seconds), whatever the file asks for
        guard let work = CheckedSize.product([batches, m, k, n]), work <= ChainReader.maxEvaluatedProducts else {
            throw fail(node, "it multiplies \(a0.shape) by \(b0.shape): more than \(ChainReader.maxEvaluatedProducts) multiply-adds for import to evaluate")
        }
        // float64 products by Neurone's own matmul (its kernels: a Transformer layer's in-projection
        // at BERT sizes is ~10⁹ multiply-adds)
        let out: [Double]
        if shared {
            let av = Tensor(a.values, shape: [batches * m, k], dtype: .float64), bv = Tensor(b.values, shape: [k, n], dtype: .float64)
            out = withNoGrad { av.matmul(bv) }.contiguous().toArray(as: Double.self)
        } else {
            let av = Tensor(ChainReader.expanded(a, to: batch + [m, k]), shape: [batches, m, k], dtype: .float64)
            let bv = Tensor(ChainReader.expanded(b, to: batch + [k, n]), shape: [batches, k, n], dtype: .float64)
            out = withNoGrad { av.matmul(bv) }.contiguous().toArray(as: Double.self)
        }
        guard out.count == total else { throw fail(node, "its product gave \(out.count) values; expected \(total) for shape \(batch + [m, n])") }
        var shape = batch + [m, n]
        if vectorB { shape.removeLast() }
        if vectorA { shape.remove(at: shape.count - (vectorB ? 1 : 2)) }
        return Folded(shape: shape, values: out, integer: a.integer && b.integer)
    }
}

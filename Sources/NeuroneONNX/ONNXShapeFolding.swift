import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneONNXProto

/// The shape arithmetic exporters write into a graph — PyTorch's `torch.onnx.export` computes a
/// recurrent layer's zero initial state as Expand(0, Concat(layers, Shape(input)[0], hidden)) and
/// a Reshape's target from Shape of its input — is folded here: nodes that read only constants,
/// shapes and each other are "static"; their values are computed on demand for a probe batch
/// size (two of them when the batch is symbolic, so that what depends on it is seen to).
extension ChainReader {
    /// The ops a static node may be.
    static let foldable: Set<String> = ["Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Mul", "Add", "Sub", "Div",
                                        "Reshape", "Expand", "ConstantOfShape", "Cast", "Identity", "Range", "Mod"]
    /// The most values a folded value may hold.
    static let maxFoldedValues = 1 << 20

    /// A folded value: its shape and values (integers held exactly as Double below 2⁵³).
    struct Folded: Equatable {
        var shape: [Int]
        var values: [Double]
        var integer: Bool
        var tensor: Tensor {
            integer ? Tensor(values.map { Int64($0) }, shape: shape, dtype: .int64) : Tensor(values.map { Float($0) }, shape: shape, dtype: .float32)
        }
    }

    /// Whether `node` computes only from constants, shapes and static values.
    func isStatic(_ node: Onnx_NodeProto) -> Bool {
        guard ChainReader.foldable.contains(node.opType), node.output.count == 1 else { return false }
        if node.opType == "Shape" { return true }
        let inputs = node.input.filter { !$0.isEmpty }
        return !inputs.isEmpty && inputs.allSatisfy { constants[$0] != nil || staticNodes[$0] != nil }
    }

    /// The value of the static (or constant) `name` for a batch of `batch`; throws naming the node
    /// when it cannot be computed.
    func fold(_ name: String, batch: Int, depth: Int = 0) throws -> Folded {
        let f = try foldValue(name, batch: batch, depth: depth)
        // integers stay exact (below 2⁵³), so that they convert back without a trap
        // (a constant may hold INT64_MAX, Slice's "to the end": read as such, not computed with)
        if f.integer, constants[name] == nil, !f.values.allSatisfy({ abs($0) < 9.0e15 }) {
            throw ONNXError("\(source): the shape arithmetic computing '\(name)' gives integers beyond ±2⁵³")
        }
        return f
    }

    func foldValue(_ name: String, batch: Int, depth: Int) throws -> Folded {
        if let t = constants[name] {
            guard t.count <= ChainReader.maxFoldedValues else { throw ONNXError("\(source): the constant '\(name)' is too large to compute shapes with") }
            return Folded(shape: t.shape, values: t.to(.float64).toArray(as: Double.self), integer: !t.dtype.isFloatingPoint)
        }
        guard let node = staticNodes[name] else { throw ONNXError("\(source): '\(name)' is computed from the data; expected a constant or shape arithmetic") }
        guard depth < 64 else { throw fail(node, "its shape arithmetic is nested more than 64 nodes deep") }
        func input(_ k: Int) throws -> Folded {
            guard k < node.input.count, !node.input[k].isEmpty else { throw fail(node, "its input \(k) is missing") }
            return try fold(node.input[k], batch: batch, depth: depth + 1)
        }
        func optionalInput(_ k: Int) throws -> Folded? { k < node.input.count && !node.input[k].isEmpty ? try input(k) : nil }
        func checked(_ shape: [Int]) throws -> Int {
            guard let n = CheckedSize.product(shape), n <= ChainReader.maxFoldedValues else {
                throw fail(node, "it would compute \(shape) values; import folds shape arithmetic of at most \(ChainReader.maxFoldedValues) values")
            }
            return n
        }
        func axis(_ a: Int, _ rank: Int) throws -> Int {
            guard a >= -rank, a < rank else { throw fail(node, "its axis \(a) is outside a value of \(rank) dimensions") }
            return a < 0 ? a + rank : a
        }
        func ints(_ f: Folded, _ what: String) throws -> [Int] {
            guard f.integer, f.values.allSatisfy({ $0 == $0.rounded() }) else { throw fail(node, "its \(what) is not integer") }
            // beyond ±10¹⁵ (INT64_MAX as Slice's "to the end"): clamped
            return f.values.map { abs($0) < 1e15 ? Int($0) : $0 > 0 ? Int.max / 4 : Int.min / 4 }
        }
        switch node.opType {
        case "Identity":
            return try input(0)
        case "Shape":
            guard let dims = fullShapes[node.input[0]] else {
                throw fail(node, "it takes the shape of '\(node.input[0])', which import does not know at this point of the graph")
            }
            let full = dims.map { $0 < 0 ? batch : $0 }
            let r = full.count
            var start = self.int(node, "start", 0), end = self.int(node, "end", r)
            start = Swift.min(Swift.max(start < 0 ? start + r : start, 0), r)
            end = Swift.min(Swift.max(end < 0 ? end + r : end, 0), r)
            let part = start < end ? Array(full[start..<end]) : []
            return Folded(shape: [part.count], values: part.map(Double.init), integer: true)
        case "Cast":
            var f = try input(0)
            let to = Onnx_TensorProto.DataType(rawValue: self.int(node, "to", 1))
            f.integer = ![.float, .double, .float16, .bfloat16].contains(to)
            if f.integer { f.values = f.values.map { $0.rounded(.towardZero) } }
            return f
        case "Gather":
            let data = try input(0), indexValue = try input(1), index = try ints(indexValue, "index")
            // along axis 0: a vector's values, or a table's rows (PyTorch's positions, table[arange(T)])
            guard !data.shape.isEmpty, try axis(self.int(node, "axis", 0), data.shape.count) == 0 else {
                throw fail(node, "import folds Gather along axis 0 only")
            }
            let rows = data.shape[0], row = data.shape.dropFirst().reduce(1, *)
            let shape = indexValue.shape + Array(data.shape.dropFirst())
            _ = try checked(shape)
            var picked: [Double] = []
            for i in index {
                guard i >= -rows, i < rows else { throw fail(node, "its index \(i) is outside the \(rows) rows") }
                let r = i < 0 ? i + rows : i
                picked += data.values[(r * row)..<((r + 1) * row)]
            }
            return Folded(shape: shape, values: picked, integer: data.integer)
        case "Range":
            let start = try input(0), limit = try input(1), delta = try input(2)
            guard start.values.count == 1, limit.values.count == 1, delta.values.count == 1, delta.values[0] != 0 else {
                throw fail(node, "its start, limit and delta must be single numbers, delta not 0")
            }
            let count = ((limit.values[0] - start.values[0]) / delta.values[0]).rounded(.up)
            guard count.isFinite, count <= Double(ChainReader.maxFoldedValues) else { throw fail(node, "it would count \(count) values") }
            let n = Swift.max(0, Int(count))
            return Folded(shape: [n], values: (0..<n).map { start.values[0] + Double($0) * delta.values[0] },
                          integer: start.integer && limit.integer && delta.integer)
        case "Unsqueeze", "Squeeze":
            let axes = try opset >= 13 ? (try optionalInput(1)).map { try ints($0, "axes") } : self.ints(node, "axes")
            return try squeezeOrUnsqueeze(node, try input(0), axes: axes)
        case "Concat":
            let parts = try node.input.indices.map { try input($0) }
            guard let first = parts.first, parts.allSatisfy({ $0.shape.count == 1 && $0.integer == first.integer }) else {
                throw fail(node, "import folds Concat of vectors only")
            }
            let values = parts.flatMap { $0.values }
            _ = try checked([values.count])
            return Folded(shape: [values.count], values: values, integer: first.integer)
        case "Mul", "Add", "Sub", "Div", "Mod":
            let a = try input(0), b = try input(1)
            guard a.values.count == b.values.count || a.values.count == 1 || b.values.count == 1 else {
                throw fail(node, "import folds \(node.opType) of equal shapes or with a single value only")
            }
            // an empty operand broadcasts to an empty result
            let empty = a.values.isEmpty || b.values.isEmpty
            let n = empty ? 0 : Swift.max(a.values.count, b.values.count)
            let shape = empty ? (a.values.isEmpty ? a.shape : b.shape) : a.values.count >= b.values.count ? a.shape : b.shape
            let integer = a.integer && b.integer
            let values: [Double] = try (0..<n).map { i in
                let x = a.values[a.values.count == 1 ? 0 : i], y = b.values[b.values.count == 1 ? 0 : i]
                switch node.opType {
                case "Mul": return x * y
                case "Add": return x + y
                case "Sub": return x - y
                case "Mod":
                    // integers: the sign of the divisor (Python's %), unless fmod = 1 (C's)
                    if integer && y == 0 { throw fail(node, "it divides by zero") }
                    let m = Foundation.fmod(x, y)
                    return self.int(node, "fmod", 0) == 1 || m == 0 || (m < 0) == (y < 0) ? m : m + y
                default:
                    if integer && y == 0 { throw fail(node, "it divides by zero") }
                    return integer ? (x / y).rounded(.towardZero) : x / y
                }
            }
            return Folded(shape: shape, values: values, integer: integer)
        case "Reshape":
            var f = try input(0)
            let target = try ints(try input(1), "shape")
            var shape = target.enumerated().map { $0.element == 0 && $0.offset < f.shape.count ? f.shape[$0.offset] : $0.element }
            guard shape.allSatisfy({ $0 >= -1 }), shape.filter({ $0 == -1 }).count <= 1 else { throw fail(node, "it reshapes \(f.shape) to \(target)") }
            if let free = shape.firstIndex(of: -1) {
                guard let known = CheckedSize.product(shape.filter { $0 != -1 }), known > 0, f.values.count % known == 0 else {
                    throw fail(node, "it reshapes \(f.values.count) values to \(target)")
                }
                shape[free] = f.values.count / known
            }
            guard shape.allSatisfy({ $0 >= 0 }), try checked(shape) == f.values.count else { throw fail(node, "it reshapes \(f.shape) to \(target)") }
            f.shape = shape
            return f
        case "Expand", "ConstantOfShape":
            let shape = try ints(try input(node.opType == "Expand" ? 1 : 0), "shape")
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail(node, "its shape \(shape) has a negative size") }
            let fill: Folded
            if node.opType == "Expand" { fill = try input(0) }
            else if let a = attribute(node, "value"), a.hasT {
                let t = try ONNXTensors.tensor(a.t, what: "the value of node '\(node.name)'")
                fill = Folded(shape: t.shape, values: t.to(.float64).toArray(as: Double.self), integer: !t.dtype.isFloatingPoint)
            } else { fill = Folded(shape: [1], values: [0], integer: false) }
            guard fill.values.count == 1 else { throw fail(node, "import folds \(node.opType) of a single value only") }
            let n = try checked(shape)
            return Folded(shape: shape, values: Array(repeating: fill.values[0], count: n), integer: fill.integer)
        default:   // Slice
            let data = try input(0)
            let starts = try ints(try input(1), "starts"), ends = try ints(try input(2), "ends")
            let axes = try (try optionalInput(3)).map { try ints($0, "axes") } ?? Array(0..<starts.count)
            let steps = try (try optionalInput(4)).map { try ints($0, "steps") } ?? Array(repeating: 1, count: starts.count)
            guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count, steps.allSatisfy({ $0 == 1 }) else {
                throw fail(node, "import folds Slice with steps of 1 only")
            }
            var lower = [Int](repeating: 0, count: data.shape.count), upper = data.shape
            for (k, a) in axes.enumerated() {
                let d = try axis(a, data.shape.count), size = data.shape[d]
                func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + size : v, 0), size) }
                lower[d] = clamp(starts[k])
                upper[d] = Swift.max(clamp(ends[k]), lower[d])
            }
            let shape = zip(lower, upper).map { $1 - $0 }
            let n = try checked(shape)
            var values: [Double] = []
            values.reserveCapacity(n)
            var strides = [Int](repeating: 1, count: data.shape.count)
            for d in stride(from: data.shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * data.shape[d + 1] }
            var index = lower
            for _ in 0..<n {
                values.append(data.values[zip(index, strides).map { $0 * $1 }.reduce(0, +)])
                var d = data.shape.count - 1
                while d >= 0 {
                    index[d] += 1
                    if index[d] < upper[d] { break }
                    index[d] = lower[d]
                    d -= 1
                }
            }
            return Folded(shape: shape, values: values, integer: data.integer)
        }
    }

    /// What the Squeeze or Unsqueeze `node` makes of `f` with `axes` (nil: a Squeeze of every 1).
    func squeezeOrUnsqueeze(_ node: Onnx_NodeProto, _ value: Folded, axes: [Int]?) throws -> Folded {
        var f = value
        func axis(_ a: Int, _ rank: Int) throws -> Int {
            guard a >= -rank, a < rank else { throw fail(node, "its axis \(a) is outside a value of \(rank) dimensions") }
            return a < 0 ? a + rank : a
        }
        if node.opType == "Unsqueeze" {
            guard let axes else { throw fail(node, "it names no axes") }
            let r = f.shape.count + axes.count
            for a in try axes.map({ try axis($0, r) }).sorted() { f.shape.insert(1, at: a) }
        } else {
            let normalized = try (axes ?? f.shape.indices.filter { f.shape[$0] == 1 }).map { try axis($0, f.shape.count) }
            guard normalized.allSatisfy({ f.shape[$0] == 1 }) else { throw fail(node, "it squeezes a dimension that is not 1 of \(f.shape)") }
            f.shape = f.shape.indices.filter { !normalized.contains($0) }.map { f.shape[$0] }
        }
        return f
    }

    /// The batch sizes shapes are folded for: the input's fixed batch, or two probes.
    var probeBatches: [Int] { fixedBatch.map { [$0] } ?? [2, 3] }

    /// The target shape of the Reshape `node` for each probe batch: a constant, or shape
    /// arithmetic (PyTorch's x.view(x.size(0), -1)) folded for the batch.
    func foldedTargets(_ node: Onnx_NodeProto) throws -> [(batch: Int, target: [Int])] {
        guard node.input.count > 1, constants[node.input[1]] != nil || staticNodes[node.input[1]] != nil else {
            throw fail(node, "its target shape is computed from the data; expected a constant or shape arithmetic")
        }
        return try probeBatches.map { batch in
            let f = try fold(node.input[1], batch: batch)
            guard f.integer else { throw fail(node, "its target shape is not integer") }
            guard f.values.allSatisfy({ abs($0) < 9.0e15 }) else { throw fail(node, "its target shape \(f.values) holds sizes beyond ±2⁵³") }
            return (batch, f.values.map { Int($0) })
        }
    }

    /// A static value that is the same for every batch size, as a constant (nil for none).
    func staticConstant(_ name: String) throws -> Tensor? {
        guard staticNodes[name] != nil else { return nil }
        let values = try probeBatches.map { try fold(name, batch: $0) }
        guard values.allSatisfy({ $0 == values[0] }) else { return nil }
        return values[0].tensor
    }
}

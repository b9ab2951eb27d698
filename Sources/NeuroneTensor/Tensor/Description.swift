import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Printing in PyTorch's style: `tensor([[1.0000, 2.5000], …], shape=[2, 2], dtype=float64)`.
/// Tensors of more than 1000 elements show the first and last three entries of each dim.
extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        let elide = count > 1000
        let values = toArray(as: Double.self)
        let fmt = ValueFormat(values: values, dtype: dtype)
        var body = ""
        if rank == 0 {
            body = fmt.format(values.first ?? 0)
        } else {
            body = render(values, dim: 0, offset: 0, indent: 7, elide: elide, fmt: fmt)
        }
        var parts = ["tensor(" + body]
        if rank > 0 { parts.append("shape=\(describeShape(shape))") }
        if dtype != .float32 && dtype != .int64 { parts.append("dtype=\(dtype)") }
        if let fn = gradFn { parts.append("gradFn=<\(fn.name)>") } else if _requiresGrad { parts.append("requiresGrad=true") }
        return parts.joined(separator: ", ") + ")"
    }

    public var debugDescription: String { description }

    private func render(_ v: [Double], dim: Int, offset: Int, indent: Int, elide: Bool, fmt: ValueFormat) -> String {
        let n = shape[dim]
        let rowStride = shape[(dim + 1)...].reduce(1, *)
        var idx = Array(0..<n)
        var gap: Int? = nil
        if elide && n > 6 {
            idx = [0, 1, 2, n - 3, n - 2, n - 1]
            gap = 3
        }
        if dim == rank - 1 {
            var items = idx.map { fmt.format(v[offset + $0]) }
            if let g = gap { items.insert("...", at: g) }
            return "[" + items.joined(separator: ", ") + "]"
        }
        var rows = idx.map { render(v, dim: dim + 1, offset: offset + $0 * rowStride, indent: indent, elide: elide, fmt: fmt) }
        if let g = gap { rows.insert("...", at: g) }
        let newlines = String(repeating: "\n", count: rank - dim - 1)
        let pad = String(repeating: " ", count: indent + 1 + dim)
        return "[" + rows.joined(separator: "," + newlines + pad) + "]"
    }
}

/// Chooses one number format for a whole tensor, as PyTorch does: integers as `3.`, fixed
/// point with 4 decimals, or scientific notation when the magnitudes are very large/small/spread.
struct ValueFormat {
    enum Style { case integer, boolean, wholeFloat, fixed, scientific }
    let style: Style
    let width: Int

    init(values: [Double], dtype: DType) {
        if dtype == .bool { style = .boolean; width = 5; return }
        if dtype.isInteger {
            style = .integer
            width = values.map { String(Int64($0)).count }.max() ?? 1
            return
        }
        let finite = values.filter { $0.isFinite }
        let nonzero = finite.map { Swift.abs($0) }.filter { $0 > 0 }
        let maxAbs = nonzero.max() ?? 0, minAbs = nonzero.min() ?? 0
        var st: Style
        if finite.allSatisfy({ $0.rounded() == $0 }) {
            st = maxAbs >= 1e8 ? .scientific : .wholeFloat
        } else if maxAbs / Swift.max(minAbs, .leastNonzeroMagnitude) > 1000 || maxAbs >= 1e8 || minAbs < 1e-4 {
            st = .scientific
        } else {
            st = .fixed
        }
        style = st
        width = values.map { ValueFormat.raw($0, st).count }.max() ?? 1
    }

    static func raw(_ x: Double, _ style: Style) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        switch style {
        case .integer: return String(Int64(x))
        case .boolean: return x != 0 ? "True" : "False"
        case .wholeFloat: return String(Int64(x)) + "."
        case .fixed: return cFormat("%.4f", x)
        case .scientific: return cFormat("%.4e", x)
        }
    }

    private static func cFormat(_ f: String, _ x: Double) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        _ = withVaList([x]) { vsnprintf(&buf, 64, f, $0) }
        return String(cString: buf)
    }

    func format(_ x: Double) -> String {
        let s = ValueFormat.raw(x, style)
        return String(repeating: " ", count: Swift.max(0, width - s.count)) + s
    }
}

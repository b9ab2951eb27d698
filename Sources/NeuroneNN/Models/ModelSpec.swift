import NeuroneDevice
import NeuroneTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One-line sequential model specs, e.g.
/// `conv(4,3,stride=1,padding=1) relu maxpool(2) flatten linear(10) softmax`.
/// Layers are separated by spaces; arguments are positional or `key=value`, PyTorch-like.
/// Input channels and features are inferred from the input shape, and every shape is checked
/// before any layer is built. The grammar and every layer name are in docs/MODELS.md.
public enum ModelSpec {
    /// Parses "1x28x28" (C×H×W), "3x32" (C×L) or "784" (features) into a per-sample shape.
    public static func parseShape(_ text: String) throws -> [Int] {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        let dims = parts.map { Int($0.trimmed) }
        guard !parts.isEmpty, dims.allSatisfy({ $0 != nil && $0! > 0 }) else {
            throw ModelSpecError("invalid input shape '\(text)': expected positive sizes separated by 'x', such as 1x28x28 or 784")
        }
        let shape = dims.map { $0! }
        if let big = shape.first(where: { $0 > maxSize }) {
            throw ModelSpecError("invalid input shape '\(text)': size \(big) is larger than \(maxSize), the largest size a spec may use")
        }
        try checkSampleSize(shape, "the input shape '\(text)'")
        return shape
    }

    /// The largest number any size, channel count or argument of a spec may be (2³¹ − 1): larger
    /// ones are typing errors, and keeping them below it leaves the shape arithmetic no room to
    /// overflow.
    public static let maxSize = Int(Int32.max)
    /// The most elements one sample may have at any layer (2⁴⁰, 4 TB of float32).
    public static let maxSampleElements = 1 << 40

    /// Throws unless a per-sample `shape` has at most `maxSampleElements` elements.
    static func checkSampleSize(_ shape: [Int], _ what: @autoclosure () -> String) throws {
        guard let n = CheckedSize.product(shape), n <= maxSampleElements else {
            throw ModelSpecError("\(what()) holds \(shape.map(String.init).joined(separator: "×")) elements per sample, more than the \(maxSampleElements) (2^40) a model may handle")
        }
    }

    /// Throws unless a layer's weights — the product of `factors` elements of `dtype` — can be
    /// allocated: no overflow, and no more bytes than this machine has memory.
    static func checkWeights(_ t: Token, _ factors: [Int], _ dtype: DType) throws {
        guard let n = CheckedSize.product(factors), let bytes = CheckedSize.bytes(n, dtype) else {
            throw ModelSpecError("\(t.location): its weights would hold \(factors.map(String.init).joined(separator: "×")) values, more than a tensor can index")
        }
        if bytes > CheckedSize.allocationLimit {
            let (size, most) = CheckedSize.describe(bytes: bytes, against: CheckedSize.allocationLimit)
            let limit = CheckedSize.allocationLimit == CheckedSize.physicalMemory ? "this machine's \(most) of memory" : "the limit of \(most)"
            let count = factors.count > 1 ? "\(factors.map(String.init).joined(separator: "×")) = \(n)" : "\(n)"
            throw ModelSpecError("\(t.location): its weights would hold \(count) values (\(size) in \(dtype)), more than \(limit)")
        }
        // Within the machine's memory, the allocation may still be refused (a process limit such
        // as ulimit -v, or memory in use): ask the allocator first, so that a refusal is this
        // error instead of a failed allocation inside the layer.
        if bytes >= 1 << 26 && !canAllocate(bytes) {
            throw ModelSpecError("\(t.location): its weights need \(CheckedSize.describe(bytes: bytes)) (\(n) values in \(dtype)), which this process cannot allocate now (out of memory, or a limit such as ulimit -v)")
        }
    }

    /// Whether the allocator grants `bytes` now. Not optimised: an optimiser may remove a
    /// malloc whose memory is only freed, and answer yes without asking.
    @_optimize(none)
    static func canAllocate(_ bytes: Int) -> Bool {
        guard let probe = malloc(bytes) else { return false }
        free(probe)
        return true
    }

    /// One layer of a spec as written: its name and arguments.
    package struct Token {
        package let text: String
        package let index: Int     // 1-based position among the layers
        package let column: Int    // 1-based character position in the spec
        package let name: String
        package let positional: [String]
        package let keywords: [(String, String)]

        package var location: String { "layer \(index) '\(text)' (column \(column))" }
    }

    /// Splits at top-level spaces and commas, keeping parenthesised groups together.
    static func splitTopLevel(_ s: Substring, separator: Character) -> [(Substring, Int)] {
        var out: [(Substring, Int)] = []
        var depth = 0
        var start: String.Index? = nil
        var offset = 0, startOffset = 0
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            let isSep = depth == 0 && (c == separator || (separator == " " && c.isWhitespace))
            if isSep {
                if let st = start { out.append((s[st..<i], startOffset)); start = nil }
            } else if start == nil {
                start = i
                startOffset = offset
            }
            i = s.index(after: i)
            offset += 1
        }
        if let st = start { out.append((s[st..<s.endIndex], startOffset)) }
        return out
    }

    /// The layers of `spec` as written (names and arguments, not checked); throws
    /// `ModelSpecError` on unbalanced parentheses or an empty layer.
    package static func tokenize(_ spec: String) throws -> [Token] {
        var depth = 0
        for (i, c) in spec.enumerated() {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if depth < 0 { throw ModelSpecError("unbalanced ')' at column \(i + 1) of the model spec") }
        }
        if depth != 0 { throw ModelSpecError("unbalanced '(' in the model spec: \(depth) parenthesis not closed") }
        let pieces = splitTopLevel(Substring(spec), separator: " ")
        if pieces.isEmpty { throw ModelSpecError("the model spec is empty") }
        return try pieces.enumerated().map { (n, piece) in
            let (text, offset) = piece
            let loc = "layer \(n + 1) '\(text)' (column \(offset + 1))"
            var name = text
            var positional: [String] = [], keywords: [(String, String)] = []
            if let open = text.firstIndex(of: "(") {
                guard text.last == ")" else { throw ModelSpecError("\(loc): expected ')' at the end of the arguments") }
                name = text[text.startIndex..<open]
                let inner = text[text.index(after: open)..<text.index(before: text.endIndex)]
                for (arg, _) in splitTopLevel(inner, separator: ",") {
                    let a = arg.trimmed
                    if a.isEmpty { continue }
                    if let eq = a.firstIndex(of: "=") {
                        let key = a[a.startIndex..<eq].trimmed.lowercased()
                        let value = a[a.index(after: eq)...].trimmed
                        if key.isEmpty || value.isEmpty { throw ModelSpecError("\(loc): malformed argument '\(a)'") }
                        keywords.append((key, value))
                    } else {
                        if !keywords.isEmpty { throw ModelSpecError("\(loc): positional argument '\(a)' follows a keyword argument") }
                        positional.append(a)
                    }
                }
            }
            return Token(text: String(text), index: n + 1, column: offset + 1, name: name.lowercased(),
                         positional: positional, keywords: keywords)
        }
    }

    /// The arguments of one layer, matched against its parameter names.
    struct Args {
        let token: Token
        var values: [String: String] = [:]

        init(_ token: Token, _ names: [String]) throws {
            self.token = token
            if token.positional.count > names.count {
                throw ModelSpecError("\(token.location): \(token.name) takes at most \(names.count) positional arguments (\(names.joined(separator: ", "))), got \(token.positional.count)")
            }
            for (i, v) in token.positional.enumerated() { values[names[i]] = v }
            for (k, v) in token.keywords {
                guard names.contains(k) else {
                    throw ModelSpecError("\(token.location): unknown argument '\(k)' for \(token.name); it accepts \(names.joined(separator: ", "))")
                }
                if values[k] != nil { throw ModelSpecError("\(token.location): argument '\(k)' given twice") }
                values[k] = v
            }
        }

        func int(_ k: String, _ dflt: Int? = nil) throws -> Int {
            guard let s = values[k] else {
                if let d = dflt { return d }
                throw ModelSpecError("\(token.location): missing required argument '\(k)'")
            }
            guard let v = Int(s), v > 0, v <= ModelSpec.maxSize else {
                throw ModelSpecError("\(token.location): '\(k)' must be a positive integer up to \(ModelSpec.maxSize), got '\(s)'")
            }
            return v
        }

        func nonNegativeInt(_ k: String, _ dflt: Int) throws -> Int {
            guard let s = values[k] else { return dflt }
            guard let v = Int(s), v >= 0, v <= ModelSpec.maxSize else {
                throw ModelSpecError("\(token.location): '\(k)' must be a non-negative integer up to \(ModelSpec.maxSize), got '\(s)'")
            }
            return v
        }

        func double(_ k: String, _ dflt: Double) throws -> Double {
            guard let s = values[k] else { return dflt }
            guard let v = Double(s), v.isFinite else { throw ModelSpecError("\(token.location): '\(k)' must be a number, got '\(s)'") }
            return v
        }

        func bool(_ k: String, _ dflt: Bool) throws -> Bool {
            guard let s = values[k]?.lowercased() else { return dflt }
            switch s {
            case "true", "1", "yes": return true
            case "false", "0", "no": return false
            default: throw ModelSpecError("\(token.location): '\(k)' must be true or false, got '\(s)'")
            }
        }

        /// An int or a pair "(a,b)".
        func pair(_ k: String, _ dflt: [Int]?, allowZero: Bool = false) throws -> [Int] {
            guard let s = values[k] else {
                if let d = dflt { return d }
                throw ModelSpecError("\(token.location): missing required argument '\(k)'")
            }
            let inner = s.hasPrefix("(") && s.hasSuffix(")") ? String(s.dropFirst().dropLast()) : s
            let parts = inner.split(separator: ",").map { Int($0.trimmed) }
            guard (parts.count == 1 || parts.count == 2),
                  parts.allSatisfy({ $0 != nil && ($0! > 0 || (allowZero && $0! == 0)) && $0! <= ModelSpec.maxSize }) else {
                throw ModelSpecError("\(token.location): '\(k)' must be \(allowZero ? "a non-negative" : "a positive") integer up to \(ModelSpec.maxSize) or a pair (h,w) of them, got '\(s)'")
            }
            let v = parts.map { $0! }
            return v.count == 1 ? [v[0], v[0]] : v
        }
    }

    /// The layer names the spec accepts.
    public static let layerNames = ["linear", "conv", "conv2d", "conv1d", "convtranspose", "convtranspose2d", "maxpool", "maxpool2d", "avgpool", "avgpool2d",
                                    "adaptiveavgpool", "flatten", "reshape", "permute", "dropout", "dropout2d", "batchnorm", "layernorm",
                                    "relu", "sigmoid", "tanh", "leakyrelu", "prelu", "elu", "gelu", "silu", "softplus",
                                    "softmax", "logsoftmax", "identity", "embedding", "rows", "rnn", "lstm", "gru", "last", "posenc", "encoder", "attention", "mean"]

    /// Builds the `Sequential` a spec describes for per-sample inputs of shape `input`, checking
    /// every shape first. Throws `ModelSpecError` naming the offending layer.
    public static func build(_ spec: String, input: [Int], dtype: DType = .float32, generator: Generator? = nil) throws -> Sequential {
        let tokens = try tokenize(spec)
        var shape = input
        var layers: [Module] = []
        for t in tokens {
            let (layer, out) = try makeLayer(t, shape, dtype, generator)
            try checkSampleSize(out, "\(t.location): its output")
            layers.append(layer)
            shape = out
        }
        return Sequential(layers)
    }

    static func shapeText(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }

    static func makeLayer(_ t: Token, _ shape: [Int], _ dtype: DType, _ g: Generator?) throws -> (Module, [Int]) {
        func need(_ ranks: [Int], _ what: String) throws {
            if !ranks.contains(shape.count) {
                throw ModelSpecError("\(t.location): \(t.name) expects \(what), but its input is \(shapeText(shape))"
                                     + (t.name == "linear" ? "; add 'flatten' before it" : ""))
            }
        }
        switch t.name {
        case "linear":
            let a = try Args(t, ["out", "bias"])
            try need([1, 2], "a flat input of features (or a sequence T×F)")
            let out = try a.int("out"), features = shape[shape.count - 1]
            try checkWeights(t, [out, features], dtype)
            return (Linear(features, out, bias: try a.bool("bias", true), dtype: dtype, generator: g), Array(shape.dropLast()) + [out])
        case "conv", "conv2d":
            let a = try Args(t, ["out", "kernel", "stride", "padding", "dilation", "groups", "bias"])
            try need([3], "a C×H×W input")
            let out = try a.int("out"), k = try a.pair("kernel", nil), s = try a.pair("stride", [1, 1])
            let d = try a.pair("dilation", [1, 1]), groups = try a.int("groups", 1)
            let padding: ConvPadding
            var pad = [0, 0]
            switch a.values["padding"]?.lowercased() {
            case "same"?:
                if s != [1, 1] { throw ModelSpecError("\(t.location): padding=same needs stride 1, got stride \(s)") }
                padding = .same
                pad = [d[0] * (k[0] - 1) / 2, d[1] * (k[1] - 1) / 2]
            case "valid"?: padding = .valid
            default:
                pad = try a.pair("padding", [0, 0], allowZero: true)
                padding = .explicit(pad)
            }
            if shape[0] % groups != 0 || out % groups != 0 {
                throw ModelSpecError("\(t.location): input channels (\(shape[0])) and out channels (\(out)) must be divisible by groups (\(groups))")
            }
            var outHW = [0, 0]
            for i in 0..<2 {
                let size = shape[i + 1]
                if case .same = padding { outHW[i] = size; continue }
                let eff = d[i] * (k[i] - 1) + 1
                if size + 2 * pad[i] < eff {
                    throw ModelSpecError("\(t.location): kernel \(k[0])×\(k[1])\(d != [1, 1] ? " (dilated to \(d[0] * (k[0] - 1) + 1)×\(d[1] * (k[1] - 1) + 1))" : "") is larger than the padded input \(shape[1] + 2 * pad[0])×\(shape[2] + 2 * pad[1]) (input \(shapeText(shape)), padding \(pad[0]),\(pad[1]))")
                }
                outHW[i] = Tensor.windowOutput(size, kernel: k[i], stride: s[i], pad: pad[i], dilation: d[i], ceilMode: false)
            }
            try checkWeights(t, [out, shape[0] / groups, k[0], k[1]], dtype)
            let layer = Conv2d(shape[0], out, kernelSize: k, stride: s, padding: padding, dilation: d, groups: groups,
                               bias: try a.bool("bias", true), dtype: dtype, generator: g)
            return (layer, [out] + outHW)
        case "conv1d":
            let a = try Args(t, ["out", "kernel", "stride", "padding", "dilation", "groups", "bias"])
            try need([2], "a C×L input")
            let out = try a.int("out"), k = try a.int("kernel"), s = try a.int("stride", 1), d = try a.int("dilation", 1)
            let groups = try a.int("groups", 1)
            let same = a.values["padding"]?.lowercased() == "same"
            let p = same ? d * (k - 1) / 2 : (a.values["padding"]?.lowercased() == "valid" ? 0 : try a.nonNegativeInt("padding", 0))
            if same && s != 1 { throw ModelSpecError("\(t.location): padding=same needs stride 1, got stride \(s)") }
            if shape[0] % groups != 0 || out % groups != 0 {
                throw ModelSpecError("\(t.location): input channels (\(shape[0])) and out channels (\(out)) must be divisible by groups (\(groups))")
            }
            if !same && shape[1] + 2 * p < d * (k - 1) + 1 {
                throw ModelSpecError("\(t.location): kernel \(k) is larger than the padded input length \(shape[1] + 2 * p) (input \(shapeText(shape)))")
            }
            let len = same ? shape[1] : Tensor.windowOutput(shape[1], kernel: k, stride: s, pad: p, dilation: d, ceilMode: false)
            try checkWeights(t, [out, shape[0] / groups, k], dtype)
            let layer = Conv1d(shape[0], out, kernelSize: k, stride: s, padding: same ? .same : .explicit([p]), dilation: d,
                               groups: groups, bias: try a.bool("bias", true), dtype: dtype, generator: g)
            return (layer, [out, len])
        case "convtranspose", "convtranspose2d":
            let a = try Args(t, ["out", "kernel", "stride", "padding", "output_padding", "dilation", "groups", "bias"])
            try need([3], "a C×H×W input")
            let out = try a.int("out"), k = try a.pair("kernel", nil), s = try a.pair("stride", [1, 1])
            let p = try a.pair("padding", [0, 0], allowZero: true), op = try a.pair("output_padding", [0, 0], allowZero: true)
            let d = try a.pair("dilation", [1, 1]), groups = try a.int("groups", 1)
            if shape[0] % groups != 0 || out % groups != 0 {
                throw ModelSpecError("\(t.location): input channels (\(shape[0])) and out channels (\(out)) must be divisible by groups (\(groups))")
            }
            var outHW = [0, 0]
            for i in 0..<2 {
                if op[i] >= Swift.max(s[i], d[i]) {
                    throw ModelSpecError("\(t.location): output_padding \(op[i]) must be smaller than the stride (\(s[i])) or the dilation (\(d[i]))")
                }
                let size = Tensor.transposedWindowOutput(shape[i + 1], kernel: k[i], stride: s[i], pad: p[i], dilation: d[i], outputPadding: op[i])
                if size <= 0 || size > maxSize {
                    throw ModelSpecError("\(t.location): the output would be \(size) pixels along dim \(i + 1) (input \(shapeText(shape)), padding \(p[i])); expected 1…\(maxSize)")
                }
                outHW[i] = size
            }
            try checkWeights(t, [shape[0], out / groups, k[0], k[1]], dtype)
            let layer = ConvTranspose2d(shape[0], out, kernelSize: k, stride: s, padding: p, outputPadding: op, dilation: d, groups: groups,
                                        bias: try a.bool("bias", true), dtype: dtype, generator: g)
            return (layer, [out] + outHW)
        case "maxpool", "maxpool2d", "avgpool", "avgpool2d":
            let isMax = t.name.hasPrefix("max")
            let a = try Args(t, isMax ? ["kernel", "stride", "padding", "dilation", "ceil"] : ["kernel", "stride", "padding", "ceil", "count_include_pad"])
            try need([3], "a C×H×W input")
            let k = try a.pair("kernel", nil), s = try a.pair("stride", k), p = try a.pair("padding", [0, 0], allowZero: true)
            let d = isMax ? try a.pair("dilation", [1, 1]) : [1, 1]
            let ceil = try a.bool("ceil", false)
            var outHW = [0, 0]
            for i in 0..<2 {
                if p[i] > k[i] / 2 {
                    throw ModelSpecError("\(t.location): padding \(p[i]) should be at most half of the kernel size \(k[i])")
                }
                outHW[i] = Tensor.windowOutput(shape[i + 1], kernel: k[i], stride: s[i], pad: p[i], dilation: d[i], ceilMode: ceil)
                if outHW[i] <= 0 {
                    throw ModelSpecError("\(t.location): window \(k[0])×\(k[1]) does not fit in the input \(shapeText(shape)) (padding \(p[0]),\(p[1]))")
                }
            }
            let layer: Module = isMax
                ? MaxPool2d(kernelSize: k, stride: s, padding: p, dilation: d, ceilMode: ceil)
                : AvgPool2d(kernelSize: k, stride: s, padding: p, ceilMode: ceil, countIncludePad: try a.bool("count_include_pad", true))
            return (layer, [shape[0]] + outHW)
        case "adaptiveavgpool":
            let a = try Args(t, ["h", "w"])
            try need([3], "a C×H×W input")
            let h = try a.int("h", 1)
            let size = [h, try a.int("w", h)]
            return (AdaptiveAvgPool2d(size), [shape[0]] + size)
        case "flatten":
            _ = try Args(t, [])
            return (Flatten(), [CheckedSize.product(shape) ?? .max])   // the sample size was checked
        case "reshape":
            // Keras's Reshape: the per-sample shape, one size may be -1
            guard t.keywords.isEmpty, (1...8).contains(t.positional.count) else {
                throw ModelSpecError("\(t.location): reshape takes the per-sample shape as 1 to 8 sizes, e.g. reshape(2,4,4) (one may be -1)")
            }
            var dims: [Int] = []
            for s in t.positional {
                guard let v = Int(s.trimmed), (v > 0 && v <= ModelSpec.maxSize) || v == -1 else {
                    throw ModelSpecError("\(t.location): reshape's sizes must be positive integers up to \(ModelSpec.maxSize) or -1, got '\(s)'")
                }
                dims.append(v)
            }
            guard dims.filter({ $0 == -1 }).count <= 1 else { throw ModelSpecError("\(t.location): reshape takes at most one size of -1") }
            let total = CheckedSize.product(shape) ?? .max   // the sample size was checked
            if let free = dims.firstIndex(of: -1) {
                guard let known = CheckedSize.product(dims.filter { $0 != -1 }), known > 0, total % known == 0 else {
                    throw ModelSpecError("\(t.location): a sample of \(shapeText(shape)) (\(total) values) cannot be reshaped to \(dims.map(String.init).joined(separator: "×"))")
                }
                dims[free] = total / known
            }
            guard CheckedSize.product(dims) == total else {
                throw ModelSpecError("\(t.location): a sample of \(shapeText(shape)) (\(total) values) cannot be reshaped to \(shapeText(dims)) (\(CheckedSize.product(dims).map(String.init) ?? "too many") values)")
            }
            return (Reshape(dims), dims)
        case "permute":
            // Keras's Permute: the sample's dimensions in a new order, 1-based
            let dims = t.positional.map { Int($0.trimmed) }
            guard t.keywords.isEmpty, dims.count == shape.count, dims.compactMap({ $0 }).sorted() == Array(1...shape.count) else {
                throw ModelSpecError("\(t.location): permute takes an order of the sample's \(shape.count) dimensions, a permutation of 1…\(shape.count) (e.g. permute(2,1) turns T×E into E×T), got '\(t.positional.joined(separator: ","))' for \(shapeText(shape))")
            }
            let order = dims.map { $0! }
            return (Permute(order), order.map { shape[$0 - 1] })
        case "dropout", "dropout2d":
            let a = try Args(t, ["p"])
            let p = try a.double("p", 0.5)
            if p < 0 || p > 1 { throw ModelSpecError("\(t.location): dropout probability must be in [0, 1], got \(p)") }
            if t.name == "dropout2d" { try need([3], "a C×H×W input") }
            return (t.name == "dropout" ? Dropout(p, generator: g) : Dropout2d(p, generator: g), shape)
        case "batchnorm":
            let a = try Args(t, ["eps", "momentum"])
            let eps = try a.double("eps", 1e-5), m = try a.double("momentum", 0.1)
            if (1...3).contains(shape.count) { try checkWeights(t, [4, shape[0]], dtype) }  // weight, bias, running mean and variance
            switch shape.count {
            case 1: return (BatchNorm1d(shape[0], eps: eps, momentum: m, dtype: dtype), shape)
            case 2: return (BatchNorm1d(shape[0], eps: eps, momentum: m, dtype: dtype), shape)
            case 3: return (BatchNorm2d(shape[0], eps: eps, momentum: m, dtype: dtype), shape)
            default: throw ModelSpecError("\(t.location): batchnorm expects features, C×L or C×H×W, got \(shapeText(shape))")
            }
        case "layernorm":
            let a = try Args(t, ["eps"])
            try checkWeights(t, [2, shape.last!], dtype)  // weight and bias
            return (LayerNorm([shape.last!], eps: try a.double("eps", 1e-5), dtype: dtype), shape)
        case "embedding":
            let a = try Args(t, ["num", "dim", "padding_idx"])
            try need([1], "a sequence of token indices (input shape T)")
            let num = try a.int("num"), dim = try a.int("dim")
            var padding: Int? = nil
            if let p = a.values["padding_idx"] {
                guard let v = Int(p), v >= -num, v < num else {
                    throw ModelSpecError("\(t.location): padding_idx must be an index in -\(num)…\(num - 1), got '\(p)'")
                }
                padding = v
            }
            try checkWeights(t, [num, dim], dtype)
            return (Embedding(num, dim, paddingIdx: padding, dtype: dtype, generator: g), shape + [dim])
        case "rows":
            _ = try Args(t, [])
            try need([3], "a C×H×W image")
            guard let features = CheckedSize.product([shape[0], shape[2]]) else { throw ModelSpecError("\(t.location): C×W overflows") }
            return (ImageRows(), [shape[1], features])
        case "rnn", "lstm", "gru":
            let a = try Args(t, t.name == "rnn" ? ["hidden", "layers", "bidirectional", "dropout", "bias", "nonlinearity"]
                                                : ["hidden", "layers", "bidirectional", "dropout", "bias"])
            try need([2], "a sequence T×F (steps × features; 'rows' reads an image as one, 'embedding' token indices)")
            let hidden = try a.int("hidden"), layers = try a.int("layers", 1), bidirectional = try a.bool("bidirectional", false)
            let dropout = try a.double("dropout", 0), bias = try a.bool("bias", true)
            if dropout < 0 || dropout > 1 { throw ModelSpecError("\(t.location): dropout probability must be in [0, 1], got \(dropout)") }
            let gates = t.name == "lstm" ? 4 : t.name == "gru" ? 3 : 1, d = bidirectional ? 2 : 1
            guard layers <= 1024 else { throw ModelSpecError("\(t.location): 'layers' must be at most 1024, got \(layers)") }
            var total = 0  // d·G·H·(in + H + 2) per layer, overflow-checked
            for layer in 0..<layers {
                let (sum, overflow) = total.addingReportingOverflow(CheckedSize.product([d, gates * hidden, (layer == 0 ? shape[1] : d * hidden) + hidden + 2]) ?? .max)
                total = overflow ? .max : sum
            }
            try checkWeights(t, [total], dtype)
            let out = [shape[0], d * hidden]
            switch t.name {
            case "lstm": return (LSTM(shape[1], hidden, numLayers: layers, bias: bias, batchFirst: true, dropout: dropout, bidirectional: bidirectional, dtype: dtype, generator: g), out)
            case "gru": return (GRU(shape[1], hidden, numLayers: layers, bias: bias, batchFirst: true, dropout: dropout, bidirectional: bidirectional, dtype: dtype, generator: g), out)
            default:
                let nl = a.values["nonlinearity"]?.lowercased() ?? "tanh"
                guard let nonlinearity = RNN.Nonlinearity(rawValue: nl) else {
                    throw ModelSpecError("\(t.location): nonlinearity must be 'tanh' or 'relu', got '\(nl)'")
                }
                return (RNN(shape[1], hidden, numLayers: layers, nonlinearity: nonlinearity, bias: bias, batchFirst: true, dropout: dropout,
                            bidirectional: bidirectional, dtype: dtype, generator: g), out)
            }
        case "posenc":
            let a = try Args(t, ["max_len", "dropout", "learned"])
            try need([2], "a sequence T×E")
            let learned = try a.bool("learned", false)
            let maxLen = try a.int("max_len", learned ? shape[0] : Swift.max(shape[0], 5000)), dropout = try a.double("dropout", 0)
            if maxLen < shape[0] { throw ModelSpecError("\(t.location): max_len \(maxLen) is shorter than the sequence's \(shape[0]) steps") }
            if dropout < 0 || dropout > 1 { throw ModelSpecError("\(t.location): dropout probability must be in [0, 1], got \(dropout)") }
            if learned && dropout != 0 { throw ModelSpecError("\(t.location): a learned position encoding has no dropout; put dropout(\(dropout)) after it") }
            try checkWeights(t, [maxLen, shape[1]], dtype)
            if learned { return (LearnedPositionalEncoding(dModel: shape[1], maxLength: maxLen, dtype: dtype, generator: g), shape) }
            return (SinusoidalPositionalEncoding(dModel: shape[1], maxLength: maxLen, dropout: dropout, dtype: dtype, generator: g), shape)
        case "encoder":
            let a = try Args(t, ["heads", "ff", "layers", "dropout", "activation", "norm_first", "causal"])
            try need([2], "a sequence T×E")
            let e = shape[1], heads = try a.int("heads"), ff = try a.int("ff", 2048), layers = try a.int("layers", 1)
            let dropout = try a.double("dropout", 0.1), normFirst = try a.bool("norm_first", false), causal = try a.bool("causal", false)
            if e % heads != 0 { throw ModelSpecError("\(t.location): the \(e) features of each step do not split into \(heads) heads") }
            if dropout < 0 || dropout > 1 { throw ModelSpecError("\(t.location): dropout probability must be in [0, 1], got \(dropout)") }
            guard layers <= 1024 else { throw ModelSpecError("\(t.location): 'layers' must be at most 1024, got \(layers)") }
            let name = a.values["activation"]?.lowercased() ?? "relu"
            guard let act = TransformerActivation(rawValue: name) else { throw ModelSpecError("\(t.location): activation must be 'relu' or 'gelu', got '\(name)'") }
            // per layer: in_proj 3E² + 3E, out_proj E² + E, linear1 E·ff + ff, linear2 ff·E + E, two norms 4E
            guard let perLayer = CheckedSize.product([e, 4 * e + 2 * ff + 9]).map({ $0 + ff }), let total = CheckedSize.product([perLayer, layers]) else {
                throw ModelSpecError("\(t.location): its weights would hold more values than a tensor can index")
            }
            try checkWeights(t, [total], dtype)
            return (TransformerEncoder(numLayers: layers, isCausal: causal) {
                TransformerEncoderLayer(dModel: e, nhead: heads, dimFeedforward: ff, dropout: dropout, activation: act, batchFirst: true,
                                        normFirst: normFirst, dtype: dtype, generator: g)
            }, shape)
        case "attention":
            let a = try Args(t, ["heads", "dropout", "bias"])
            try need([2], "a sequence T×E")
            let e = shape[1], heads = try a.int("heads"), dropout = try a.double("dropout", 0), bias = try a.bool("bias", true)
            if e % heads != 0 { throw ModelSpecError("\(t.location): the \(e) features of each step do not split into \(heads) heads") }
            if dropout < 0 || dropout > 1 { throw ModelSpecError("\(t.location): dropout probability must be in [0, 1], got \(dropout)") }
            // in_proj 3E² (+ 3E), out_proj E² (+ E)
            guard let total = CheckedSize.product([e, 4 * e + 4]) else { throw ModelSpecError("\(t.location): its weights would hold more values than a tensor can index") }
            try checkWeights(t, [total], dtype)
            return (MultiheadAttention(embedDim: e, numHeads: heads, dropout: dropout, bias: bias, batchFirst: true, dtype: dtype, generator: g), shape)
        case "mean":
            _ = try Args(t, [])
            try need([2], "a sequence T×F")
            return (SequenceMean(), [shape[1]])
        case "last":
            _ = try Args(t, [])
            try need([2], "a sequence T×F")
            return (LastStep(), [shape[1]])
        case "relu": _ = try Args(t, []); return (ReLU(), shape)
        case "sigmoid": _ = try Args(t, []); return (Sigmoid(), shape)
        case "tanh": _ = try Args(t, []); return (Tanh(), shape)
        case "silu": _ = try Args(t, []); return (SiLU(), shape)
        case "identity": _ = try Args(t, []); return (Identity(), shape)
        case "leakyrelu":
            let a = try Args(t, ["slope"])
            return (LeakyReLU(negativeSlope: try a.double("slope", 0.01)), shape)
        case "prelu":
            let a = try Args(t, ["per_channel", "init"])
            let perChannel = try a.bool("per_channel", false)
            if perChannel { try checkWeights(t, [shape[0]], dtype) }
            return (PReLU(numParameters: perChannel ? shape[0] : 1, initialValue: try a.double("init", 0.25), dtype: dtype), shape)
        case "elu":
            let a = try Args(t, ["alpha"])
            return (ELU(alpha: try a.double("alpha", 1)), shape)
        case "gelu":
            let a = try Args(t, ["approximate"])
            let approx = a.values["approximate"]?.lowercased()
            if let v = approx, v != "tanh" && v != "none" {
                throw ModelSpecError("\(t.location): approximate must be 'none' or 'tanh', got '\(v)'")
            }
            return (GELU(approximateTanh: approx == "tanh"), shape)
        case "softplus":
            let a = try Args(t, ["beta", "threshold"])
            return (Softplus(beta: try a.double("beta", 1), threshold: try a.double("threshold", 20)), shape)
        case "softmax", "logsoftmax":
            let a = try Args(t, ["dim"])
            let dim = a.values["dim"].flatMap { Int($0) } ?? 1
            if dim < -(shape.count + 1) || dim > shape.count {
                throw ModelSpecError("\(t.location): dim \(dim) is out of range for a batched input of rank \(shape.count + 1)")
            }
            return (t.name == "softmax" ? Softmax(dim: dim) : LogSoftmax(dim: dim), shape)
        default:
            throw ModelSpecError("\(t.location): unknown layer '\(t.name)'; known layers: \(layerNames.joined(separator: ", "))")
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace.
    var trimmed: String {
        let scalars = Array(self)
        var lo = 0, hi = scalars.count
        while lo < hi && scalars[lo].isWhitespace { lo += 1 }
        while hi > lo && scalars[hi - 1].isWhitespace { hi -= 1 }
        return String(scalars[lo..<hi])
    }
}

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import NeuroneTraining
import Foundation

/// How gradients flow back through a deep stack of fully connected layers (COURSE.md §2 and §6):
/// the gradient norm reaching each layer, and the distribution of the back-propagated gradients
/// under "standard" and "normalized" (Glorot) initialisation, as in Glorot & Bengio (2010).
public enum GradientFlow {
    /// Weight initialisations compared.
    public enum Initialisation: String, CaseIterable, Sendable {
        /// U[−1/√n_in, 1/√n_in] (PyTorch's default for Linear; Glorot & Bengio's "standard").
        case standard
        /// Glorot/Xavier uniform: U[−√6/√(n_in + n_out), +√6/√(n_in + n_out)] ("normalized").
        case glorot
        /// He/Kaiming normal, fan-in, gain √2 (for ReLU).
        case he

        func apply(_ w: Tensor, _ g: Generator) {
            switch self {
            case .standard:
                let bound = 1 / Double(w.shape[1]).squareRoot()
                Init.uniform(w, low: -bound, high: bound, generator: g)
            case .glorot: Init.xavierUniform(w, generator: g)
            case .he: Init.kaimingNormal(w, nonlinearity: .relu, generator: g)
            }
        }
    }

    /// One layer's numbers.
    public struct Layer: Sendable {
        /// 1 = nearest the input.
        public let index: Int
        /// ‖∂L/∂W‖ (Frobenius norm).
        public let weightGradientNorm: Double
        /// The back-propagated gradients ∂L/∂z at the layer's pre-activations, all samples.
        public let backpropagated: [Double]
        /// Mean |activation| of the layer's outputs.
        public let meanAbsActivation: Double
    }

    /// A `depth`-layer network of `width` units per layer with `activation` (sigmoid, tanh, relu,
    /// leakyrelu, identity), on `batch` standard-normal inputs, a final linear layer to 10 classes
    /// and cross-entropy against random labels: one forward and backward pass in float64.
    public static func run(activation: ExplainActivation, depth: Int, width: Int = 64, batch: Int = 128,
                           initialisation: Initialisation = .standard, seed: UInt64 = 0) throws -> [Layer] {
        guard (1...100).contains(depth) else { throw ExplainError("the depth must be in 1…100, got \(depth)") }
        guard (1...4096).contains(width) else { throw ExplainError("the width must be in 1…4096, got \(width)") }
        let g = Generator(seed: seed)
        let layers = (0..<depth).map { _ in Linear(width, width, dtype: .float64, generator: g) }
        for l in layers {
            initialisation.apply(l.weight, g)
            Init.zeros(l.bias!)
        }
        let head = Linear(width, 10, dtype: .float64, generator: g)
        let x = Tensor.randn([batch, width], dtype: .float64, generator: g)
        let labels = Tensor.randint(0, 10, [batch], generator: g)
        var h = x
        var pre: [Tensor] = [], post: [Tensor] = []
        for l in layers {
            let z = l(h)
            z.retainGrad()
            h = activation.apply(z)
            pre.append(z)
            post.append(h)
        }
        Loss.crossEntropy(head(h), labels).backward()
        return layers.indices.map { i in
            Layer(index: i + 1, weightGradientNorm: layers[i].weight.grad!.norm().item(),
                  backpropagated: pre[i].grad!.flatten().toArray(as: Double.self),
                  meanAbsActivation: post[i].detach().abs().mean().item())
        }
    }

    /// The gradient norm per layer as an SVG chart (log scale).
    public static func normsSVG(_ layers: [Layer], title: String) -> String {
        let chart = LineChart(title: title, xLabel: "layer (1 = input side)", yLabel: "‖∂L/∂W‖", series: [
            .init(name: "gradient norm", color: "#1f77b4", points: layers.map { (Double($0.index), $0.weightGradientNorm) }),
        ])
        var c = chart
        c.logY = true
        return LineChart.svg([c], width: 560, height: 360)
    }

    /// Normalised histograms of the back-propagated gradients, one line per layer, one chart per
    /// initialisation (Glorot & Bengio 2010, figure 7).
    public static func histogramsSVG(_ runs: [(String, [Layer])], bins: Int = 41) -> String {
        let all = runs.flatMap { $0.1.flatMap { $0.backpropagated } }
        let sorted = all.map { Swift.abs($0) }.sorted()
        let limit = Swift.max(sorted.isEmpty ? 1 : sorted[Int(Double(sorted.count - 1) * 0.995)], 1e-12)
        let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
        let charts = runs.map { name, layers -> LineChart in
            LineChart(title: "back-propagated gradients, \(name) initialisation", xLabel: "∂L/∂z", yLabel: "fraction of values", series:
                layers.map { layer in
                    var counts = [Double](repeating: 0, count: bins)
                    for v in layer.backpropagated {
                        let b = Int(((v + limit) / (2 * limit) * Double(bins)).rounded(.down))
                        if b >= 0 && b < bins { counts[b] += 1 }
                    }
                    let total = Double(Swift.max(layer.backpropagated.count, 1))
                    let pts = (0..<bins).map { (-limit + (Double($0) + 0.5) * 2 * limit / Double(bins), counts[$0] / total) }
                    return .init(name: "layer \(layer.index)", color: colours[(layer.index - 1) % colours.count], points: pts, markers: false)
                })
        }
        return LineChart.svg(charts, width: 560, height: 380)
    }
}

/// The formulas behind each layer of a convolutional network (COURSE.md §8): output size,
/// trainable parameters and multiplications, with the numbers put in.
public enum ConvArithmetic {
    /// One layer's explanation.
    public struct Row: Sendable {
        /// The state-dict name, e.g. "0" or "conv1".
        public let layer: String
        /// The layer's settings in words.
        public let settings: String
        /// "formula = numbers = value" lines.
        public let lines: [String]
        /// Output shape of one sample.
        public let outputShape: [Int]
        /// Trainable parameters.
        public let params: Int
        /// Multiplications of the forward pass, one sample.
        public let multiplications: Int
    }

    /// The rows of `spec` (or a named model) for per-sample inputs of shape `input`.
    public static func explain(_ spec: String, input: [Int]) throws -> [Row] {
        let (model, shape) = try NamedModels.make(spec, input: input)
        let summary = model.summary(input: shape)
        let tracer = ModuleTracer()
        model.eval()
        ModuleTracer.current = tracer
        _ = withNoGrad { model(Tensor.zeros([1] + shape)) }
        ModuleTracer.current = nil
        var rows: [Row] = []
        for (call, s) in zip(tracer.calls, summary.layers) {
            let inShape = Array(call.inputShape.dropFirst()), out = s.outputShape
            var lines: [String] = []
            var settings = s.type
            func sizeLine(_ axis: String, _ n: Int, _ k: Int, _ st: Int, _ p: Int, _ d: Int, _ o: Int) -> String {
                d == 1
                    ? "\(axis)_out = ⌊(\(axis) + 2p − k) / s⌋ + 1 = ⌊(\(n) + 2·\(p) − \(k)) / \(st)⌋ + 1 = \(o)"
                    : "\(axis)_out = ⌊(\(axis) + 2p − d·(k − 1) − 1) / s⌋ + 1 = ⌊(\(n) + 2·\(p) − \(d)·\(k - 1) − 1) / \(st)⌋ + 1 = \(o)"
            }
            switch call.module {
            case let c as Conv2d:
                let (kh, kw) = (c.kernelSize[0], c.kernelSize[1]), (sh, sw) = (c.stride[0], c.stride[1])
                var (ph, pw) = (0, 0)
                if case .explicit(let p) = c.padding { (ph, pw) = (p[0], p.count > 1 ? p[1] : p[0]) }
                if case .same = c.padding { (ph, pw) = ((kh - 1) / 2, (kw - 1) / 2) }
                settings = "Conv2d \(c.inChannels)→\(c.outChannels), kernel \(kh)×\(kw), stride \(sh), padding \(c.padding == .same ? "same" : "\(ph)")"
                lines.append(sizeLine("H", inShape[1], kh, sh, ph, c.dilation[0], out[1]))
                lines.append(sizeLine("W", inShape[2], kw, sw, pw, c.dilation.count > 1 ? c.dilation[1] : c.dilation[0], out[2]))
                let cg = c.inChannels / c.groups
                lines.append("parameters = C_out·(C_in/groups·kh·kw + 1) = \(c.outChannels)·(\(cg)·\(kh)·\(kw) + \(c.bias == nil ? 0 : 1)) = \(s.params)")
                lines.append("multiplications = C_out·H_out·W_out·C_in/groups·kh·kw = \(c.outChannels)·\(out[1])·\(out[2])·\(cg)·\(kh)·\(kw) = \(s.multiplications)")
            case let m as MaxPool2d:
                let k = m.kernelSize[0], st = m.stride?[0] ?? k, p = m.padding[0]
                settings = "MaxPool2d \(k)×\(m.kernelSize.count > 1 ? m.kernelSize[1] : k), stride \(st)"
                lines.append(sizeLine("H", inShape[1], k, st, p, 1, out[1]))
                lines.append("no parameters, no multiplications (a maximum over each \(k)×\(k) window)")
            case let a as AvgPool2d:
                let k = a.kernelSize[0], st = a.stride?[0] ?? k, p = a.padding[0]
                settings = "AvgPool2d \(k)×\(a.kernelSize.count > 1 ? a.kernelSize[1] : k), stride \(st)"
                lines.append(sizeLine("H", inShape[1], k, st, p, 1, out[1]))
                lines.append("no parameters (one division per output: not counted)")
            case let l as Linear:
                settings = "Linear \(l.inFeatures)→\(l.outFeatures)"
                lines.append("parameters = in·out + out = \(l.inFeatures)·\(l.outFeatures) + \(l.bias == nil ? 0 : l.outFeatures) = \(s.params)")
                lines.append("multiplications = in·out = \(l.inFeatures)·\(l.outFeatures)\(out.count > 1 ? " per position × \(out.dropLast().reduce(1, *))" : "") = \(s.multiplications)")
            case is Flatten:
                lines.append("\(inShape.map(String.init).joined(separator: "×")) = \(out.reduce(1, *)) values in a row")
            default:
                lines.append(s.params == 0 ? "no parameters; shape unchanged" : "parameters = \(s.params)")
            }
            rows.append(Row(layer: s.name, settings: settings, lines: lines, outputShape: out, params: s.params, multiplications: s.multiplications))
        }
        return rows
    }
}

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

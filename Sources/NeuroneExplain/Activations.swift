import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import NeuroneTraining

/// What `neurone explain activation NAME` tells about an activation function (COURSE.md §2):
/// formula, range, derivative, behaviour at ±∞, and its values and derivatives on a grid, computed
/// with Neurone's own ops and autograd in float64.
public struct ActivationFacts: Sendable {
    /// The name `explain activation` takes.
    public let name: String
    /// f(z).
    public let formula: String
    /// The set of values f takes.
    public let range: String
    /// f′(z).
    public let derivative: String
    /// f and f′ as z → −∞ and z → +∞.
    public let atInfinity: String
    /// What to remember (saturation, dead units, …).
    public let notes: String
    let apply: @Sendable (Tensor) -> Tensor

    /// Every activation known to `explain activation`.
    public static let all: [ActivationFacts] = [
        ActivationFacts(name: "sigmoid", formula: "σ(z) = 1 / (1 + e^(−z))", range: "(0, 1)", derivative: "σ′(z) = σ(z)(1 − σ(z)), at most 0.25 (at z = 0)",
                        atInfinity: "z → −∞: σ → 0, σ′ → 0;  z → +∞: σ → 1, σ′ → 0",
                        notes: "saturates on both sides: for |z| > 5 the derivative is below 0.007, so gradients through many sigmoid layers shrink (each factor ≤ 0.25) — the vanishing-gradient problem; output for binary and multi-label problems",
                        apply: { $0.sigmoid() }),
        ActivationFacts(name: "tanh", formula: "tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)) = 2σ(2z) − 1", range: "(−1, 1)",
                        derivative: "tanh′(z) = 1 − tanh²(z), at most 1 (at z = 0)",
                        atInfinity: "z → −∞: tanh → −1, tanh′ → 0;  z → +∞: tanh → 1, tanh′ → 0",
                        notes: "zero-centred, four times the slope of σ at 0, but it saturates too", apply: { $0.tanh() }),
        ActivationFacts(name: "relu", formula: "ReLU(z) = max(0, z)", range: "[0, +∞)", derivative: "ReLU′(z) = 1 if z > 0, 0 if z < 0 (0 is used at z = 0)",
                        atInfinity: "z → −∞: ReLU = 0, ReLU′ = 0;  z → +∞: ReLU → +∞, ReLU′ = 1",
                        notes: "the derivative takes only the values 0 and 1: no saturation for z > 0, but a unit whose input stays negative gets no gradient at all and stops learning (a \"dead\" ReLU)",
                        apply: { $0.relu() }),
        ActivationFacts(name: "leakyrelu", formula: "LeakyReLU(z) = z if z > 0, 0.01·z otherwise", range: "(−∞, +∞)",
                        derivative: "1 if z > 0, 0.01 otherwise", atInfinity: "z → −∞: → −∞ with slope 0.01;  z → +∞: → +∞ with slope 1",
                        notes: "a small slope for z < 0 keeps units from dying", apply: { $0.leakyRelu(negativeSlope: 0.01) }),
        ActivationFacts(name: "prelu", formula: "PReLU(z) = z if z > 0, a·z otherwise, a learned (initial a = 0.25, shown here)", range: "(−∞, +∞) for a > 0",
                        derivative: "∂/∂z = 1 if z > 0, a otherwise;  ∂/∂a = z if z ≤ 0, 0 otherwise",
                        atInfinity: "z → −∞: → −∞ with slope a;  z → +∞: → +∞ with slope 1",
                        notes: "LeakyReLU whose slope is a parameter, one per layer or per channel (the siamese network of COURSE.md §9)",
                        apply: { $0.prelu(Tensor([0.25], dtype: $0.dtype)) }),
        ActivationFacts(name: "elu", formula: "ELU(z) = z if z > 0, α(e^z − 1) otherwise (α = 1)", range: "(−α, +∞)",
                        derivative: "1 if z > 0, α·e^z = ELU(z) + α otherwise", atInfinity: "z → −∞: ELU → −α, ELU′ → 0;  z → +∞: → +∞, ELU′ = 1",
                        notes: "smooth for α = 1, negative outputs push mean activations towards 0", apply: { $0.elu(alpha: 1) }),
        ActivationFacts(name: "gelu", formula: "GELU(z) = z·Φ(z), Φ the standard normal CDF", range: "[≈ −0.17, +∞)",
                        derivative: "Φ(z) + z·φ(z)", atInfinity: "z → −∞: GELU → 0, GELU′ → 0;  z → +∞: GELU ≈ z, GELU′ → 1",
                        notes: "a smooth ReLU used in transformers; slightly negative for z < 0", apply: { $0.gelu() }),
        ActivationFacts(name: "silu", formula: "SiLU(z) = z·σ(z)", range: "[≈ −0.28, +∞)", derivative: "σ(z)(1 + z(1 − σ(z)))",
                        atInfinity: "z → −∞: SiLU → 0;  z → +∞: SiLU ≈ z, SiLU′ → 1", notes: "also called swish", apply: { $0.silu() }),
        ActivationFacts(name: "softplus", formula: "softplus(z) = ln(1 + e^z)", range: "(0, +∞)", derivative: "σ(z)",
                        atInfinity: "z → −∞: → 0, derivative → 0;  z → +∞: ≈ z, derivative → 1", notes: "a smooth ReLU", apply: { $0.softplus() }),
        ActivationFacts(name: "identity", formula: "id(z) = z", range: "(−∞, +∞)", derivative: "1",
                        atInfinity: "z → ±∞: id → ±∞, derivative 1",
                        notes: "the output of a regression network (with MSE); a stack of linear layers with identity activations is still one linear map",
                        apply: { $0 * 1.0 }),
        ActivationFacts(name: "softmax", formula: "softmax(z)_i = e^(z_i) / Σ_j e^(z_j) (over a vector; shown for z = (z, 0): the first component)",
                        range: "each component in (0, 1), the components sum to 1",
                        derivative: "∂softmax_i/∂z_j = softmax_i(δ_ij − softmax_j); for (z, 0): σ(z)(1 − σ(z))",
                        atInfinity: "z_i → +∞ alone: softmax_i → 1, the others → 0 (saturates like σ)",
                        notes: "the output of single-label multi-class networks, with cross-entropy; with two classes it is σ of the difference",
                        apply: { Tensor.stack([$0, Tensor.zeros(like: $0)], dim: 1).softmax(dim: 1).select(dim: 1, index: 0) }),
    ]

    /// The facts for `name` (case-insensitive).
    public static func named(_ name: String) throws -> ActivationFacts {
        guard let f = all.first(where: { $0.name == name.lowercased() }) else {
            throw ExplainError("unknown activation '\(name)'; known: \(all.map { $0.name }.joined(separator: ", "))")
        }
        return f
    }

    /// f(z) and f′(z) at each z (float64, f′ by autograd).
    public func values(at z: [Double]) -> (value: [Double], derivative: [Double]) {
        let x = Tensor(z, dtype: .float64).requiringGrad()
        let y = apply(x)
        y.sum().backward()
        return (y.detach().toArray(as: Double.self), x.grad!.toArray(as: Double.self))
    }

    /// The function and its derivative on [−range, range] as an SVG chart.
    public func chartSVG(range: Double = 6, points: Int = 241) -> String {
        let z = (0..<points).map { -range + 2 * range * Double($0) / Double(points - 1) }
        let (v, d) = values(at: z)
        let chart = LineChart(title: "\(name): f(z) and f′(z)", xLabel: "z", yLabel: "", series: [
            .init(name: "f(z)", color: "#1f77b4", points: Array(zip(z, v)).map { ($0.0, $0.1) }, markers: false),
            .init(name: "f′(z)", color: "#d62728", points: Array(zip(z, d)).map { ($0.0, $0.1) }, dashed: true, markers: false),
        ])
        return LineChart.svg([chart], width: 560, height: 360)
    }
}

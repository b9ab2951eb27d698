import Foundation
import NeuroneTensor

/// The points of one playground run: generated from the settings' seed, split into training and
/// test points, with the user's clicks applied (added points join the training set).
public struct PlaygroundData: Equatable, Sendable {
    /// One point: where it is, its label, and which generated point it is.
    public struct Point: Equatable, Sendable {
        /// Its coordinates in [−6, 6]².
        public var x1: Double, x2: Double
        /// 0 or 1 for classification, a value in [−1, 1] for regression.
        public var label: Double
        /// The generated point's index (what `removed` names), or nil for an added point.
        public var index: Int?
    }

    /// The training points (the generated ones the split gives, less the removed ones, then the added ones).
    public var train: [Point]
    /// The test points (never an added one).
    public var test: [Point]

    /// The points the settings describe: generated from the seed, split by the ratio, with the clicks applied.
    public init(_ s: PlaygroundSettings) {
        let g = Generator(seed: s.seed)
        var all = Self.generate(s.dataset, count: s.points, noise: Double(s.noise) / 100, g)
        for i in all.indices { all[i].index = i }
        // Split by a seeded shuffle (Fisher–Yates).
        var order = Array(all.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            let j = Int(g.nextDouble() * Double(i + 1)) % (i + 1)
            order.swapAt(i, j)
        }
        let nTrain = all.count * s.trainRatio / 100
        let removed = Set(s.removed)
        train = order[..<nTrain].map { all[$0] }.filter { !removed.contains($0.index!) }
        test = order[nTrain...].map { all[$0] }.filter { !removed.contains($0.index!) }
        train += s.added.map { Point(x1: $0.x1, x2: $0.x2, label: $0.label, index: nil) }
    }

    /// `count` points of the named set in [−6, 6]², with noise in [0, 0.5].
    static func generate(_ name: String, count n: Int, noise: Double, _ g: Generator) -> [Point] {
        func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * g.nextDouble() }
        func p(_ x: Double, _ y: Double, _ l: Double) -> Point {
            Point(x1: min(max(x, -6), 6), x2: min(max(y, -6), 6), label: l, index: nil)
        }
        var out: [Point] = []
        switch name {
        case "circles":
            // An inner disc (label 1) inside a ring (label 0), radius 5.
            for i in 0..<n {
                let inner = i < n / 2
                let r = inner ? uniform(0, 2.5) : uniform(3.5, 5)
                let t = uniform(0, 2 * Double.pi)
                out.append(p(r * sin(t) + uniform(-5, 5) * noise, r * cos(t) + uniform(-5, 5) * noise, inner ? 1 : 0))
            }
        case "xor":
            // Label 1 where x₁x₂ > 0; points kept 0.3 away from the axes.
            for _ in 0..<n {
                var x = uniform(-5, 5), y = uniform(-5, 5)
                x += x > 0 ? 0.3 : -0.3
                y += y > 0 ? 0.3 : -0.3
                let label: Double = x * y > 0 ? 1 : 0
                out.append(p(x + uniform(-5, 5) * noise, y + uniform(-5, 5) * noise, label))
            }
        case "gaussian":
            // Two Gaussian clusters at (2, 2) (label 1) and (−2, −2) (label 0).
            let sigma = 0.5 + 7 * noise
            for i in 0..<n {
                let c = i < n / 2 ? 2.0 : -2.0
                out.append(p(c + sigma * g.nextNormal(), c + sigma * g.nextNormal(), i < n / 2 ? 1 : 0))
            }
        case "spirals":
            // Two interleaved spiral arms, 1.75 turns each.
            for i in 0..<n {
                let arm = i % 2, j = i / 2, perArm = max(1, n / 2)
                let r = 5 * Double(j) / Double(perArm)
                let t = 1.75 * Double(j) / Double(perArm) * 2 * Double.pi + Double(arm) * Double.pi
                out.append(p(r * sin(t) + uniform(-1, 1) * noise * 5, r * cos(t) + uniform(-1, 1) * noise * 5, Double(1 - arm)))
            }
        case "moons":
            // Two interleaving half circles (scikit-learn's make_moons), scaled by 3 and centred.
            for i in 0..<n {
                let upper = i < n / 2
                let t = Double.pi * g.nextDouble()
                let (x, y) = upper ? (cos(t), sin(t)) : (1 - cos(t), 0.5 - sin(t))
                out.append(p(3 * (x - 0.5 + noise * g.nextNormal()), 3 * (y - 0.25 + noise * g.nextNormal()), upper ? 1 : 0))
            }
        case "stars":
            // Stars vs circles (COURSE.md §1): label 1 inside the square |x₁|, |x₂| < 2.5.
            for _ in 0..<n {
                let x = uniform(-5, 5), y = uniform(-5, 5)
                let label: Double = abs(x) < 2.5 && abs(y) < 2.5 ? 1 : 0
                out.append(p(x + uniform(-5, 5) * noise, y + uniform(-5, 5) * noise, label))
            }
        case "plane":
            // Regression: the value (x₁ + x₂)/10.
            for _ in 0..<n {
                let x = uniform(-5, 5), y = uniform(-5, 5)
                out.append(p(x, y, min(max((x + uniform(-5, 5) * noise + y + uniform(-5, 5) * noise) / 10, -1), 1)))
            }
        default:  // "bumps"
            // Regression: a positive and a negative Gaussian bump.
            for _ in 0..<n {
                let x = uniform(-5, 5), y = uniform(-5, 5)
                let v = exp(-((x - 2) * (x - 2) + (y - 2) * (y - 2)) / 4) - exp(-((x + 2) * (x + 2) + (y + 2) * (y + 2)) / 4)
                out.append(p(x, y, min(max(v + uniform(-1, 1) * noise, -1), 1)))
            }
        }
        return out
    }

    /// The input features of points (x₁, x₂), one row per point: `[count, features.count]`.
    public static func features(_ names: [String], _ xs: [(Double, Double)]) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(xs.count * names.count)
        for (a, b) in xs {
            for f in names {
                let v: Double
                switch f {
                case "x1": v = a
                case "x2": v = b
                case "x1^2": v = a * a
                case "x2^2": v = b * b
                case "x1x2": v = a * b
                case "sin(x1)": v = sin(a)
                default: v = sin(b)
                }
                out.append(Float(v))
            }
        }
        return out
    }
}

import Foundation

/// Everything that decides a playground run: the data set, the network, the training settings and
/// the seed. The page keeps it in its URL, so the same URL gives the same run, frame for frame.
public struct PlaygroundSettings: Equatable, Sendable {
    /// The data sets: six to classify (labels 0 and 1) and two to regress (values in [−1, 1]).
    public static let datasets = ["circles", "xor", "gaussian", "spirals", "moons", "stars", "plane", "bumps"]
    /// The data sets whose labels are values to regress.
    public static let regressionSets: Set<String> = ["plane", "bumps"]
    /// The input features, computed from the point (x₁, x₂).
    public static let featureNames = ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin(x1)", "sin(x2)"]
    /// The hidden layers' activations the buttons offer.
    public static let activations = ["relu", "tanh", "sigmoid", "linear", "leakyrelu", "elu", "gelu"]
    /// SGD, SGD with momentum 0.9, Adam.
    public static let optimizers = ["sgd", "momentum", "adam"]
    /// No penalty, λ·Σ|w| or λ·Σw² over the weights.
    public static let regularizations = ["none", "l1", "l2"]

    /// One of `datasets`.
    public var dataset = "circles"
    /// Noise, in percent (0–50).
    public var noise = 0
    /// The share of the points used for training, in percent (10–90); the rest are the test set.
    public var trainRatio = 50
    /// Points generated (`PlaygroundLimits.pointCounts`).
    public var points = 500
    /// The seed of the points, the split, the initial weights and the batch order.
    public var seed: UInt64 = 1
    /// The input features used, in `featureNames` order.
    public var features = ["x1", "x2"]
    /// The hidden layers' widths (0–6 layers of 1–8).
    public var hidden = [4, 2]
    /// One of `activations`.
    public var activation = "tanh"
    /// The optimiser's learning rate.
    public var learningRate = 0.03
    /// Points per optimiser step.
    public var batchSize = 10
    /// One of `optimizers`.
    public var optimizer = "sgd"
    /// One of `regularizations`.
    public var regularization = "none"
    /// λ of the regularisation.
    public var regularizationRate = 0.0
    /// A model spec (`--model` grammar) replacing `hidden` and `activation`; empty for none.
    public var spec = ""
    /// Points added by clicking: x₁, x₂ and the label (0/1, or a value for regression).
    public var added: [AddedPoint] = []
    /// Generated points removed by clicking, by their index.
    public var removed: [Int] = []

    /// A point added by a click.
    public struct AddedPoint: Equatable, Sendable {
        /// Where, and its label (0/1, or a value in [−1, 1] for regression).
        public var x1: Double, x2: Double, label: Double
        /// A point at (x1, x2) with this label.
        public init(x1: Double, x2: Double, label: Double) { self.x1 = x1; self.x2 = x2; self.label = label }
    }

    /// The defaults: circles, x₁ and x₂, 4-2 tanh, SGD at 0.03, batch 10, seed 1.
    public init() {}

    /// Whether the data set is one to regress.
    public var isRegression: Bool { Self.regressionSets.contains(dataset) }

    static let keys = ["dataset", "noise", "trainRatio", "points", "seed", "features", "hidden", "activation", "learningRate",
                       "batchSize", "optimizer", "regularization", "regularizationRate", "spec", "added", "removed"]

    /// Reads settings from a decoded JSON object; a missing key keeps its default. Every value is
    /// checked: the error names the key, what it expects and what it found. Unknown keys are refused.
    public static func parse(_ object: [String: JSONValue]) throws -> PlaygroundSettings {
        for key in object.keys.sorted() where !keys.contains(key) {
            throw PlaygroundError("settings: unknown key '\(key)' (expected one of \(keys.joined(separator: ", ")))")
        }
        var s = PlaygroundSettings()
        let r = FieldReader(object: object, context: "settings")
        s.dataset = try r.choice("dataset", datasets, s.dataset)
        s.noise = try r.int("noise", 0...50, s.noise)
        s.trainRatio = try r.int("trainRatio", 10...90, s.trainRatio)
        s.points = try r.int("points", PlaygroundLimits.pointCounts, s.points)
        s.seed = UInt64(try r.int("seed", 0...Int(UInt32.max), Int(s.seed)))
        if object["features"] != nil {
            let list = try r.strings("features", maxCount: featureNames.count)
            for f in list where !featureNames.contains(f) {
                throw PlaygroundError("settings.features: unknown feature '\(f)' (expected some of \(featureNames.joined(separator: ", ")))")
            }
            guard !list.isEmpty else { throw PlaygroundError("settings.features: expected at least one feature, found none") }
            guard Set(list).count == list.count else { throw PlaygroundError("settings.features: a feature is named twice in \(list)") }
            s.features = featureNames.filter(list.contains)
        }
        if object["hidden"] != nil {
            s.hidden = try r.ints("hidden", maxCount: PlaygroundLimits.maxHiddenLayers, each: 1...PlaygroundLimits.maxNeuronsPerLayer,
                                  what: "0–\(PlaygroundLimits.maxHiddenLayers) hidden layers of 1–\(PlaygroundLimits.maxNeuronsPerLayer) neurons")
        }
        s.activation = try r.choice("activation", activations, s.activation)
        s.learningRate = try r.double("learningRate", PlaygroundLimits.learningRates, s.learningRate)
        s.batchSize = try r.int("batchSize", PlaygroundLimits.batchSizes, s.batchSize)
        s.optimizer = try r.choice("optimizer", optimizers, s.optimizer)
        s.regularization = try r.choice("regularization", regularizations, s.regularization)
        s.regularizationRate = try r.double("regularizationRate", PlaygroundLimits.regularizationRates, s.regularizationRate)
        if let v = object["spec"] {
            guard case .string(let text) = v else { throw PlaygroundError("settings.spec: expected a string, found \(v.describe)") }
            guard text.utf8.count <= 1000 else { throw PlaygroundError("settings.spec: expected at most 1000 characters, found \(text.utf8.count)") }
            s.spec = text.trimmingCharacters(in: .whitespaces)
        }
        if let v = object["added"] {
            guard case .array(let list) = v else { throw PlaygroundError("settings.added: expected a list of [x1, x2, label], found \(v.describe)") }
            guard list.count <= PlaygroundLimits.maxAddedPoints else {
                throw PlaygroundError("settings.added: expected at most \(PlaygroundLimits.maxAddedPoints) points, found \(list.count)")
            }
            s.added = try list.enumerated().map { i, item in try addedPoint(item, "settings.added[\(i)]", regression: s.isRegression) }
        }
        if object["removed"] != nil {
            s.removed = try r.ints("removed", maxCount: PlaygroundLimits.pointCounts.upperBound, each: 0...(s.points - 1),
                                   what: "indices of generated points (0–\(s.points - 1))")
        }
        return s
    }

    static func addedPoint(_ item: JSONValue, _ context: String, regression: Bool) throws -> AddedPoint {
        guard case .array(let xs) = item, xs.count == 3, case .number(let a) = xs[0], case .number(let b) = xs[1], case .number(let l) = xs[2] else {
            throw PlaygroundError("\(context): expected [x1, x2, label] (three numbers), found \(item.describe)")
        }
        let d = PlaygroundLimits.domain
        guard abs(a) <= d, abs(b) <= d else { throw PlaygroundError("\(context): expected x1 and x2 in [−\(Int(d)), \(Int(d))], found (\(a), \(b))") }
        if regression {
            guard abs(l) <= 1 else { throw PlaygroundError("\(context): expected a value in [−1, 1] for a regression set, found \(l)") }
        } else {
            guard l == 0 || l == 1 else { throw PlaygroundError("\(context): expected the label 0 or 1, found \(l)") }
        }
        return AddedPoint(x1: a, x2: b, label: l)
    }

    /// The settings as a JSON object (the form `parse` reads).
    public var json: String {
        let w = JSONWriter()
        w.object {
            w.field("dataset", dataset); w.field("noise", noise); w.field("trainRatio", trainRatio); w.field("points", points)
            w.field("seed", Int(seed)); w.field("features", features); w.field("hidden", hidden); w.field("activation", activation)
            w.field("learningRate", learningRate); w.field("batchSize", batchSize); w.field("optimizer", optimizer)
            w.field("regularization", regularization); w.field("regularizationRate", regularizationRate); w.field("spec", spec)
            w.key("added"); w.array(added) { p in w.array([p.x1, p.x2, p.label]) }
            w.field("removed", removed)
        }
        return w.text
    }
}

/// Reads checked fields of one JSON object.
struct FieldReader {
    let object: [String: JSONValue]
    let context: String

    func int(_ key: String, _ range: ClosedRange<Int>, _ dflt: Int) throws -> Int {
        guard let v = object[key] else { return dflt }
        guard case .number(let d) = v, d == d.rounded(), d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
            throw PlaygroundError("\(context).\(key): expected an integer in \(range.lowerBound)–\(range.upperBound), found \(v.describe)")
        }
        return Int(d)
    }

    func double(_ key: String, _ range: ClosedRange<Double>, _ dflt: Double) throws -> Double {
        guard let v = object[key] else { return dflt }
        guard case .number(let d) = v, range.contains(d) else {
            throw PlaygroundError("\(context).\(key): expected a number in [\(range.lowerBound), \(range.upperBound)], found \(v.describe)")
        }
        return d
    }

    func choice(_ key: String, _ options: [String], _ dflt: String) throws -> String {
        guard let v = object[key] else { return dflt }
        guard case .string(let s) = v, options.contains(s) else {
            throw PlaygroundError("\(context).\(key): expected one of \(options.joined(separator: ", ")), found \(v.describe)")
        }
        return s
    }

    func strings(_ key: String, maxCount: Int) throws -> [String] {
        let v = object[key]!
        guard case .array(let list) = v, list.count <= maxCount else {
            throw PlaygroundError("\(context).\(key): expected a list of at most \(maxCount) strings, found \(v.describe)")
        }
        return try list.map { item in
            guard case .string(let s) = item else { throw PlaygroundError("\(context).\(key): expected strings, found \(item.describe) in the list") }
            return s
        }
    }

    func ints(_ key: String, maxCount: Int, each range: ClosedRange<Int>, what: String) throws -> [Int] {
        let v = object[key]!
        guard case .array(let list) = v, list.count <= maxCount else {
            throw PlaygroundError("\(context).\(key): expected \(what), found \(v.describe)")
        }
        return try list.map { item in
            guard case .number(let d) = item, d == d.rounded(), d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
                throw PlaygroundError("\(context).\(key): expected \(what), found \(item.describe) in the list")
            }
            return Int(d)
        }
    }
}

import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim

/// One page's run: its data, its network and optimiser, trained one epoch per frame. Not
/// thread-safe, and Neurone's autograd mode is process-wide: the server runs every session's work
/// on one serial queue (`PlaygroundEngine`).
public final class PlaygroundSession {
    /// The settings in force (the points change with a click, nothing else does).
    public private(set) var settings: PlaygroundSettings
    /// The training and test points.
    public private(set) var data: PlaygroundData
    /// Epochs trained.
    public private(set) var epoch = 0
    /// Loss on the training and test points after each epoch (index 0: before training).
    public private(set) var trainLosses: [Double] = []
    public private(set) var testLosses: [Double] = []

    let model: Sequential
    /// Layer indices in `model` where each group of neurons ends (each group starts at a Linear).
    let groupEnds: [Int]
    let linears: [Linear]
    /// Batch normalisation cannot train on a batch of one: such a last batch joins the one before.
    let hasBatchNorm: Bool
    var optimizer: Optimizer
    let shuffle: Generator
    var trainX: Tensor, trainY: Tensor, testX: Tensor, testY: Tensor
    let gridX: Tensor

    /// Builds the data and the network the settings describe; throws when a spec cannot be built
    /// or exceeds the playground's limits.
    public init(_ settings: PlaygroundSettings) throws {
        self.settings = settings
        data = PlaygroundData(settings)
        let inputs = settings.features.count
        let g = Generator(seed: settings.seed &+ 1)
        if settings.spec.isEmpty {
            var layers: [Module] = []
            var width = inputs
            for h in settings.hidden {
                layers.append(Linear(width, h, generator: g))
                layers.append(Self.activationLayer(settings.activation))
                width = h
            }
            layers.append(Linear(width, 1, generator: g))
            model = Sequential(layers)
        } else {
            try Self.checkSpec(settings.spec)
            do { model = try ModelSpec.build(settings.spec, input: [inputs], generator: g) } catch let e as ModelSpecError {
                throw PlaygroundError("settings.spec: \(e.message)")
            }
        }
        linears = model.layers.compactMap { $0 as? Linear }
        var ends: [Int] = []
        for (i, layer) in model.layers.enumerated() where layer is Linear && i > 0 { ends.append(i - 1) }
        ends.append(model.layers.count - 1)
        groupEnds = ends
        let parameterCount = model.parameters().reduce(0) { $0 + $1.shape.reduce(1, *) }
        guard parameterCount <= PlaygroundLimits.maxParameters else {
            throw PlaygroundError("settings.spec: the network has \(parameterCount) parameters, the playground takes at most \(PlaygroundLimits.maxParameters)")
        }
        guard let first = model.layers.first, first is Linear else {
            throw PlaygroundError("settings.spec: expected the network to start with a linear layer, found '\(settings.spec.split(separator: " ").first ?? "")'")
        }
        let built = model
        built.eval()  // one sample: batch normalisation in training mode refuses it
        let probe = withNoGrad { built(Tensor([Float](repeating: 0, count: inputs), shape: [1, inputs])) }
        guard probe.shape == [1, 1] else {
            throw PlaygroundError("settings.spec: expected the network to end with one output (linear(1)), found an output of \(probe.shape.dropFirst().map(String.init).joined(separator: "×"))")
        }
        hasBatchNorm = model.layers.contains { $0 is BatchNorm }
        if hasBatchNorm && settings.batchSize < 2 {
            throw PlaygroundError("settings.batchSize: a network with batchnorm needs batches of at least 2, found 1")
        }
        optimizer = Self.makeOptimizer(settings, model.parameters())
        shuffle = Generator(seed: settings.seed &+ 2)
        (trainX, trainY) = Self.tensors(settings.features, data.train)
        (testX, testY) = Self.tensors(settings.features, data.test)
        let side = PlaygroundLimits.gridSide
        var grid: [(Double, Double)] = []
        for row in 0..<side {
            for col in 0..<side { grid.append((Self.gridCoordinate(col, side), Self.gridCoordinate(side - 1 - row, side))) }
        }
        gridX = Tensor(PlaygroundData.features(settings.features, grid), shape: [grid.count, inputs])
        recordLosses()
    }

    /// The centre of grid cell `i` of `side` along one axis of [−6, 6].
    public static func gridCoordinate(_ i: Int, _ side: Int) -> Double {
        let d = PlaygroundLimits.domain
        return -d + (Double(i) + 0.5) * 2 * d / Double(side)
    }

    static let specLayers: Set<String> = ["linear", "relu", "sigmoid", "tanh", "leakyrelu", "prelu", "elu", "gelu", "silu", "softplus",
                                           "identity", "dropout", "batchnorm", "layernorm"]

    /// The playground takes specs of flat layers only, linear layers at most 32 wide and at most 8 of them.
    static func checkSpec(_ spec: String) throws {
        let tokens: [ModelSpec.Token]
        do { tokens = try ModelSpec.tokenize(spec) } catch let e as ModelSpecError { throw PlaygroundError("settings.spec: \(e.message)") }
        var linearCount = 0
        for t in tokens {
            let name = t.name.lowercased()
            guard specLayers.contains(name) else {
                throw PlaygroundError("settings.spec: layer \(t.index) '\(t.text)': the playground takes \(specLayers.sorted().joined(separator: ", "))")
            }
            if name == "linear" {
                linearCount += 1
                let out = t.keywords.first { $0.0 == "out" }?.1 ?? t.positional.first ?? ""
                if let w = Int(out.trimmingCharacters(in: .whitespaces)), w > PlaygroundLimits.maxSpecWidth {
                    throw PlaygroundError("settings.spec: layer \(t.index) '\(t.text)': the playground takes linear layers of at most \(PlaygroundLimits.maxSpecWidth) neurons, found \(w)")
                }
            }
        }
        guard linearCount <= PlaygroundLimits.maxSpecLinearLayers else {
            throw PlaygroundError("settings.spec: the playground takes at most \(PlaygroundLimits.maxSpecLinearLayers) linear layers, found \(linearCount)")
        }
    }

    static func activationLayer(_ name: String) -> Module {
        switch name {
        case "relu": return ReLU()
        case "tanh": return Tanh()
        case "sigmoid": return Sigmoid()
        case "leakyrelu": return LeakyReLU()
        case "elu": return ELU()
        case "gelu": return GELU()
        default: return Identity()
        }
    }

    static func makeOptimizer(_ s: PlaygroundSettings, _ parameters: [Tensor]) -> Optimizer {
        switch s.optimizer {
        case "momentum": return SGD(parameters, lr: s.learningRate, momentum: 0.9)
        case "adam": return Adam(parameters, lr: s.learningRate)
        default: return SGD(parameters, lr: s.learningRate)
        }
    }

    static func tensors(_ features: [String], _ points: [PlaygroundData.Point]) -> (Tensor, Tensor) {
        let x = PlaygroundData.features(features, points.map { ($0.x1, $0.x2) })
        return (Tensor(x, shape: [points.count, features.count]), Tensor(points.map { Float($0.label) }, shape: [points.count, 1]))
    }

    var isRegression: Bool { settings.isRegression }

    func dataLoss(_ output: Tensor, _ target: Tensor) -> Tensor {
        isRegression ? Loss.mse(output, target) : Loss.binaryCrossEntropyWithLogits(output, target)
    }

    func recordLosses() {
        model.eval()
        withNoGrad {
            trainLosses.append(data.train.isEmpty ? .nan : dataLoss(model(trainX), trainY).item())
            testLosses.append(data.test.isEmpty ? .nan : dataLoss(model(testX), testY).item())
        }
    }

    /// Trains one epoch: the training points in a seeded random order, one step per batch.
    public func trainEpoch() {
        let n = data.train.count
        if n > 0 && !(hasBatchNorm && n < 2) {
            model.train()
            var order = Array(0..<n)
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(shuffle.nextDouble() * Double(i + 1)) % (i + 1)) }
            let weights = linears.map { $0.weight }
            var start = 0
            while start < n {
                var end = min(n, start + settings.batchSize)
                if hasBatchNorm && n - end == 1 { end = n }
                let idx = Array(order[start..<end])
                let index = Tensor(idx.map { Int64($0) })
                let x = trainX.indexSelect(dim: 0, index: index), y = trainY.indexSelect(dim: 0, index: index)
                var loss = dataLoss(model(x), y)
                if settings.regularizationRate > 0 {
                    if settings.regularization == "l1" { loss = loss + Regularizer.l1(weights, lambda: settings.regularizationRate) }
                    if settings.regularization == "l2" { loss = loss + Regularizer.l2(weights, lambda: settings.regularizationRate) }
                }
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
                start = end
            }
        }
        epoch += 1
        recordLosses()
    }

    /// Rebuilds the data from new settings that differ only in the points (a click), keeping the
    /// network and its training.
    public func replacePoints(_ s: PlaygroundSettings) {
        settings.added = s.added
        settings.removed = s.removed
        data = PlaygroundData(settings)
        (trainX, trainY) = Self.tensors(settings.features, data.train)
        (testX, testY) = Self.tensors(settings.features, data.test)
    }

    /// What one frame shows: the output over the grid, each hidden neuron's map, the weights.
    public struct Frame {
        /// The epochs trained when it was drawn.
        public var epoch: Int
        /// The data loss on all the training and all the test points (NaN for an empty set).
        public var trainLoss: Double, testLoss: Double
        /// `gridSide`² values in [−1, 1], row 0 at the top (x₂ = 6): 2p − 1 for classification, the
        /// prediction clamped for regression.
        public var output: [Float]
        /// For each linear layer but the last, its neurons' maps (`neuronGridSide`², row-major) and
        /// the largest magnitude of each, by which the map is divided on screen.
        public var neuronMaps: [[[Float]]]
        public var neuronScales: [[Float]]
        /// Each linear layer's weights [out][in] and biases [out].
        public var weights: [[[Float]]]
        public var biases: [[Float]]
    }

    /// The frame of the network as it is now (no training): one forward pass over the grid.
    public func frame() -> Frame {
        model.eval()
        let side = PlaygroundLimits.gridSide, nside = PlaygroundLimits.neuronGridSide, step = side / nside
        var maps: [[[Float]]] = [], scales: [[Float]] = []
        var output: [Float] = []
        withNoGrad {
            var x = gridX
            var group = 0
            for (i, layer) in model.layers.enumerated() {
                x = layer(x)
                guard group < groupEnds.count, i == groupEnds[group] else { continue }
                group += 1
                if i == model.layers.count - 1 {
                    let o = isRegression ? x.clamp(min: -1, max: 1) : x.sigmoid() * 2.0 - 1.0
                    output = o.toArray(as: Float.self)
                    continue
                }
                let values = x.toArray(as: Float.self), width = x.shape[1]
                var layerMaps: [[Float]] = [], layerScales: [Float] = []
                for j in 0..<width {
                    var m = [Float](repeating: 0, count: nside * nside)
                    var scale: Float = 0
                    for r in 0..<nside {
                        for c in 0..<nside {
                            let v = values[((r * step) * side + c * step) * width + j]
                            m[r * nside + c] = v
                            scale = max(scale, abs(v))
                        }
                    }
                    layerMaps.append(m)
                    layerScales.append(scale)
                }
                maps.append(layerMaps)
                scales.append(layerScales)
            }
        }
        let w = linears.map { l -> [[Float]] in
            let a = l.weight.toArray(as: Float.self), cols = l.weight.shape[1]
            return (0..<l.weight.shape[0]).map { Array(a[($0 * cols)..<(($0 + 1) * cols)]) }
        }
        let b = linears.map { l in l.bias.map { $0.toArray(as: Float.self) } ?? [Float](repeating: 0, count: l.weight.shape[0]) }
        return Frame(epoch: epoch, trainLoss: trainLosses.last!, testLoss: testLosses.last!, output: output,
                     neuronMaps: maps, neuronScales: scales, weights: w, biases: b)
    }

    /// The widths of the linear layers, input features first (what the page draws).
    public var widths: [Int] { [settings.features.count] + linears.map { $0.weight.shape[0] } }
}

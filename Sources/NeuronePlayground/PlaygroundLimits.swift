/// The playground's bounds (documented in docs/PLAYGROUND.md): every message and setting is checked
/// against them before anything is built, so no page can make the server allocate or compute
/// without limit.
public enum PlaygroundLimits {
    /// The largest client message, in bytes, that is read (a larger one gets an error frame).
    public static let maxMessageBytes = 64 * 1024
    /// Hidden layers the + / − buttons make, and neurons in each.
    public static let maxHiddenLayers = 6
    public static let maxNeuronsPerLayer = 8
    /// A network written as a model spec: its linear layers, their widths and its parameters.
    public static let maxSpecLinearLayers = 8
    public static let maxSpecWidth = 32
    public static let maxParameters = 10_000
    /// Points generated, and points a user may add by clicking.
    public static let pointCounts = 50...1000
    public static let maxAddedPoints = 500
    /// Batch size, learning rate and regularisation rate.
    public static let batchSizes = 1...1000
    public static let learningRates = 1e-6...10.0
    public static let regularizationRates = 0.0...10.0
    /// Frames per second one session may stream, and sessions served at once.
    public static let maxFramesPerSecond = 60
    public static let maxSessions = 32
    /// The side of the square grid of the decision boundary, and of each neuron's map (every
    /// second point of it).
    public static let gridSide = 64
    public static let neuronGridSide = 32
    /// Half the side of the square the points live in: x₁, x₂ ∈ [−6, 6].
    public static let domain = 6.0
}

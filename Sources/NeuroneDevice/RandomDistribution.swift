/// What a random fill draws, element by element in row-major order.
package enum RandomDistribution {
    /// Uniform on [low, high).
    case uniform(low: Double, high: Double)
    /// Normal with this mean and standard deviation (Box–Muller in float64, see `RandomStream`).
    case normal(mean: Double, std: Double)
    /// 1/keep with probability `keep`, else 0 (a dropout mask): the same draws as `uniform < keep`.
    case scaledBernoulli(keep: Double)
}

/// Swift scalar types that can be stored in a tensor.
public protocol TensorScalar {
    static var dtype: DType { get }
    /// The value as a Double (bool as 0/1).
    var doubleValue: Double { get }
    init(fromDouble value: Double)
}

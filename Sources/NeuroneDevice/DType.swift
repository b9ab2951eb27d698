/// The element type of a tensor. Float32 is the default, as in PyTorch.
public enum DType: String, CaseIterable, Sendable, CustomStringConvertible {
    case float32, float64, int32, int64, bool

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .bool: return 1
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }
    public var isInteger: Bool { self == .int32 || self == .int64 }

    public var description: String { rawValue }

    /// Rank used for type promotion (bool < int32 < int64 < float32 < float64).
    var promotionRank: Int {
        switch self {
        case .bool: return 0
        case .int32: return 1
        case .int64: return 2
        case .float32: return 3
        case .float64: return 4
        }
    }

    /// PyTorch's result type of a binary op between two tensors.
    public static func promote(_ a: DType, _ b: DType) -> DType {
        a.promotionRank >= b.promotionRank ? a : b
    }
}

extension Float: TensorScalar {
    public static var dtype: DType { .float32 }
    public var doubleValue: Double { Double(self) }
    public init(fromDouble value: Double) { self = Float(value) }
}
extension Double: TensorScalar {
    public static var dtype: DType { .float64 }
    public var doubleValue: Double { self }
    public init(fromDouble value: Double) { self = value }
}
extension Int32: TensorScalar {
    public static var dtype: DType { .int32 }
    public var doubleValue: Double { Double(self) }
    public init(fromDouble value: Double) { self = value.isFinite ? Int32(truncatingIfNeeded: Int64(value)) : 0 }
}
extension Int64: TensorScalar {
    public static var dtype: DType { .int64 }
    public var doubleValue: Double { Double(self) }
    public init(fromDouble value: Double) { self = value.isFinite ? Int64(value) : 0 }
}
extension Int: TensorScalar {
    /// Swift `Int` arrays become int64 tensors, as Python ints become torch.int64.
    public static var dtype: DType { .int64 }
    public var doubleValue: Double { Double(self) }
    public init(fromDouble value: Double) { self = value.isFinite ? Int(value) : 0 }
}
extension Bool: TensorScalar {
    public static var dtype: DType { .bool }
    public var doubleValue: Double { self ? 1 : 0 }
    public init(fromDouble value: Double) { self = value != 0 }
}

import NeuroneDevice

/// A typed view of a host buffer for the reference kernels: element i read and written as a
/// Double (floats exactly; integers exactly below 2⁵³; bool as 0/1) or as an Int64. Writes convert
/// as the tensor layer's casts do: float32 rounds to nearest, integers saturate (NaN → 0), bool is
/// value ≠ 0.
struct Elements {
    let base: UnsafeMutableRawPointer
    let dtype: DType

    init(_ buffer: DeviceBuffer, _ dtype: DType) {
        base = buffer.storage.address + buffer.byteOffset
        self.dtype = dtype
    }

    subscript(i: Int) -> Double {
        get {
            switch dtype {
            case .float32: return Double(base.load(fromByteOffset: i * 4, as: Float.self))
            case .float64: return base.load(fromByteOffset: i * 8, as: Double.self)
            case .int32: return Double(base.load(fromByteOffset: i * 4, as: Int32.self))
            case .int64: return Double(base.load(fromByteOffset: i * 8, as: Int64.self))
            case .bool: return base.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0
            }
        }
        nonmutating set {
            switch dtype {
            case .float32: base.storeBytes(of: Float(newValue), toByteOffset: i * 4, as: Float.self)
            case .float64: base.storeBytes(of: newValue, toByteOffset: i * 8, as: Double.self)
            case .int32: base.storeBytes(of: Int32(truncatingIfNeeded: Elements.saturated(newValue, Int64(Int32.min), Int64(Int32.max))),
                                         toByteOffset: i * 4, as: Int32.self)
            case .int64: base.storeBytes(of: Elements.saturated(newValue, Int64.min, Int64.max), toByteOffset: i * 8, as: Int64.self)
            case .bool: base.storeBytes(of: newValue != 0 ? 1 : 0, toByteOffset: i, as: UInt8.self)
            }
        }
    }

    /// Element i of an integer or bool buffer, exactly.
    func int(_ i: Int) -> Int64 {
        switch dtype {
        case .int32: return Int64(base.load(fromByteOffset: i * 4, as: Int32.self))
        case .int64: return base.load(fromByteOffset: i * 8, as: Int64.self)
        case .bool: return Int64(base.load(fromByteOffset: i, as: UInt8.self))
        default: return Int64(self[i])
        }
    }

    /// Sets element i of an integer or bool buffer; int32 keeps the low 32 bits (wrapping).
    func setInt(_ i: Int, _ v: Int64) {
        switch dtype {
        case .int32: base.storeBytes(of: Int32(truncatingIfNeeded: v), toByteOffset: i * 4, as: Int32.self)
        case .int64: base.storeBytes(of: v, toByteOffset: i * 8, as: Int64.self)
        case .bool: base.storeBytes(of: v != 0 ? 1 : 0, toByteOffset: i, as: UInt8.self)
        default: self[i] = Double(v)
        }
    }

    /// Copies element j of `src` (same dtype) to element i, bit for bit.
    func copy(_ i: Int, from src: Elements, _ j: Int) {
        let size = dtype.byteSize
        (base + i * size).copyMemory(from: src.base + j * size, byteCount: size)
    }

    static func saturated(_ v: Double, _ lo: Int64, _ hi: Int64) -> Int64 {
        if v.isNaN { return 0 }
        if v >= Double(hi) { return hi }
        if v <= Double(lo) { return lo }
        return Int64(v)
    }
}

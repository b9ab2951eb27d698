import NeuroneDevice

extension Tensor {
    /// The dtype a Swift array of `T` becomes when none is given: Double → float32 (as Python
    /// floats become torch.float32), Int → int64, the others their own type.
    static func defaultDType<T: TensorScalar>(for _: T.Type) -> DType {
        T.self == Double.self ? .float32 : T.dtype
    }

    /// A tensor from a flat Swift array in row-major order.
    /// - Parameters:
    ///   - values: the elements.
    ///   - shape: the shape (default: one dimension of `values.count`). Its element count must match.
    ///   - dtype: the element type (default: see `defaultDType`).
    ///   - device: where the tensor goes (default: `Device.default`).
    public convenience init<T: TensorScalar>(_ values: [T], shape: [Int]? = nil, dtype: DType? = nil, device: Device = .default) {
        let shape = shape ?? [values.count]
        check(shape.allSatisfy { $0 >= 0 }, "Tensor(_:shape:): negative dimension in shape \(describeShape(shape))")
        check(shapeCount(shape) == values.count,
                     "Tensor(_:shape:): shape \(describeShape(shape)) holds \(shapeCount(shape)) elements but \(values.count) values were given")
        let dt = dtype ?? Tensor.defaultDType(for: T.self)
        let t: Tensor
        if T.dtype == dt && MemoryLayout<T>.stride == dt.byteSize {
            t = Tensor.fromHost(shape, dtype: dt, device: device) { dst in
                values.withUnsafeBytes { if let base = $0.baseAddress { dst.copyMemory(from: base, byteCount: $0.count) } }
            }
        } else if T.self == Float.self && dt == .float64 {
            t = Tensor.fromHost(shape, dtype: dt, device: device) { dst in
                values.withUnsafeBytes { raw in
                    let src = raw.bindMemory(to: Float.self), d = dst.assumingMemoryBound(to: Double.self)
                    for i in 0..<values.count { d[i] = Double(src[i]) }
                }
            }
        } else {
            // Through float64, converted by the device (its cast's rounding and saturation rules).
            let doubles = values.map { $0.doubleValue }
            let wide = Tensor.fromHost(shape, dtype: .float64, device: device) { dst in
                doubles.withUnsafeBytes { if let base = $0.baseAddress { dst.copyMemory(from: base, byteCount: $0.count) } }
            }
            t = Tensor.empty(shape, dtype: dt, device: device)
            if !values.isEmpty { t.backend.cast(wide.buffer, from: .float64, t.buffer, to: dt, count: values.count) }
        }
        self.init(storage: t.storage, shape: shape, strides: contiguousStrides(shape), offset: 0, dtype: dt)
    }

    /// A 0-dimensional tensor holding one value.
    public convenience init<T: TensorScalar>(_ value: T, dtype: DType? = nil, device: Device = .default) {
        let dt = dtype ?? Tensor.defaultDType(for: T.self)
        let t = Tensor.empty([], dtype: dt, device: device)
        if dt == .int64, let v = (value as? Int).map(Int64.init) ?? (value as? Int64) {
            withUnsafeBytes(of: v) { t.backend.copyFromHost($0.baseAddress!, to: t.buffer, byteCount: 8) }
        } else {
            t.backend.fill(t.buffer, dtype: dt, count: 1, value: value.doubleValue)
        }
        self.init(storage: t.storage, shape: [], strides: [], offset: 0, dtype: dt)
    }

    /// A 2-D tensor from rows of equal length.
    public convenience init<T: TensorScalar>(rows: [[T]], dtype: DType? = nil, device: Device = .default) {
        let cols = rows.first?.count ?? 0
        for (i, r) in rows.enumerated() {
            check(r.count == cols, "Tensor(rows:): row \(i) has \(r.count) values, row 0 has \(cols)")
        }
        self.init(rows.flatMap { $0 }, shape: [rows.count, cols], dtype: dtype, device: device)
    }

    // MARK: constant tensors

    /// A tensor filled with `value`.
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .default,
                            requiresGrad: Bool = false) -> Tensor {
        check(shape.allSatisfy { $0 >= 0 }, "full: negative dimension in shape \(describeShape(shape))")
        let t = Tensor.empty(shape, dtype: dtype, device: device)
        t.backend.fill(t.buffer, dtype: dtype, count: t.count, value: value)
        if requiresGrad { t.requiresGrad = true }
        return t
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .default,
                             requiresGrad: Bool = false) -> Tensor {
        check(shape.allSatisfy { $0 >= 0 }, "zeros: negative dimension in shape \(describeShape(shape))")
        let n = shapeCount(shape)
        let t = Tensor(storage: device.allocate(byteCount: n * dtype.byteSize, zeroed: true), shape: shape,
                       strides: contiguousStrides(shape), offset: 0, dtype: dtype)
        if requiresGrad { t.requiresGrad = true }
        return t
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .default,
                            requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, dtype: dtype, device: device, requiresGrad: requiresGrad)
    }

    /// Zeros with the shape, dtype and device of `other`.
    public static func zeros(like other: Tensor, dtype: DType? = nil) -> Tensor {
        zeros(other.shape, dtype: dtype ?? other.dtype, device: other.device)
    }
    /// Ones with the shape, dtype and device of `other`.
    public static func ones(like other: Tensor, dtype: DType? = nil) -> Tensor {
        ones(other.shape, dtype: dtype ?? other.dtype, device: other.device)
    }
    /// `value` everywhere, with the shape, dtype and device of `other`.
    public static func full(like other: Tensor, _ value: Double, dtype: DType? = nil) -> Tensor {
        full(other.shape, value, dtype: dtype ?? other.dtype, device: other.device)
    }

    /// Values start, start+step, … below end (like `torch.arange`). Default dtype: int64 when all
    /// arguments are whole numbers, float32 otherwise.
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType? = nil,
                              device: Device = .default) -> Tensor {
        check(step != 0, "arange: step must be nonzero")
        check(start.isFinite && end.isFinite && step.isFinite, "arange: start, end and step must be finite")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        let whole = start.rounded() == start && end.rounded() == end && step.rounded() == step
        let dt = dtype ?? (whole ? .int64 : .float32)
        let values = (0..<n).map { start + Double($0) * step }
        return Tensor(values, shape: [n], dtype: dt, device: device)
    }

    /// 0, 1, …, end − 1 as int64 (or `dtype`).
    public static func arange(_ end: Int, dtype: DType = .int64, device: Device = .default) -> Tensor {
        arange(0, Double(end), step: 1, dtype: dtype, device: device)
    }

    /// `count` evenly spaced values from start to end inclusive.
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32,
                                device: Device = .default) -> Tensor {
        check(count >= 0, "linspace: count must be non-negative, got \(count)")
        if count == 1 { return Tensor([start], dtype: dtype, device: device) }
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        // Like PyTorch: the first half counts up from start, the second half down from end.
        let half = count / 2
        let values = (0..<count).map { i in i < half ? start + step * Double(i) : end - step * Double(count - 1 - i) }
        return Tensor(values, shape: [count], dtype: dtype, device: device)
    }

    /// The n×m identity (m defaults to n).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32, device: Device = .default) -> Tensor {
        let cols = m ?? n
        check(n >= 0 && cols >= 0, "eye: sizes must be non-negative, got \(n)×\(cols)")
        var values = [Double](repeating: 0, count: n * cols)
        for i in 0..<Swift.min(n, cols) { values[i * cols + i] = 1 }
        return Tensor(values, shape: [n, cols], dtype: dtype, device: device)
    }

    // MARK: random tensors

    /// Uniform on [0, 1).
    public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .default, generator: Generator? = nil) -> Tensor {
        uniform(shape, low: 0, high: 1, dtype: dtype, device: device, generator: generator)
    }

    /// Uniform on [low, high).
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                               device: Device = .default, generator: Generator? = nil) -> Tensor {
        check(dtype.isFloatingPoint, "uniform: dtype must be float32 or float64, got \(dtype)")
        check(low <= high, "uniform: low (\(low)) must not exceed high (\(high))")
        return randomTensor(shape, .uniform(low: low, high: high), dtype: dtype, generator: generator, device: device)
    }

    /// Standard normal samples.
    public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .default, generator: Generator? = nil) -> Tensor {
        normal(shape, mean: 0, std: 1, dtype: dtype, device: device, generator: generator)
    }

    /// Normal samples with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                              device: Device = .default, generator: Generator? = nil) -> Tensor {
        check(dtype.isFloatingPoint, "normal: dtype must be float32 or float64, got \(dtype)")
        check(std >= 0, "normal: std must be non-negative, got \(std)")
        return randomTensor(shape, .normal(mean: mean, std: std), dtype: dtype, generator: generator, device: device)
    }

    /// Uniform integers in [low, high), int64 by default.
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64,
                               device: Device = .default, generator: Generator? = nil) -> Tensor {
        check(high > low, "randint: the range [\(low), \(high)) is empty")
        let g = generator ?? Generator.default
        let n = shapeCount(shape)
        var values = [Int64](repeating: 0, count: n)
        let span = UInt64(high - low)
        for i in 0..<n { values[i] = Int64(low) + Int64(g.nextInt(below: span)) }
        return Tensor(values, shape: shape, dtype: dtype, device: device)
    }

    // MARK: back to Swift

    /// The elements in row-major order, converted to `T`.
    public func toArray<T: TensorScalar>(as type: T.Type = T.self) -> [T] {
        let n = count
        if n == 0 { return [] }
        if T.dtype == dtype && MemoryLayout<T>.stride == dtype.byteSize {
            return withHostBytes { src in
                [T](unsafeUninitializedCapacity: n) { buf, initialized in
                    UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: src, byteCount: n * dtype.byteSize)
                    initialized = n
                }
            }
        }
        // Other types through float64, converted by the device.
        let c = contiguousCopyIfNeeded()
        let wide = Tensor.empty(shape, dtype: .float64, device: device)
        backend.cast(c.buffer, from: dtype, wide.buffer, to: .float64, count: n)
        return wide.withHostBytes { src in
            let d = src.assumingMemoryBound(to: Double.self)
            return (0..<n).map { T(fromDouble: d[$0]) }
        }
    }

    /// The elements as Float.
    public var floats: [Float] { toArray(as: Float.self) }
    /// The elements as Double.
    public var doubles: [Double] { toArray(as: Double.self) }

    /// The single element of a one-element tensor, as a Double.
    public func item() -> Double {
        check(count == 1, "item: a Tensor with \(count) elements cannot be converted to a scalar (shape \(describeShape(shape)))")
        return toArray(as: Double.self)[0]
    }

    /// The single element of a one-element tensor, as `T`.
    public func item<T: TensorScalar>(as type: T.Type) -> T {
        check(count == 1, "item: a Tensor with \(count) elements cannot be converted to a scalar (shape \(describeShape(shape)))")
        return toArray(as: T.self)[0]
    }

    /// Self when contiguous, else a contiguous copy (no graph).
    package func contiguousCopyIfNeeded() -> Tensor { isContiguous ? self : contiguousCopy() }

    /// A new contiguous tensor with the same values, not connected to the graph.
    package func contiguousCopy() -> Tensor {
        let out = Tensor.empty(shape, dtype: dtype, device: device)
        if out.count > 0 {
            backend.copyStrided(elemSize: dtype.byteSize, shape: shape, src: buffer, srcStrides: strides,
                                dst: out.buffer, dstStrides: out.strides)
        }
        return out
    }
}

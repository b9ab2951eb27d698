import NeuroneDevice
import NeuroneCPU

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
    public convenience init<T: TensorScalar>(_ values: [T], shape: [Int]? = nil, dtype: DType? = nil) {
        let shape = shape ?? [values.count]
        check(shape.allSatisfy { $0 >= 0 }, "Tensor(_:shape:): negative dimension in shape \(describeShape(shape))")
        check(shapeCount(shape) == values.count,
                     "Tensor(_:shape:): shape \(describeShape(shape)) holds \(shapeCount(shape)) elements but \(values.count) values were given")
        let dt = dtype ?? Tensor.defaultDType(for: T.self)
        let storage = Storage(byteCount: values.count * dt.byteSize)
        values.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress, !buf.isEmpty else { return }
            if T.dtype == dt && MemoryLayout<T>.stride == dt.byteSize {
                storage.data.copyMemory(from: base, byteCount: values.count * dt.byteSize)
            } else if T.self == Float.self && dt == .float64 {
                let src = UnsafeRawPointer(base).assumingMemoryBound(to: Float.self)
                let dst = storage.data.assumingMemoryBound(to: Double.self)
                for i in 0..<values.count { dst[i] = Double(src[i]) }
            } else {
                let doubles = buf.map { $0.doubleValue }
                doubles.withUnsafeBufferPointer { d in
                    CPUBackend.shared.cast(UnsafeRawPointer(d.baseAddress!), from: .float64, storage.data, to: dt, count: values.count)
                }
            }
        }
        self.init(storage: storage, shape: shape, strides: contiguousStrides(shape), offset: 0, dtype: dt)
    }

    /// A 0-dimensional tensor holding one value.
    public convenience init<T: TensorScalar>(_ value: T, dtype: DType? = nil) {
        let dt = dtype ?? Tensor.defaultDType(for: T.self)
        let storage = Storage(byteCount: dt.byteSize)
        CPUBackend.shared.fill(storage.data, dtype: dt, count: 1, value: value.doubleValue)
        if dt == .int64, let v = value as? Int { storage.data.storeBytes(of: Int64(v), as: Int64.self) }
        if dt == .int64, let v = value as? Int64 { storage.data.storeBytes(of: v, as: Int64.self) }
        self.init(storage: storage, shape: [], strides: [], offset: 0, dtype: dt)
    }

    /// A 2-D tensor from rows of equal length.
    public convenience init<T: TensorScalar>(rows: [[T]], dtype: DType? = nil) {
        let cols = rows.first?.count ?? 0
        for (i, r) in rows.enumerated() {
            check(r.count == cols, "Tensor(rows:): row \(i) has \(r.count) values, row 0 has \(cols)")
        }
        self.init(rows.flatMap { $0 }, shape: [rows.count, cols], dtype: dtype)
    }

    // MARK: constant tensors

    /// A tensor filled with `value`.
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, requiresGrad: Bool = false) -> Tensor {
        check(shape.allSatisfy { $0 >= 0 }, "full: negative dimension in shape \(describeShape(shape))")
        let t = Tensor.empty(shape, dtype: dtype)
        t.backend.fill(t.buffer, dtype: dtype, count: t.count, value: value)
        if requiresGrad { t.requiresGrad = true }
        return t
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], dtype: DType = .float32, requiresGrad: Bool = false) -> Tensor {
        check(shape.allSatisfy { $0 >= 0 }, "zeros: negative dimension in shape \(describeShape(shape))")
        let n = shapeCount(shape)
        let t = Tensor(storage: Storage(zeroedByteCount: n * dtype.byteSize), shape: shape,
                       strides: contiguousStrides(shape), offset: 0, dtype: dtype)
        if requiresGrad { t.requiresGrad = true }
        return t
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], dtype: DType = .float32, requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, dtype: dtype, requiresGrad: requiresGrad)
    }

    /// Zeros with the shape and dtype of `other`.
    public static func zeros(like other: Tensor, dtype: DType? = nil) -> Tensor { zeros(other.shape, dtype: dtype ?? other.dtype) }
    /// Ones with the shape and dtype of `other`.
    public static func ones(like other: Tensor, dtype: DType? = nil) -> Tensor { ones(other.shape, dtype: dtype ?? other.dtype) }
    /// `value` everywhere, with the shape and dtype of `other`.
    public static func full(like other: Tensor, _ value: Double, dtype: DType? = nil) -> Tensor {
        full(other.shape, value, dtype: dtype ?? other.dtype)
    }

    /// Values start, start+step, … below end (like `torch.arange`). Default dtype: int64 when all
    /// arguments are whole numbers, float32 otherwise.
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType? = nil) -> Tensor {
        check(step != 0, "arange: step must be nonzero")
        check(start.isFinite && end.isFinite && step.isFinite, "arange: start, end and step must be finite")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        let whole = start.rounded() == start && end.rounded() == end && step.rounded() == step
        let dt = dtype ?? (whole ? .int64 : .float32)
        let values = (0..<n).map { start + Double($0) * step }
        return Tensor(values, shape: [n], dtype: dt)
    }

    /// 0, 1, …, end − 1 as int64 (or `dtype`).
    public static func arange(_ end: Int, dtype: DType = .int64) -> Tensor {
        arange(0, Double(end), step: 1, dtype: dtype)
    }

    /// `count` evenly spaced values from start to end inclusive.
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32) -> Tensor {
        check(count >= 0, "linspace: count must be non-negative, got \(count)")
        if count == 1 { return Tensor([start], dtype: dtype) }
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        // Like PyTorch: the first half counts up from start, the second half down from end.
        let half = count / 2
        let values = (0..<count).map { i in i < half ? start + step * Double(i) : end - step * Double(count - 1 - i) }
        return Tensor(values, shape: [count], dtype: dtype)
    }

    /// The n×m identity (m defaults to n).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) -> Tensor {
        let cols = m ?? n
        check(n >= 0 && cols >= 0, "eye: sizes must be non-negative, got \(n)×\(cols)")
        let t = zeros([n, cols], dtype: dtype)
        let one = Tensor.full([1], 1, dtype: dtype)
        for i in 0..<Swift.min(n, cols) {
            t.data.advanced(by: (i * cols + i) * dtype.byteSize).copyMemory(from: one.data, byteCount: dtype.byteSize)
        }
        return t
    }

    // MARK: random tensors

    /// Uniform on [0, 1).
    public static func rand(_ shape: [Int], dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
        uniform(shape, low: 0, high: 1, dtype: dtype, generator: generator)
    }

    /// Uniform on [low, high).
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                               generator: Generator? = nil) -> Tensor {
        check(dtype.isFloatingPoint, "uniform: dtype must be float32 or float64, got \(dtype)")
        check(low <= high, "uniform: low (\(low)) must not exceed high (\(high))")
        let g = generator ?? Generator.default
        let t = Tensor.empty(shape, dtype: dtype)
        let n = t.count
        if dtype == .float32 {
            let p = t.data.assumingMemoryBound(to: Float.self)
            let lo = Float(low), span = Float(high - low)
            for i in 0..<n { p[i] = lo + span * g.nextFloat() }
        } else {
            let p = t.data.assumingMemoryBound(to: Double.self)
            for i in 0..<n { p[i] = low + (high - low) * g.nextDouble() }
        }
        return t
    }

    /// Standard normal samples.
    public static func randn(_ shape: [Int], dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
        normal(shape, mean: 0, std: 1, dtype: dtype, generator: generator)
    }

    /// Normal samples with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                              generator: Generator? = nil) -> Tensor {
        check(dtype.isFloatingPoint, "normal: dtype must be float32 or float64, got \(dtype)")
        check(std >= 0, "normal: std must be non-negative, got \(std)")
        let g = generator ?? Generator.default
        let t = Tensor.empty(shape, dtype: dtype)
        let n = t.count
        if dtype == .float32 {
            let p = t.data.assumingMemoryBound(to: Float.self)
            for i in 0..<n { p[i] = Float(mean + std * g.nextNormal()) }
        } else {
            let p = t.data.assumingMemoryBound(to: Double.self)
            for i in 0..<n { p[i] = mean + std * g.nextNormal() }
        }
        return t
    }

    /// Uniform integers in [low, high), int64 by default.
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64,
                               generator: Generator? = nil) -> Tensor {
        check(high > low, "randint: the range [\(low), \(high)) is empty")
        let g = generator ?? Generator.default
        let n = shapeCount(shape)
        var values = [Int64](repeating: 0, count: n)
        let span = UInt64(high - low)
        for i in 0..<n { values[i] = Int64(low) + Int64(g.nextInt(below: span)) }
        return Tensor(values, shape: shape, dtype: dtype)
    }

    // MARK: back to Swift

    /// The elements in row-major order, converted to `T`.
    public func toArray<T: TensorScalar>(as type: T.Type = T.self) -> [T] {
        let c = contiguousCopyIfNeeded()
        let n = c.count
        if n == 0 { return [] }
        if T.dtype == dtype && MemoryLayout<T>.stride == dtype.byteSize {
            return [T](unsafeUninitializedCapacity: n) { buf, initialized in
                UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: c.data, byteCount: n * dtype.byteSize)
                initialized = n
            }
        }
        var doubles = [Double](repeating: 0, count: n)
        doubles.withUnsafeMutableBufferPointer { d in
            CPUBackend.shared.cast(UnsafeRawPointer(c.data), from: dtype, UnsafeMutableRawPointer(d.baseAddress!), to: .float64, count: n)
        }
        return doubles.map { T(fromDouble: $0) }
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

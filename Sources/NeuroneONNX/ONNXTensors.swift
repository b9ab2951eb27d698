import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneONNXProto

/// Conversions between Neurone tensors and ONNX `TensorProto`s (little-endian `raw_data`).
enum ONNXTensors {
    /// The ONNX element type of a Neurone dtype.
    static func elementType(_ dtype: DType) -> Onnx_TensorProto.DataType {
        switch dtype {
        case .float32: return .float
        case .float64: return .double
        case .int32: return .int32
        case .int64: return .int64
        case .bool: return .bool
        }
    }

    /// A TensorProto holding `tensor`'s values, named `name`.
    static func proto(_ tensor: Tensor, name: String) -> Onnx_TensorProto {
        var p = Onnx_TensorProto()
        p.name = name
        p.dims = tensor.shape.map { Int64($0) }
        p.dataType = Int32(elementType(tensor.dtype).rawValue)
        switch tensor.dtype {
        case .float32: p.rawData = bytes(tensor.toArray(as: Float.self))
        case .float64: p.rawData = bytes(tensor.toArray(as: Double.self))
        case .int32: p.rawData = bytes(tensor.toArray(as: Int32.self))
        case .int64: p.rawData = bytes(tensor.toArray(as: Int64.self))
        case .bool: p.rawData = Data(tensor.toArray(as: Bool.self).map { $0 ? 1 : 0 })
        }
        return p
    }

    /// The values as little-endian bytes.
    static func bytes<T: FixedWidthInteger>(_ values: [T]) -> Data {
        var data = Data(capacity: values.count * MemoryLayout<T>.size)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    static func bytes(_ values: [Float]) -> Data { bytes(values.map { $0.bitPattern }) }
    static func bytes(_ values: [Double]) -> Data { bytes(values.map { $0.bitPattern }) }
}

extension ONNXTensors {
    /// The most elements one initializer may hold (2³¹: 8 GiB of float32), checked before any
    /// allocation.
    static let maxElements = 1 << 31

    /// The tensor a TensorProto holds, as float32 for floating-point data (float64 kept as
    /// float64 when `keepDouble`), int64 for integer data. Throws naming `what` when the dims,
    /// the data type or the amount of data is wrong.
    static func tensor(_ p: Onnx_TensorProto, what: String) throws -> Tensor {
        if p.dataLocation == .external {
            throw ONNXError("\(what) is stored outside the .onnx file (external data), which import does not read; export it with its weights inside (torch.onnx.export(..., external_data=False))")
        }
        // the extents are bounded with a 0 counted as 1, so that an empty tensor's strides fit too
        var n = 1, extent = 1
        for d in p.dims {
            guard d >= 0, d <= Int64(maxElements) else { throw ONNXError("\(what) has a dimension of \(d); expected sizes in 0…\(maxElements)") }
            let (e, overflow) = extent.multipliedReportingOverflow(by: Swift.max(Int(d), 1))
            guard !overflow, e <= maxElements else {
                throw ONNXError("\(what) has dims \(p.dims.map(String.init).joined(separator: "×")), more than the \(maxElements) elements import accepts (a dimension of 0 counts as 1)")
            }
            extent = e
            n *= Int(d)
        }
        let shape = p.dims.map { Int($0) }
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(p.dataType)) else {
            throw ONNXError("\(what) has the unknown data type \(p.dataType)")
        }
        func raw<T>(_ size: Int, _ load: (UnsafeRawBufferPointer, Int) -> T) throws -> [T]? {
            guard !p.rawData.isEmpty else { return nil }
            guard p.rawData.count == n * size else {
                throw ONNXError("\(what) holds \(p.rawData.count) bytes of data; its dims \(shape.map(String.init).joined(separator: "×")) of \(type) need \(n * size)")
            }
            return p.rawData.withUnsafeBytes { buf in (0..<n).map { load(buf, $0 * size) } }
        }
        func typed<T>(_ values: [T], _ field: String) throws -> [T] {
            guard values.count == n else {
                throw ONNXError("\(what) holds \(values.count) values in \(field); its dims \(shape.map(String.init).joined(separator: "×")) need \(n)")
            }
            return values
        }
        switch type {
        case .float:
            let v = try raw(4) { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt32.self))) } ?? typed(p.floatData, "float_data")
            return Tensor(v, shape: shape, dtype: .float32)
        case .double:
            let v = try raw(8) { Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt64.self))) } ?? typed(p.doubleData, "double_data")
            return Tensor(v, shape: shape, dtype: .float64)
        case .int64:
            let v = try raw(8) { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int64.self)) } ?? typed(p.int64Data, "int64_data")
            return Tensor(v, shape: shape, dtype: .int64)
        case .int32:
            let v = try raw(4) { Int32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int32.self)) } ?? typed(p.int32Data, "int32_data")
            return Tensor(v.map { Int64($0) }, shape: shape, dtype: .int64)
        default:
            throw ONNXError("\(what) is of type \(type); import reads float, double, int32 and int64 tensors")
        }
    }
}

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

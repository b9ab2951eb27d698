import Foundation
import NeuroneDevice
import NeuroneTensor
import NeuroneIO

/// Input normalisation, `(x − mean) / std` on every input value, like torchvision's
/// `Normalize((0.1307,), (0.3081,))` in PyTorch's MNIST example: `--normalize MEAN,STD` or
/// `--normalize auto` (the mean and standard deviation of the training split's inputs). It is part
/// of the data pipeline, not of the model, so the model's state dict stays PyTorch's; a checkpoint
/// records it in model.json, and ONNX export writes it as the graph's first nodes.
public struct Normalization: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Subtracted from every input value.
    public let mean: Double
    /// Then divided into it (finite and positive).
    public let std: Double

    /// `(x − mean) / std`; throws unless both are finite and std is positive.
    public init(mean: Double, std: Double) throws {
        guard mean.isFinite, std.isFinite, std > 0 else {
            throw DataSetError(message: "normalisation: expected a finite mean and a finite positive standard deviation, got mean \(mean), std \(std)")
        }
        self.mean = mean
        self.std = std
    }

    /// "MEAN,STD" (e.g. "0.1307,0.3081"); throws naming the text otherwise. "auto" is for the
    /// caller to resolve with `fit(_:)`.
    public static func parse(_ text: String) throws -> Normalization {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let m = parts[0], let s = parts[1] else {
            throw DataSetError(message: "--normalize: expected MEAN,STD (such as 0.1307,0.3081) or auto, got '\(text)'")
        }
        do { return try Normalization(mean: m, std: s) }
        catch { throw DataSetError(message: "--normalize '\(text)': the mean must be finite and the standard deviation finite and positive") }
    }

    /// The mean and (population) standard deviation of every value of `data`'s inputs.
    public static func fit(_ data: TensorDataset, name: String) throws -> Normalization {
        let x = data.inputs
        guard x.dtype.isFloatingPoint else {
            throw DataSetError(message: "--normalize: \(name) holds \(x.dtype) inputs (token indices); normalisation applies to float inputs")
        }
        guard x.count > 0 else { throw DataSetError(message: "--normalize auto: \(name)'s training split is empty") }
        // Two passes over blocks of samples in float64: no whole-set float64 copy (MNIST's
        // training inputs would take 376 MB per temporary), and no cancellation of E[x²] − E[x]².
        let n = x.shape[0], step = Swift.max(1, (1 << 20) / Swift.max(1, x.count / Swift.max(1, n)))
        func blocks(_ body: (Tensor) -> Double) -> Double {
            stride(from: 0, to: n, by: step).reduce(0) { $0 + body(x.narrow(dim: 0, start: $1, length: Swift.min(step, n - $1)).to(.float64)) }
        }
        let count = Double(x.count)
        let mean = blocks { $0.sum().item() } / count
        let std = (blocks { ($0 - mean).square().sum().item() } / count).squareRoot()
        guard std > 0 else {
            throw DataSetError(message: "--normalize auto: every input value of \(name)'s training split is \(mean), so the standard deviation is 0; give MEAN,STD")
        }
        return try Normalization(mean: mean, std: std)
    }

    /// `(x − mean) / std`, in x's dtype.
    public func apply(_ x: Tensor) -> Tensor { (x - mean) / std }

    /// The data set with the inputs of both parts normalised; throws for token inputs.
    public func apply(_ data: DataSetSplits) throws -> DataSetSplits {
        guard data.train.inputs.dtype.isFloatingPoint else {
            throw DataSetError(message: "--normalize: \(data.name) holds \(data.train.inputs.dtype) inputs (token indices); normalisation applies to float inputs")
        }
        func part(_ d: TensorDataset) -> TensorDataset { TensorDataset(inputs: apply(d.inputs), labels: d.labels, classNames: d.classNames) }
        var out = DataSetSplits(name: data.name, train: part(data.train), test: part(data.test), description: data.description)
        out.vocabulary = data.vocabulary
        return out
    }

    /// "MEAN,STD" with every digit needed to read the same numbers back.
    public var description: String { "\(mean),\(std)" }
}

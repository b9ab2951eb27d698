import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An unknown optimiser or schedule name, or a saved optimiser state that does not fit (naming each entry).
public struct OptimizerError: Error, CustomStringConvertible {
    /// What does not fit.
    public let message: String
    public var description: String { message }
}

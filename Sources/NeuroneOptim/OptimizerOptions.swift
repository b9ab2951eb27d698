import NeuroneDevice
import NeuroneTensor
import NeuroneNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The settings of one parameter group; every optimiser's `Options` has a learning rate.
public protocol OptimizerOptions {
    var lr: Double { get set }
}

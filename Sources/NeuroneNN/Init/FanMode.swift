import NeuroneDevice
import NeuroneTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which fan Kaiming initialisation preserves the variance of.
public enum FanMode: Sendable { case fanIn, fanOut }

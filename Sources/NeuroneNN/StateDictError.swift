import NeuroneDevice
import NeuroneTensor

/// What went wrong when loading a state: every missing, unexpected and mis-shaped entry.
public struct StateDictError: Error, CustomStringConvertible {
    /// Names the module has but the state lacks.
    public let missing: [String]
    /// Names the state has but the module lacks.
    public let unexpected: [String]
    /// "name: expected shape …, found …" for each shape mismatch.
    public let mismatched: [String]

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { parts.append("unexpected keys: " + unexpected.joined(separator: ", ")) }
        if !mismatched.isEmpty { parts.append("size mismatch: " + mismatched.joined(separator: "; ")) }
        return "Error loading state dict: " + parts.joined(separator: "; ")
    }
}

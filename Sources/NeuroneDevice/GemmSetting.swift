/// NEURONE_GEMM's values, in one place: the BLAS check (NeuroneCPU) reads the variable where it
/// is first needed, `NeuroneEnvironment` checks it before a program starts.
package enum GemmSetting {
    /// Each accepted value (lower case): nil for auto (measured or cached), true to force the BLAS
    /// library, false to force the built-in kernel.
    package static let values: [String: Bool?] = ["": nil, "auto": nil, "blas": true, "builtin": false, "built-in": false]
    /// What the variable accepts, for messages.
    package static let accepted = "one of auto, blas, builtin"
}

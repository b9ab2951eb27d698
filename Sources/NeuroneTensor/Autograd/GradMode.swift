import NeuroneDevice

/// Whether ops record the graph. Off inside `withNoGrad`.
public enum GradMode {
    package nonisolated(unsafe) static var enabled = true

    /// True when ops record the autograd graph.
    public static var isEnabled: Bool { enabled }
}

/// What a classifier's last layer produces, which decides the loss.
public enum OutputKind: String, Sendable {
    /// Raw scores: cross-entropy.
    case logits
    /// Log-softmax output (PyTorch's MNIST example): negative log-likelihood.
    case logProbabilities
    /// Softmax output: negative log of the probabilities (clamped).
    case probabilities
}

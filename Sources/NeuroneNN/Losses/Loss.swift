import NeuroneDevice
import NeuroneTensor

/// Loss functions with PyTorch's definitions and defaults (`torch.nn.functional`).
public enum Loss {
    /// Mean squared error: (x − y)², reduced.
    public static func mse(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        sameShape(input, target, "mse")
        let d = input - target
        return (d * d).reduced(reduction)
    }

    /// The course's E = Σ ½ (y − a)² (summed over every element).
    public static func halfSumSquaredError(_ input: Tensor, _ target: Tensor) -> Tensor {
        sameShape(input, target, "halfSumSquaredError")
        let d = target - input
        return (d * d).sum() * 0.5
    }

    /// Mean absolute error |x − y|, reduced.
    public static func l1(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        sameShape(input, target, "l1")
        return (input - target).abs().reduced(reduction)
    }

    /// Smooth L1 (Huber divided by β): ½d²/β where |d| < β, |d| − ½β elsewhere.
    public static func smoothL1(_ input: Tensor, _ target: Tensor, beta: Double = 1, reduction: Reduction = .mean) -> Tensor {
        sameShape(input, target, "smoothL1")
        check(beta >= 0, "smoothL1: beta must be non-negative, got \(beta)")
        let d = (input - target).abs()
        if beta == 0 { return d.reduced(reduction) }
        return Tensor.where(d .< beta, d * d * (0.5 / beta), d - 0.5 * beta).reduced(reduction)
    }

    /// Binary cross-entropy on probabilities: −[y log p + (1 − y) log(1 − p)], with each log
    /// clamped at −100 as in PyTorch. `weight` rescales each element (broadcast).
    ///
    /// As in PyTorch, the gradient is (p − y) / max(p(1 − p), 10⁻¹²) for the input and
    /// log(1 − p) − log p (clamped) for the target, so probabilities that saturate at exactly 0 or
    /// 1 (a float32 sigmoid of a large logit) give a large finite gradient, not NaN.
    public static func binaryCrossEntropy(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, reduction: Reduction = .mean) -> Tensor {
        sameShape(input, target, "binaryCrossEntropy")
        let (logP, log1mP) = withNoGrad { (input.log().clamp(min: -100), (1.0 - input).log().clamp(min: -100)) }
        let elementwise = withNoGrad { -(target * logP + (1.0 - target) * log1mP) }
            .recording("BinaryCrossEntropyBackward", [input, target]) { g in
                [input._requiresGrad ? g * (input - target) / (input * (1.0 - input)).clamp(min: 1e-12) : nil,
                 target._requiresGrad ? g * (log1mP - logP) : nil]
            }
        var l = elementwise
        if let w = weight { l = l * w }
        return l.reduced(reduction)
    }

    /// Binary cross-entropy on logits, computed stably as max(x, 0) − x·y + log(1 + e^(−|x|)).
    /// `posWeight` weights the positive term per class (broadcast over the last dim).
    public static func binaryCrossEntropyWithLogits(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, posWeight: Tensor? = nil,
                                                    reduction: Reduction = .mean) -> Tensor {
        sameShape(input, target, "binaryCrossEntropyWithLogits")
        let softTerm = -input.logSigmoid()   // log(1 + e^(−x)), stable, exact gradient at 0
        var l: Tensor
        if let pw = posWeight {
            let logWeight = (pw - 1.0) * target + 1.0
            l = (1.0 - target) * input + logWeight * softTerm
        } else {
            l = (1.0 - target) * input + softTerm
        }
        if let w = weight { l = l * w }
        return l.reduced(reduction)
    }

    /// Negative log-likelihood of class indices given log-probabilities [N, C, d…] (or [C]):
    /// −w[y]·logp[y]; `mean` divides by the sum of the weights of the non-ignored targets.
    public static func nll(_ logProbs: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                           reduction: Reduction = .mean) -> Tensor {
        let (x, t) = classLayout(logProbs, target, "nll")
        let c = x.shape[1]
        if let w = weight { check(w.shape == [c], "nll: weight must have shape [\(c)] (one per class), got \(describeShape(w.shape))") }
        let valid = t .!= Tensor(ignoreIndex)
        let safe = Tensor.where(valid, t, Tensor(0))
        checkClassRange(safe, c, "nll")
        let picked = -x.gather(dim: 1, index: safe.unsqueeze(1)).squeeze(1)
        let wt = (weight.map { $0.indexSelect(dim: 0, index: safe.reshape([-1])).reshape(safe.shape) } ?? Tensor.ones(safe.shape, dtype: x.dtype, device: x.device))
            * valid.to(x.dtype)
        let l = picked * wt
        switch reduction {
        case .none: return logProbs.rank == 1 ? l.reshape([]) : l
        case .sum: return l.sum()
        case .mean: return l.sum() / wt.sum()
        }
    }

    /// Cross-entropy from logits [N, C, d…] (or [C]) and class indices [N, d…] (int64), with class
    /// weights, an ignored index and label smoothing ε: (1 − ε)·nll + ε·mean over classes of −w·logp.
    public static func crossEntropy(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                                    labelSmoothing: Double = 0, reduction: Reduction = .mean) -> Tensor {
        check(labelSmoothing >= 0 && labelSmoothing <= 1, "crossEntropy: labelSmoothing must be in [0, 1], got \(labelSmoothing)")
        if target.dtype.isFloatingPoint {
            return crossEntropy(logits, probabilities: target, weight: weight, labelSmoothing: labelSmoothing, reduction: reduction)
        }
        let logp = logits.logSoftmax(dim: logits.rank == 1 ? 0 : 1)
        let nllLoss = nll(logp, target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
        if labelSmoothing == 0 { return nllLoss }
        let (x, t) = classLayout(logp, target, "crossEntropy")
        let c = x.shape[1]
        let valid = t .!= Tensor(ignoreIndex)
        let wShape = [1, c] + [Int](repeating: 1, count: x.rank - 2)
        var smooth = weight.map { -(x * $0.reshape(wShape)).sum(dim: 1) } ?? -x.sum(dim: 1)
        smooth = smooth.maskedFill(valid.logicalNot(), 0)
        let smoothReduced: Tensor
        switch reduction {
        case .none: smoothReduced = logits.rank == 1 ? smooth.reshape([]) : smooth
        case .sum: smoothReduced = smooth.sum()
        case .mean:
            if let w = weight {
                let safe = Tensor.where(valid, t, Tensor(0))
                let wt = w.indexSelect(dim: 0, index: safe.reshape([-1])).reshape(safe.shape) * valid.to(w.dtype)
                smoothReduced = smooth.sum() / wt.sum()
            } else {
                smoothReduced = smooth.sum() / valid.to(x.dtype).sum()
            }
        }
        return nllLoss * (1 - labelSmoothing) + smoothReduced * (labelSmoothing / Double(c))
    }

    /// Cross-entropy against class probabilities of the logits' shape: −Σ_c w_c·p_c·log softmax(x)_c;
    /// `mean` divides by the number of samples.
    public static func crossEntropy(_ logits: Tensor, probabilities target: Tensor, weight: Tensor? = nil, labelSmoothing: Double = 0,
                                    reduction: Reduction = .mean) -> Tensor {
        sameShape(logits, target, "crossEntropy")
        let classDim = logits.rank == 1 ? 0 : 1
        let c = logits.shape[classDim]
        var p = target
        if labelSmoothing > 0 { p = p * (1 - labelSmoothing) + labelSmoothing / Double(c) }
        var terms = logits.logSoftmax(dim: classDim) * p
        if let w = weight {
            check(w.shape == [c], "crossEntropy: weight must have shape [\(c)], got \(describeShape(w.shape))")
            terms = terms * (logits.rank == 1 ? w : w.reshape([1, c] + [Int](repeating: 1, count: logits.rank - 2)))
        }
        let l = -terms.sum(dim: classDim)
        switch reduction {
        case .none: return l
        case .sum: return l.sum()
        case .mean: return l.sum() / Double(logits.rank == 1 ? 1 : l.count)
        }
    }

    /// Kullback–Leibler divergence with `input` given as log-probabilities and `target` as
    /// probabilities (or log-probabilities when `logTarget`): Σ y·(log y − x), with 0·log 0 = 0.
    /// `batchMean` divides the sum by the batch size (the mathematically correct KL).
    public static func klDivergence(_ input: Tensor, _ target: Tensor, reduction: KLReduction = .mean, logTarget: Bool = false) -> Tensor {
        sameShape(input, target, "klDivergence")
        let pointwise: Tensor
        if logTarget {
            pointwise = target.exp() * (target - input)
        } else {
            let safeLog = Tensor.where(target .> 0.0, target, 1.0).log()
            pointwise = Tensor.where(target .> 0.0, target * (safeLog - input), 0.0)
        }
        switch reduction {
        case .none: return pointwise
        case .sum: return pointwise.sum()
        case .mean: return pointwise.mean()
        case .batchMean: return pointwise.sum() / Double(input.rank == 0 ? 1 : input.shape[0])
        }
    }

    /// Reductions of `klDivergence`; `.batchMean` divides the sum by the batch size.
    public enum KLReduction: Sendable { case none, mean, sum, batchMean }

    /// Hinge embedding: x where y = 1, max(0, margin − x) where y = −1.
    public static func hingeEmbedding(_ input: Tensor, _ target: Tensor, margin: Double = 1, reduction: Reduction = .mean) -> Tensor {
        sameShape(input, target, "hingeEmbedding")
        let zero = Tensor.zeros([], dtype: input.dtype, device: input.device)
        let marginTerm = Tensor.where(target .!= 1.0, (margin - input).clamp(min: 0), zero)
        let selfTerm = Tensor.where(target .!= -1.0, input, zero)
        return (marginTerm + selfTerm).reduced(reduction)
    }

    /// The course's contrastive loss for siamese pairs: with D = ½‖a − b‖² per pair (summed over
    /// the feature dims), L = l·max(m − D, 0) + (1 − l)·D, where l = 0 for a pair with the same
    /// label and 1 otherwise.
    public static func contrastive(_ a: Tensor, _ b: Tensor, label: Tensor, margin: Double = 1, reduction: Reduction = .mean) -> Tensor {
        sameShape(a, b, "contrastive")
        check(a.rank >= 1, "contrastive: embeddings need a batch dim, got shape \(describeShape(a.shape))")
        let d = (a - b).square().sum(dims: Array(1..<Swift.max(a.rank, 2)).filter { $0 < a.rank }) * 0.5
        let l = label.to(d.dtype).reshape(d.shape)
        let loss = l * (margin - d).clamp(min: 0) + (1.0 - l) * d
        return loss.reduced(reduction)
    }

    /// The VAE objective: reconstruction error (binary cross-entropy on probabilities, or squared
    /// error) plus KL(q(z|x) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²), both summed over the batch
    /// as in the PyTorch VAE example (`reduction: .mean` divides by the batch size).
    public static func vae(reconstruction: Tensor, target: Tensor, mu: Tensor, logVar: Tensor,
                           reconstructionLoss: VAEReconstruction = .binaryCrossEntropy, reduction: Reduction = .sum) -> Tensor {
        sameShape(mu, logVar, "vae (mu, logVar)")
        let rec = reconstructionLoss == .binaryCrossEntropy
            ? binaryCrossEntropy(reconstruction, target, reduction: .sum)
            : mse(reconstruction, target, reduction: .sum)
        let kl = (1.0 + logVar - mu * mu - logVar.exp()).sum() * -0.5
        let total = rec + kl
        return reduction == .mean ? total / Double(Swift.max(1, target.shape.first ?? 1)) : total
    }

    /// The reconstruction term of `vae`.
    public enum VAEReconstruction: Sendable { case binaryCrossEntropy, squaredError }

    // MARK: helpers

    /// Brings [C] / [N, C, d…] inputs and [] / [N, d…] targets to [N, C, d…] and [N, d…].
    static func classLayout(_ x: Tensor, _ target: Tensor, _ op: String) -> (Tensor, Tensor) {
        check(target.dtype == .int64 || target.dtype == .int32, "\(op): class-index targets must be int64, got \(target.dtype)")
        if x.rank == 1 {
            check(target.rank == 0, "\(op): input of shape \(describeShape(x.shape)) expects a 0-d target, got \(describeShape(target.shape))")
            return (x.unsqueeze(0), target.reshape([1]).to(.int64))
        }
        check(x.rank >= 2, "\(op): input must have a class dim, got shape \(describeShape(x.shape))")
        var expected = x.shape
        expected.remove(at: 1)
        check(target.shape == expected,
              "\(op): input of shape \(describeShape(x.shape)) expects a target of shape \(describeShape(expected)), got \(describeShape(target.shape))")
        return (x, target.to(.int64))
    }

    static func checkClassRange(_ t: Tensor, _ classes: Int, _ op: String) {
        let values = t.toArray(as: Int64.self)
        if let bad = values.first(where: { $0 < 0 || $0 >= Int64(classes) }) {
            fail("\(op): target \(bad) is out of bounds for \(classes) classes")
        }
    }
}

private func sameShape(_ a: Tensor, _ b: Tensor, _ op: String) {
    check(a.shape == b.shape, "\(op): input shape \(describeShape(a.shape)) and target shape \(describeShape(b.shape)) must be equal")
}

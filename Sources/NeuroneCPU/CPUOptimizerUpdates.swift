import NeuroneDevice

/// The CPU's fused optimiser updates: one pass over a parameter and its state, in place, split
/// over the threads for large parameters, instead of a chain of out-of-place tensor ops (each of
/// which reads and writes the whole parameter). The arithmetic is the same, in the same order, as
/// the tensor-op formulation (and torch.optim), in the parameter's dtype.
extension CPUBackend {
    package func optimizerUpdate(_ rule: OptimizerUpdateRule, dtype: DType, count: Int, parameter: DeviceBuffer, gradient: DeviceBuffer,
                         states: [DeviceBuffer]) {
        switch dtype {
        case .float32: optimizerUpdate(rule, Float.self, count, parameter, gradient, states)
        case .float64: optimizerUpdate(rule, Double.self, count, parameter, gradient, states)
        default: fail("optimizer update: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }

    private func optimizerUpdate<T: FloatKernel>(_ rule: OptimizerUpdateRule, _: T.Type, _ n: Int, _ parameter: DeviceBuffer,
                                                 _ gradient: DeviceBuffer, _ states: [DeviceBuffer]) {
        let p = parameter.pointer.assumingMemoryBound(to: T.self), g = UnsafePointer(gradient.pointer.assumingMemoryBound(to: T.self))
        let s = states.map { $0.pointer.assumingMemoryBound(to: T.self) }
        switch rule {
        case let .sgd(lr, wd, maximize):
            let (lr, wd) = (T(lr), T(wd))
            Threading.parallelFor(n, minChunk: 1 << 15) { a, b in Self.sgd(a, b, p, g, lr: lr, wd: wd, maximize: maximize) }
        case let .sgdMomentum(momentum, dampening, lr, wd, nesterov, maximize, first):
            let (momentum, dampening, lr, wd) = (T(momentum), T(dampening), T(lr), T(wd))
            Threading.parallelFor(n, minChunk: 1 << 15) { a, b in
                Self.sgdMomentum(a, b, p, g, s, momentum: momentum, dampening: dampening, lr: lr, wd: wd, nesterov: nesterov,
                                 maximize: maximize, first: first)
            }
        case let .adadelta(rho, eps, lr, wd):
            let (rho, eps, lr, wd) = (T(rho), T(eps), T(lr), T(wd))
            Threading.parallelFor(n, minChunk: 1 << 15) { a, b in Self.adadelta(a, b, p, g, s, rho: rho, eps: eps, lr: lr, wd: wd) }
        }
    }

    @inline(__always)
    private static func adadelta<T: FloatKernel>(_ a: Int, _ b: Int, _ p: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ s: [UnsafeMutablePointer<T>],
                                                 rho: T, eps: T, lr: T, wd: T) {
        let sq = s[0], acc = s[1]
        let oneMinusRho = 1 - rho
        for i in a..<b {
            var gi = g[i]
            if wd != 0 { gi = gi + p[i] * wd }
            sq[i] = sq[i] * rho + gi * gi * oneMinusRho
            let delta = (acc[i] + eps).squareRoot() / (sq[i] + eps).squareRoot() * gi
            acc[i] = acc[i] * rho + delta * delta * oneMinusRho
            p[i] = p[i] - delta * lr
        }
    }

    @inline(__always)
    private static func sgd<T: FloatKernel>(_ a: Int, _ b: Int, _ p: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>,
                                            lr: T, wd: T, maximize: Bool) {
        for i in a..<b {
            var gi = maximize ? -g[i] : g[i]
            if wd != 0 { gi = gi + p[i] * wd }
            p[i] = p[i] - gi * lr
        }
    }

    @inline(__always)
    private static func sgdMomentum<T: FloatKernel>(_ a: Int, _ b: Int, _ p: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ s: [UnsafeMutablePointer<T>],
                                                    momentum: T, dampening: T, lr: T, wd: T, nesterov: Bool, maximize: Bool, first: Bool) {
        let buf = s[0]
        let keep = 1 - dampening
        for i in a..<b {
            var gi = maximize ? -g[i] : g[i]
            if wd != 0 { gi = gi + p[i] * wd }
            let bi = first ? gi : buf[i] * momentum + gi * keep
            buf[i] = bi
            let step = nesterov ? gi + bi * momentum : bi
            p[i] = p[i] - step * lr
        }
    }
}

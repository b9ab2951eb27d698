import NeuroneDevice
import CNeuroneKernels

/// The CPU's fused optimiser updates: one pass over a parameter and its state, in place, split
/// over the threads for large parameters, instead of a chain of out-of-place tensor ops (each of
/// which reads and writes the whole parameter). The arithmetic is the same, in the same order, as
/// the tensor-op formulation (and torch.optim), in the parameter's dtype: optimizer.c's loops,
/// built for AVX-512, AVX2 and the baseline and chosen at run time, with no fused multiply-adds.
extension CPUBackend {
    package func optimizerUpdate(_ rule: OptimizerUpdateRule, dtype: DType, count: Int, parameter: DeviceBuffer, gradient: DeviceBuffer,
                         states: [DeviceBuffer]) {
        switch dtype {
        case .float32:
            let p = parameter.pointer.assumingMemoryBound(to: Float.self), g = UnsafePointer(gradient.pointer.assumingMemoryBound(to: Float.self))
            let s = states.map { $0.pointer.assumingMemoryBound(to: Float.self) }
            switch rule {
            case let .sgd(lr, wd, maximize):
                let (lr, wd, mx) = (Float(lr), Float(wd), Int32(maximize ? 1 : 0))
                Self.overChunks(count) { a, b in nk_sgd_f32(a, b, p, g, lr, wd, mx) }
            case let .sgdMomentum(momentum, dampening, lr, wd, nesterov, maximize, first):
                let (m, d, lr, wd) = (Float(momentum), Float(dampening), Float(lr), Float(wd))
                let flags = (Int32(nesterov ? 1 : 0), Int32(maximize ? 1 : 0), Int32(first ? 1 : 0))
                Self.overChunks(count) { a, b in nk_sgd_momentum_f32(a, b, p, g, s[0], m, d, lr, wd, flags.0, flags.1, flags.2) }
            case let .adadelta(rho, eps, lr, wd):
                let (rho, eps, lr, wd) = (Float(rho), Float(eps), Float(lr), Float(wd))
                Self.overChunks(count) { a, b in nk_adadelta_f32(a, b, p, g, s[0], s[1], rho, eps, lr, wd) }
            }
        case .float64:
            let p = parameter.pointer.assumingMemoryBound(to: Double.self), g = UnsafePointer(gradient.pointer.assumingMemoryBound(to: Double.self))
            let s = states.map { $0.pointer.assumingMemoryBound(to: Double.self) }
            switch rule {
            case let .sgd(lr, wd, maximize):
                let mx = Int32(maximize ? 1 : 0)
                Self.overChunks(count) { a, b in nk_sgd_f64(a, b, p, g, lr, wd, mx) }
            case let .sgdMomentum(momentum, dampening, lr, wd, nesterov, maximize, first):
                let flags = (Int32(nesterov ? 1 : 0), Int32(maximize ? 1 : 0), Int32(first ? 1 : 0))
                Self.overChunks(count) { a, b in nk_sgd_momentum_f64(a, b, p, g, s[0], momentum, dampening, lr, wd, flags.0, flags.1, flags.2) }
            case let .adadelta(rho, eps, lr, wd):
                Self.overChunks(count) { a, b in nk_adadelta_f64(a, b, p, g, s[0], s[1], rho, eps, lr, wd) }
            }
        default: fail("optimizer update: dtype \(dtype) is not supported (float32 or float64 expected)")
        }
    }

    /// Elements [0, n) in chunks of at least 32768 over the threads.
    private static func overChunks(_ n: Int, _ body: (Int64, Int64) -> Void) {
        Threading.parallelFor(n, minChunk: 1 << 15) { a, b in body(Int64(a), Int64(b)) }
    }
}

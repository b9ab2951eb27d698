import NeuroneDevice
import CNeuroneKernels

/// The CPU's recurrent cells: recurrent.c's fused step kernels, rows spread over the threads.
extension CPUBackend {
    private func kernelKind(_ k: RecurrentCellKind) -> Int32 {
        switch k {
        case .rnnTanh: return Int32(NK_RECURRENT_RNN_TANH)
        case .rnnReLU: return Int32(NK_RECURRENT_RNN_RELU)
        case .lstm: return Int32(NK_RECURRENT_LSTM)
        case .gru: return Int32(NK_RECURRENT_GRU)
        }
    }

    /// Rows per thread: enough gate values that a thread's share outweighs waking it.
    private func rowChunk(_ s: RecurrentStep) -> Int { Swift.max(1, 16_384 / Swift.max(1, s.kind.gateCount * s.hidden)) }

    package func recurrentStep(_ s: RecurrentStep) {
        let kind = kernelKind(s.kind), h = Int64(s.hidden)
        let hg = s.hiddenGates?.pointer, hb = s.hiddenBias?.pointer, pc = s.previousC?.pointer
        let (g, ph, out) = (s.gates.pointer, s.previousH.pointer, s.out.pointer)
        Threading.parallelFor(s.batch, minChunk: rowChunk(s)) { r0, r1 in
            switch s.dtype {
            case .float32:
                func f(_ p: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<Float>? { p?.assumingMemoryBound(to: Float.self) }
                nk_recurrent_step_f32(kind, Int64(r0), Int64(r1), h, f(g), f(hg), f(hb), f(ph), Int64(s.previousHStride),
                                      f(pc), Int64(s.previousCStride), f(out), Int64(s.outStride))
            case .float64:
                func f(_ p: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<Double>? { p?.assumingMemoryBound(to: Double.self) }
                nk_recurrent_step_f64(kind, Int64(r0), Int64(r1), h, f(g), f(hg), f(hb), f(ph), Int64(s.previousHStride),
                                      f(pc), Int64(s.previousCStride), f(out), Int64(s.outStride))
            default: check(false, "recurrent cells run on float32 and float64, got \(s.dtype)")
            }
        }
    }

    package func recurrentStepBackward(_ s: RecurrentStep, _ d: RecurrentStepGradients) {
        let kind = kernelKind(s.kind), h = Int64(s.hidden)
        let hg = s.hiddenGates?.pointer, pc = s.previousC?.pointer
        let (g, ph, out) = (s.gates.pointer, s.previousH.pointer, s.out.pointer)
        let (og, ch, cc, dg, dhg, dph) = (d.outputGrad?.pointer, d.carriedH.pointer, d.carriedC?.pointer, d.gates.pointer, d.hiddenGates?.pointer, d.previousH?.pointer)
        Threading.parallelFor(s.batch, minChunk: rowChunk(s)) { r0, r1 in
            switch s.dtype {
            case .float32:
                func f(_ p: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<Float>? { p?.assumingMemoryBound(to: Float.self) }
                nk_recurrent_step_backward_f32(kind, Int64(r0), Int64(r1), h, f(g), f(hg), f(ph), Int64(s.previousHStride), f(pc), Int64(s.previousCStride),
                                               f(out), Int64(s.outStride), f(og), Int64(d.outputGradStride), f(ch), f(cc), f(dg), f(dhg), f(dph))
            case .float64:
                func f(_ p: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<Double>? { p?.assumingMemoryBound(to: Double.self) }
                nk_recurrent_step_backward_f64(kind, Int64(r0), Int64(r1), h, f(g), f(hg), f(ph), Int64(s.previousHStride), f(pc), Int64(s.previousCStride),
                                               f(out), Int64(s.outStride), f(og), Int64(d.outputGradStride), f(ch), f(cc), f(dg), f(dhg), f(dph))
            default: check(false, "recurrent cells run on float32 and float64, got \(s.dtype)")
            }
        }
    }
}

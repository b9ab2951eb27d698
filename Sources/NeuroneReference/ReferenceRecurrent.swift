import NeuroneDevice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The recurrent cells written from their definitions, one element at a time in Double: the
/// reference the CPU's fused kernels are tested against.
extension ReferenceBackend {
    private static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    package func recurrentStep(_ s: RecurrentStep) {
        let (hdim, dt) = (s.hidden, s.dtype)
        let gates = Elements(s.gates, dt), prevH = Elements(s.previousH, dt), out = Elements(s.out, dt)
        let gc = s.kind.gateCount * hdim
        for r in 0..<s.batch {
            let g = r * gc, o = r * s.outStride, ph = r * s.previousHStride
            switch s.kind {
            case .rnnTanh, .rnnReLU:
                for j in 0..<hdim {
                    let pre = gates[g + j]
                    out[o + j] = s.kind == .rnnTanh ? tanh(pre) : (pre.isNaN ? pre : Swift.max(pre, 0))
                }
            case .lstm:
                let prevC = Elements(s.previousC!, dt), pc = r * s.previousCStride
                for j in 0..<hdim {
                    let i = Self.sigmoid(gates[g + j]), f = Self.sigmoid(gates[g + hdim + j])
                    let gg = tanh(gates[g + 2 * hdim + j]), og = Self.sigmoid(gates[g + 3 * hdim + j])
                    let c = f * prevC[pc + j] + i * gg
                    (gates[g + j], gates[g + hdim + j], gates[g + 2 * hdim + j], gates[g + 3 * hdim + j]) = (i, f, gg, og)
                    out[o + hdim + j] = c
                    out[o + j] = og * tanh(out[o + hdim + j])  // tanh of c' as stored
                }
            case .gru:
                let hg = Elements(s.hiddenGates!, dt), bias = s.hiddenBias.map { Elements($0, dt) }
                for j in 0..<(3 * hdim) { hg[g + j] = hg[g + j] + (bias?[j] ?? 0) }
                for j in 0..<hdim {
                    let rr = Self.sigmoid(gates[g + j] + hg[g + j]), z = Self.sigmoid(gates[g + hdim + j] + hg[g + hdim + j])
                    let n = tanh(gates[g + 2 * hdim + j] + rr * hg[g + 2 * hdim + j])
                    (gates[g + j], gates[g + hdim + j], gates[g + 2 * hdim + j]) = (rr, z, n)
                    out[o + j] = (1 - z) * n + z * prevH[ph + j]
                }
            }
        }
    }

    package func recurrentForward(_ s: RecurrentSequence) { stepwiseRecurrentForward(s) }
    package func recurrentBackward(_ s: RecurrentSequence, _ g: RecurrentSequenceGradients) { stepwiseRecurrentBackward(s, g) }

    package func recurrentStepBackward(_ s: RecurrentStep, _ d: RecurrentStepGradients) {
        let (hdim, dt) = (s.hidden, s.dtype)
        let gates = Elements(s.gates, dt), prevH = Elements(s.previousH, dt), out = Elements(s.out, dt)
        let ext = d.outputGrad.map { Elements($0, dt) }, carried = Elements(d.carriedH, dt), dg = Elements(d.gates, dt)
        let gc = s.kind.gateCount * hdim
        for r in 0..<s.batch {
            let g = r * gc, o = r * s.outStride, e = r * d.outputGradStride
            func dh(_ j: Int) -> Double { carried[r * hdim + j] + (ext?[e + j] ?? 0) }
            switch s.kind {
            case .rnnTanh, .rnnReLU:
                for j in 0..<hdim {
                    let h = out[o + j]
                    dg[g + j] = s.kind == .rnnTanh ? dh(j) * (1 - h * h) : (h > 0 ? dh(j) : 0)
                }
            case .lstm:
                let prevC = Elements(s.previousC!, dt), carriedC = Elements(d.carriedC!, dt)
                for j in 0..<hdim {
                    let (i, f, gg, og) = (gates[g + j], gates[g + hdim + j], gates[g + 2 * hdim + j], gates[g + 3 * hdim + j])
                    let t = tanh(out[o + hdim + j])
                    let dc = carriedC[r * hdim + j] + dh(j) * og * (1 - t * t)
                    dg[g + j] = dc * gg * i * (1 - i)
                    dg[g + hdim + j] = dc * prevC[r * s.previousCStride + j] * f * (1 - f)
                    dg[g + 2 * hdim + j] = dc * i * (1 - gg * gg)
                    dg[g + 3 * hdim + j] = dh(j) * t * og * (1 - og)
                    carriedC[r * hdim + j] = dc * f
                }
            case .gru:
                let hg = Elements(s.hiddenGates!, dt), dhg = Elements(d.hiddenGates!, dt), dprev = Elements(d.previousH!, dt)
                for j in 0..<hdim {
                    let (rr, z, n) = (gates[g + j], gates[g + hdim + j], gates[g + 2 * hdim + j])
                    let dn = dh(j) * (1 - z), dz = dh(j) * (prevH[r * s.previousHStride + j] - n)
                    let dpn = dn * (1 - n * n), dpr = dpn * hg[g + 2 * hdim + j] * rr * (1 - rr), dpz = dz * z * (1 - z)
                    (dg[g + j], dg[g + hdim + j], dg[g + 2 * hdim + j]) = (dpr, dpz, dpn)
                    (dhg[g + j], dhg[g + hdim + j], dhg[g + 2 * hdim + j]) = (dpr, dpz, dpn * rr)
                    dprev[r * hdim + j] = dh(j) * z
                }
            }
        }
    }
}

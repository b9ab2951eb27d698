import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots
import NeuroneTraining
import Foundation

/// The formulas behind each layer of a convolutional network (COURSE.md §8): output size,
/// trainable parameters and multiplications, with the numbers put in.
public enum ConvArithmetic {
    /// One layer's explanation.
    public struct Row: Sendable {
        /// The state-dict name, e.g. "0" or "conv1".
        public let layer: String
        /// The layer's settings in words.
        public let settings: String
        /// "formula = numbers = value" lines.
        public let lines: [String]
        /// Output shape of one sample.
        public let outputShape: [Int]
        /// Trainable parameters.
        public let params: Int
        /// Multiplications of the forward pass, one sample.
        public let multiplications: Int
    }

    /// The rows of `spec` (or a named model) for per-sample inputs of shape `input`.
    public static func explain(_ spec: String, input: [Int]) throws -> [Row] {
        let (model, shape) = try NamedModels.make(spec, input: input)
        let summary = model.summary(input: shape)
        let tracer = ModuleTracer()
        model.eval()
        ModuleTracer.current = tracer
        _ = withNoGrad { model(Tensor.zeros([1] + shape)) }
        ModuleTracer.current = nil
        var rows: [Row] = []
        for (call, s) in zip(tracer.calls, summary.layers) {
            let inShape = Array(call.inputShape.dropFirst()), out = s.outputShape
            var lines: [String] = []
            var settings = s.type
            func sizeLine(_ axis: String, _ n: Int, _ k: Int, _ st: Int, _ p: Int, _ d: Int, _ o: Int) -> String {
                d == 1
                    ? "\(axis)_out = ⌊(\(axis) + 2p − k) / s⌋ + 1 = ⌊(\(n) + 2·\(p) − \(k)) / \(st)⌋ + 1 = \(o)"
                    : "\(axis)_out = ⌊(\(axis) + 2p − d·(k − 1) − 1) / s⌋ + 1 = ⌊(\(n) + 2·\(p) − \(d)·\(k - 1) − 1) / \(st)⌋ + 1 = \(o)"
            }
            switch call.module {
            case let c as Conv2d:
                let (kh, kw) = (c.kernelSize[0], c.kernelSize[1]), (sh, sw) = (c.stride[0], c.stride[1])
                var (ph, pw) = (0, 0)
                if case .explicit(let p) = c.padding { (ph, pw) = (p[0], p.count > 1 ? p[1] : p[0]) }
                if case .same = c.padding { (ph, pw) = ((kh - 1) / 2, (kw - 1) / 2) }
                settings = "Conv2d \(c.inChannels)→\(c.outChannels), kernel \(kh)×\(kw), stride \(sh), padding \(c.padding == .same ? "same" : "\(ph)")"
                lines.append(sizeLine("H", inShape[1], kh, sh, ph, c.dilation[0], out[1]))
                lines.append(sizeLine("W", inShape[2], kw, sw, pw, c.dilation.count > 1 ? c.dilation[1] : c.dilation[0], out[2]))
                let cg = c.inChannels / c.groups
                lines.append("parameters = C_out·(C_in/groups·kh·kw + 1) = \(c.outChannels)·(\(cg)·\(kh)·\(kw) + \(c.bias == nil ? 0 : 1)) = \(s.params)")
                lines.append("multiplications = C_out·H_out·W_out·C_in/groups·kh·kw = \(c.outChannels)·\(out[1])·\(out[2])·\(cg)·\(kh)·\(kw) = \(s.multiplications)")
            case let m as MaxPool2d:
                let k = m.kernelSize[0], st = m.stride?[0] ?? k, p = m.padding[0]
                settings = "MaxPool2d \(k)×\(m.kernelSize.count > 1 ? m.kernelSize[1] : k), stride \(st)"
                lines.append(sizeLine("H", inShape[1], k, st, p, 1, out[1]))
                lines.append("no parameters, no multiplications (a maximum over each \(k)×\(k) window)")
            case let a as AvgPool2d:
                let k = a.kernelSize[0], st = a.stride?[0] ?? k, p = a.padding[0]
                settings = "AvgPool2d \(k)×\(a.kernelSize.count > 1 ? a.kernelSize[1] : k), stride \(st)"
                lines.append(sizeLine("H", inShape[1], k, st, p, 1, out[1]))
                lines.append("no parameters (one division per output: not counted)")
            case let l as Linear:
                settings = "Linear \(l.inFeatures)→\(l.outFeatures)"
                lines.append("parameters = in·out + out = \(l.inFeatures)·\(l.outFeatures) + \(l.bias == nil ? 0 : l.outFeatures) = \(s.params)")
                lines.append("multiplications = in·out = \(l.inFeatures)·\(l.outFeatures)\(out.count > 1 ? " per position × \(out.dropLast().reduce(1, *))" : "") = \(s.multiplications)")
            case is Flatten:
                lines.append("\(inShape.map(String.init).joined(separator: "×")) = \(out.reduce(1, *)) values in a row")
            case is Reshape, is Unflatten:
                lines.append("\(inShape.map(String.init).joined(separator: "×")) → \(out.map(String.init).joined(separator: "×")): the same \(out.reduce(1, *)) values, regrouped")
            case let p as Permute:
                lines.append("\(inShape.map(String.init).joined(separator: "×")) → \(out.map(String.init).joined(separator: "×")): the dimensions in the order \(p.dims.map(String.init).joined(separator: ", "))")
            default:
                let shape = inShape == out ? "shape unchanged" : "\(inShape.map(String.init).joined(separator: "×")) → \(out.map(String.init).joined(separator: "×"))"
                lines.append(s.params == 0 ? "no parameters; \(shape)" : "parameters = \(s.params)")
            }
            rows.append(Row(layer: s.name, settings: settings, lines: lines, outputShape: out, params: s.params, multiplications: s.multiplications))
        }
        return rows
    }
}

import NeuroneDevice
import NeuroneTensor

/// A Keras/torchinfo-style summary: one row per layer called by the forward pass, and totals.
public struct ModelSummary: Equatable, Sendable {
    /// The per-sample input shape summarised.
    public let inputShape: [Int]
    /// One row per leaf layer, in call order.
    public let layers: [LayerSummary]
    /// Parameters of the whole model.
    public let totalParams: Int
    /// Parameters that require grad.
    public let trainableParams: Int
    /// Sum of the rows' multiplications.
    public let totalMultiplications: Int
    /// The multiplications (multiply-adds) of one training step's products per sample, every
    /// parameter trained: the forward's, as many again for the weight gradients and as many for the
    /// gradients of each layer's input (attention's score products too: two products back for
    /// each one forward) — less the input gradient of the first layer with parameters or products,
    /// whose input is the data and needs none. Twice this, times samples/s, is the FLOP/s that
    /// `neurone bench train --against-peak` sets against the FMA peak.
    public let trainingMultiplications: Int

    /// Runs the model once on a sample of batch 1 (evaluation mode, no gradients) on
    /// `Device.meta` — its shapes only: no activation or weight takes memory, so any input size
    /// the shape rules accept can be summarised — and records every leaf module it calls. The
    /// model's own tensors are left untouched.
    public init(model: Module, input: [Int], dtype: DType = .float32) {
        let tracer = ModuleTracer()
        let modes = model.namedModules().map { ($0.1, $0.1.isTraining) }
        model.eval()
        ModuleTracer.current = tracer
        model.withStandIns(on: .meta) {
            _ = withNoGrad { model(Tensor.zeros([1] + input, dtype: model.expectedInputDType ?? dtype, device: .meta)) }
        }
        ModuleTracer.current = nil
        for (m, training) in modes { m.setOwnTrainingMode(training) }
        let names = Dictionary(model.namedModules().map { (ObjectIdentifier($0.1), $0.0) }, uniquingKeysWith: { a, _ in a })
        var rows: [LayerSummary] = []
        for call in tracer.calls {
            let m = call.module
            let params = m.parameters()
            let perSample = Array(call.outputShape.dropFirst())
            rows.append(LayerSummary(
                name: names[ObjectIdentifier(m)] ?? m.typeName, type: m.typeName, outputShape: perSample,
                params: params.reduce(0) { $0 + $1.count },
                trainableParams: params.filter { $0.requiresGrad }.reduce(0) { $0 + $1.count },
                multiplications: ModelSummary.multiplications(m, input: Array(call.inputShape.dropFirst()), output: perSample),
                timeSteps: m is RNNBase ? perSample.first : nil))
        }
        inputShape = input
        layers = rows
        totalParams = model.parameterCount
        trainableParams = model.trainableParameterCount
        totalMultiplications = rows.reduce(0) { let (s, o) = $0.addingReportingOverflow($1.multiplications); return o ? .max : s }
        // the first layer with parameters or products takes the data, whose gradient nobody needs
        let first = rows.firstIndex { $0.params > 0 || $0.multiplications > 0 }.map { tracer.calls[$0] }
        let skipped = first.map { ModelSummary.inputGradientMultiplications($0.module, input: Array($0.inputShape.dropFirst()),
                                                                             output: Array($0.outputShape.dropFirst())) } ?? 0
        let (thrice, o1) = totalMultiplications.multipliedReportingOverflow(by: 3)
        trainingMultiplications = o1 || totalMultiplications == .max || skipped == .max ? .max : thrice - skipped
    }

    /// The multiplications per sample of the products that give a layer's input gradient: all of
    /// a Linear's or a convolution's, a recurrent layer's input projections (its first layer's
    /// W_ih, each direction and step), self-attention's Q, K and V projections (3·L·E²).
    static func inputGradientMultiplications(_ m: Module, input: [Int], output: [Int]) -> Int {
        func product(_ f: [Int]) -> Int { CheckedSize.product(f) ?? .max }
        switch m {
        case is Linear, is Conv2d, is Conv1d, is ConvTranspose2d: return multiplications(m, input: input, output: output)
        case let r as RNNBase:
            return product([output.first ?? 0, r.numDirections, r.mode.cell.gateCount * r.hiddenSize, r.inputSize])
        case let a as MultiheadAttention:
            let e = a.embedDim, l = (CheckedSize.product(output) ?? .max) / Swift.max(1, e)
            return product([3, l, e, e])
        default: return 0
        }
    }

    /// A layer's multiplications per sample (Int.max when the count overflows).
    static func multiplications(_ m: Module, input: [Int], output: [Int]) -> Int {
        let outCount = CheckedSize.product(output) ?? .max
        func product(_ f: [Int]) -> Int { CheckedSize.product(f) ?? .max }
        switch m {
        case let l as Linear: return product([outCount / l.outFeatures, l.inFeatures, l.outFeatures])
        case let c as Conv2d: return product([outCount, c.inChannels / c.groups, c.kernelSize[0], c.kernelSize[1]])
        case let c as Conv1d: return product([outCount, c.inChannels / c.groups, c.kernelSize])
        case let c as ConvTranspose2d:
            // each input value scatters into out/groups channels × the kernel
            return product([CheckedSize.product(input) ?? .max, c.outChannels / c.groups, c.kernelSize[0], c.kernelSize[1]])
        case let r as RNNBase:
            // Per time step, each layer and direction: W_ih·x and W_hh·h (G·H·(in + H)); the
            // gates' own products (LSTM c and h: 3·H, GRU: 3·H) are left out, as activations are.
            let steps = output.first ?? 0, d = r.numDirections, gh = r.mode.cell.gateCount * r.hiddenSize
            var perStep = 0
            for layer in 0..<r.numLayers {
                let (sum, o) = perStep.addingReportingOverflow(product([d, gh, (layer == 0 ? r.inputSize : d * r.hiddenSize) + r.hiddenSize]))
                perStep = o ? .max : sum
            }
            return product([steps, perStep])
        case let a as MultiheadAttention:
            // Self-attention on L tokens of E features: Q, K, V and output projections (4·L·E²),
            // the scores QKᵀ and the weighted sum of V (2·L²·E).
            let e = a.embedDim, l = outCount / Swift.max(1, e)
            let (sum, overflow) = product([4, l, e, e]).addingReportingOverflow(product([2, l, l, e]))
            return overflow ? .max : sum
        default: return 0
        }
    }

    /// A table like Keras' `model.summary()`.
    public var table: String {
        func group(_ n: Int) -> String {
            let s = String(n)
            var out = ""
            for (i, ch) in s.reversed().enumerated() {
                if i > 0 && i % 3 == 0 { out.append(",") }
                out.append(ch)
            }
            return String(out.reversed())
        }
        let header = ["Layer (type)", "Output shape", "Params", "Multiplications"]
        let body = layers.map { ["\($0.name) (\($0.type))", ModelSpec.shapeText($0.outputShape), group($0.params), group($0.multiplications)] }
        var widths = header.map { $0.count }
        for row in body { for (i, cell) in row.enumerated() { widths[i] = Swift.max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == 0 ? c + String(repeating: " ", count: widths[i] - c.count)
                       : String(repeating: " ", count: widths[i] - c.count) + c
            }.joined(separator: "   ")
        }
        let rule = String(repeating: "─", count: widths.reduce(0, +) + 9)
        var lines = ["Input: \(ModelSpec.shapeText(inputShape)) per sample", rule, line(header), rule]
        lines += body.map(line)
        lines += [rule,
                  "Total params: \(group(totalParams))",
                  "Trainable params: \(group(trainableParams))",
                  "Non-trainable params: \(group(totalParams - trainableParams))",
                  "Multiplications per sample (forward): \(group(totalMultiplications))",
                  "Multiplications per sample (training step): \(group(trainingMultiplications))"]
        for l in layers {
            guard let steps = l.timeSteps, steps > 0 else { continue }
            lines.append("  \(l.name) (\(l.type)): \(group(l.multiplications / steps)) per time step × \(steps) steps")
        }
        return lines.joined(separator: "\n")
    }

    /// `{"layers":[{"name":…,"type":…,"outputShape":[…],"params":N,"multiplications":N}],"totalParams":N,"trainableParams":N,"totalMultiplications":N,"trainingMultiplications":N}`;
    /// recurrent layers' rows add `"timeSteps":T`.
    public var json: String {
        func esc(_ s: String) -> String {
            var out = ""
            for ch in s {
                if ch == "\\" || ch == "\"" { out.append("\\") }
                out.append(ch)
            }
            return out
        }
        let rows = layers.map {
            "{\"name\":\"\(esc($0.name))\",\"type\":\"\(esc($0.type))\",\"outputShape\":[\($0.outputShape.map(String.init).joined(separator: ","))],\"params\":\($0.params),\"multiplications\":\($0.multiplications)\($0.timeSteps.map { ",\"timeSteps\":\($0)" } ?? "")}"
        }
        return "{\"layers\":[\(rows.joined(separator: ","))],\"totalParams\":\(totalParams),\"trainableParams\":\(trainableParams),\"totalMultiplications\":\(totalMultiplications),\"trainingMultiplications\":\(trainingMultiplications)}"
    }
}

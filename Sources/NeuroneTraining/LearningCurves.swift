import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneOptim
import NeuroneIO
import NeuroneData
import NeuronePlots

/// Learning curves: loss and accuracy against the epoch, train and validation.
public func learningCurvesSVG(_ history: [EpochRecord], title: String = "") -> String {
    let e = history.map { Double($0.epoch) }
    let loss = LineChart(title: title.isEmpty ? "Loss" : "\(title) — loss", xLabel: "epoch", yLabel: "loss", series: [
        .init(name: "train", color: "#1f77b4", points: Array(zip(e, history.map { $0.trainLoss })).map { ($0.0, $0.1) }),
        .init(name: "validation", color: "#ff7f0e", points: zip(e, history).compactMap { x, r in r.valLoss.map { (x, $0) } }, dashed: true),
    ])
    let acc = LineChart(title: title.isEmpty ? "Accuracy" : "\(title) — accuracy", xLabel: "epoch", yLabel: "accuracy", series: [
        .init(name: "train", color: "#1f77b4", points: Array(zip(e, history.map { $0.trainAccuracy })).map { ($0.0, $0.1) }),
        .init(name: "validation", color: "#ff7f0e", points: zip(e, history).compactMap { x, r in r.valAccuracy.map { (x, $0) } }, dashed: true),
    ])
    return LineChart.svg([loss, acc])
}

import NeuroneIO
import NeuroneDevice
import NeuroneTensor
import Foundation

/// "Nice" tick values covering `lo...hi`: multiples of 1, 2 or 5 × 10^k, about `count` of them.
func niceTicks(_ lo: Double, _ hi: Double, count: Int = 6) -> [Double] {
    guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
    let raw = (hi - lo) / Double(Swift.max(1, count)), mag = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
    var ticks: [Double] = [], v = (lo / step).rounded(.up) * step
    while v <= hi + step * 1e-9 { ticks.append(Swift.abs(v) < step * 1e-9 ? 0 : v); v += step }
    return ticks
}

/// Text escaped for SVG character data and attributes (&, <, >).
func svgEscape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
}

/// The colours of the classes in scatter plots and heat maps (matplotlib's "tab10").
public let plotPalette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

/// A 2-D scatter plot as SVG: one dot per point, coloured by its class, with axes, ticks, axis
/// labels and a legend of the class names (e.g. the latent codes of an autoencoder).
/// - Parameters:
///   - points: (x, y, class index); points with a non-finite coordinate are left out.
///   - classNames: one name per class, in the legend (classes beyond the palette repeat its colours).
public func scatterSVG(points: [(x: Double, y: Double, label: Int)], classNames: [String], title: String,
                       xLabel: String = "x", yLabel: String = "y", width: Double = 520, height: Double = 440) -> String {
    let shown = points.filter { $0.x.isFinite && $0.y.isFinite }
    var x0 = shown.map { $0.x }.min() ?? 0, x1 = shown.map { $0.x }.max() ?? 1
    var y0 = shown.map { $0.y }.min() ?? 0, y1 = shown.map { $0.y }.max() ?? 1
    if x1 - x0 < 1e-12 { x0 -= 0.5; x1 += 0.5 }
    if y1 - y0 < 1e-12 { y0 -= 0.5; y1 += 0.5 }
    // A 4 % margin so no dot sits on the frame.
    let mx = (x1 - x0) * 0.04, my = (y1 - y0) * 0.04
    x0 -= mx; x1 += mx; y0 -= my; y1 += my
    let left = 60.0, right = 100.0, top = 36.0, bottom = 45.0
    let pw = width - left - right, ph = height - top - bottom
    func px(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * pw }
    func py(_ v: Double) -> Double { top + (1 - (v - y0) / (y1 - y0)) * ph }
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    func tick(_ v: Double) -> String { String(format: "%g", (v * 1e6).rounded() / 1e6) }
    func colour(_ k: Int) -> String { plotPalette[((k % plotPalette.count) + plotPalette.count) % plotPalette.count] }
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    s += "<text x=\"\(f(left))\" y=\"22\" font-size=\"14\">\(svgEscape(title))</text>\n"
    for v in niceTicks(x0, x1) {
        s += "<line x1=\"\(f(px(v)))\" y1=\"\(f(top))\" x2=\"\(f(px(v)))\" y2=\"\(f(top + ph))\" stroke=\"#eee\"/>\n"
        s += "<text x=\"\(f(px(v)))\" y=\"\(f(top + ph + 16))\" text-anchor=\"middle\">\(tick(v))</text>\n"
    }
    for v in niceTicks(y0, y1) {
        s += "<line x1=\"\(f(left))\" y1=\"\(f(py(v)))\" x2=\"\(f(left + pw))\" y2=\"\(f(py(v)))\" stroke=\"#eee\"/>\n"
        s += "<text x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(tick(v))</text>\n"
    }
    s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#888\"/>\n"
    s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(svgEscape(xLabel))</text>\n"
    s += "<text x=\"14\" y=\"\(f(top + ph / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(top + ph / 2)))\">\(svgEscape(yLabel))</text>\n"
    for p in shown {
        s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.2\" fill=\"\(colour(p.label))\" fill-opacity=\"0.7\" stroke=\"none\"/>\n"
    }
    for (k, name) in classNames.enumerated() {
        let ly = top + 8 + Double(k) * 18
        s += "<circle cx=\"\(f(left + pw + 16))\" cy=\"\(f(ly))\" r=\"5\" fill=\"\(colour(k))\" stroke=\"none\"/>\n"
        s += "<text x=\"\(f(left + pw + 26))\" y=\"\(f(ly + 4))\">\(svgEscape(name))</text>\n"
    }
    return s + "</svg>\n"
}

/// A matrix as an SVG heat map (e.g. attention weights): cell (i, j) shaded from white (the
/// smallest value, or `range`'s lower bound) to dark blue (the largest), its value printed in it
/// when `showValues`; rows and columns labelled.
public func heatmapSVG(_ values: [[Double]], rowLabels: [String], columnLabels: [String], title: String,
                       rowTitle: String = "", columnTitle: String = "", range: ClosedRange<Double>? = nil,
                       showValues: Bool = true, cell: Double = 34) -> String {
    let rows = values.count, cols = values.map { $0.count }.max() ?? 0
    let finite = values.flatMap { $0 }.filter { $0.isFinite }
    let lo = range?.lowerBound ?? (finite.min() ?? 0), hi = range?.upperBound ?? (finite.max() ?? 1)
    let left = 90.0, top = 70.0
    let width = left + cell * Double(cols) + 20, height = top + cell * Double(rows) + 30
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    s += "<text x=\"10\" y=\"20\" font-size=\"14\">\(svgEscape(title))</text>\n"
    if !columnTitle.isEmpty {
        s += "<text x=\"\(f(left + cell * Double(cols) / 2))\" y=\"\(f(top - 30))\" text-anchor=\"middle\">\(svgEscape(columnTitle))</text>\n"
    }
    if !rowTitle.isEmpty {
        s += "<text x=\"14\" y=\"\(f(top + cell * Double(rows) / 2))\" transform=\"rotate(-90 14 \(f(top + cell * Double(rows) / 2)))\" text-anchor=\"middle\">\(svgEscape(rowTitle))</text>\n"
    }
    for j in 0..<cols where j < columnLabels.count {
        s += "<text x=\"\(f(left + cell * (Double(j) + 0.5)))\" y=\"\(f(top - 8))\" text-anchor=\"middle\">\(svgEscape(columnLabels[j]))</text>\n"
    }
    for i in 0..<rows {
        if i < rowLabels.count {
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(top + cell * (Double(i) + 0.6)))\" text-anchor=\"end\">\(svgEscape(rowLabels[i]))</text>\n"
        }
        for (j, v) in values[i].enumerated() {
            let t = v.isFinite ? Swift.min(1, Swift.max(0, (v - lo) / Swift.max(hi - lo, 1e-300))) : 0
            // White → #08306b (dark blue); text turns white on dark cells.
            let r = Int(255 - t * (255 - 8)), g = Int(255 - t * (255 - 48)), b = Int(255 - t * (255 - 107))
            s += "<rect x=\"\(f(left + cell * Double(j)))\" y=\"\(f(top + cell * Double(i)))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"rgb(\(r),\(g),\(b))\" stroke=\"#ddd\"/>\n"
            if showValues {
                s += "<text x=\"\(f(left + cell * (Double(j) + 0.5)))\" y=\"\(f(top + cell * (Double(i) + 0.62)))\" text-anchor=\"middle\" fill=\"\(t > 0.55 ? "white" : "black")\" font-size=\"9\">\(String(format: "%.2f", v))</text>\n"
            }
        }
    }
    return s + "</svg>\n"
}

import NeuroneIO
import NeuroneDevice
import NeuroneTensor
import Foundation

/// A small SVG line chart: several series against a shared x axis, with axes, ticks and a legend.
public struct LineChart {
    public struct Series {
        public let name: String
        public let color: String
        public let points: [(x: Double, y: Double)]
        public let dashed: Bool
        /// Whether each point gets a dot (off for dense curves).
        public var markers: Bool
        public init(name: String, color: String, points: [(x: Double, y: Double)], dashed: Bool = false, markers: Bool = true) {
            self.name = name; self.color = color; self.points = points; self.dashed = dashed; self.markers = markers
        }
    }

    public let title: String, xLabel: String, yLabel: String
    public let series: [Series]
    public var yRange: ClosedRange<Double>?
    /// A logarithmic y axis (values ≤ 0 are left out); ticks at powers of ten.
    public var logY = false

    public init(title: String, xLabel: String, yLabel: String, series: [Series], yRange: ClosedRange<Double>? = nil) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.yRange = yRange
    }

    /// The chart as an SVG group of the given size, placed at (x, y).
    public func svgGroup(x: Double, y: Double, width: Double, height: Double) -> String {
        let logY = self.logY
        // On a log axis the chart works with log10(y).
        func ty(_ v: Double) -> Double { logY ? (v > 0 ? Foundation.log10(v) : .nan) : v }
        let pts = series.flatMap { $0.points }.map { ($0.x, ty($0.y)) }.filter { $0.1.isFinite }
        let xs = pts.map { $0.0 }, ys = pts.map { $0.1 }
        // Whole-number x values (epochs, layers) keep whole-number ticks; others get "nice" ones.
        let wholeX = xs.allSatisfy { $0 == $0.rounded() }
        var x0 = xs.min() ?? 0, x1 = xs.max() ?? 1
        if wholeX { x1 = Swift.max(x1, x0 + 1) } else if x1 - x0 < 1e-300 { x0 -= 0.5; x1 += 0.5 }
        var y0 = yRange.map { ty($0.lowerBound) } ?? (ys.min() ?? 0), y1 = yRange.map { ty($0.upperBound) } ?? (ys.max() ?? 1)
        if logY { y0 = y0.rounded(.down); y1 = Swift.max(y1.rounded(.up), y0 + 1) }
        if y1 - y0 < 1e-12 { y0 -= 0.5; y1 += 0.5 }
        let left = 60.0, right = 15.0, top = 42.0, bottom = 45.0
        let pw = width - left - right, ph = height - top - bottom
        func px(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * pw }
        func py(_ v: Double) -> Double { top + (1 - (v - y0) / (y1 - y0)) * ph }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = "<g transform=\"translate(" + f(x) + "," + f(y) + ")\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<text x=\"\(f(left))\" y=\"18\" text-anchor=\"start\" font-size=\"14\">\(svgEscape(title))</text>\n"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#888\"/>\n"
        let yTicks: [Double] = logY
            ? stride(from: y0, through: y1 + 1e-9, by: Swift.max(1, ((y1 - y0) / 8).rounded(.up))).map { $0 }
            : (0...4).map { y0 + (y1 - y0) * Double($0) / 4 }
        for v in yTicks {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(v)))\" x2=\"\(f(left + pw))\" y2=\"\(f(py(v)))\" stroke=\"#eee\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(logY ? "1e\(Int(v))" : tick(v))</text>\n"
        }
        // At most about ten ticks on the x axis: whole numbers for whole-number data, else steps of 1, 2 or 5 × 10^k.
        let xTicks: [Double]
        if wholeX {
            let stepX = Swift.max(1.0, ((x1 - x0) / 10).rounded(.up))
            xTicks = Array(stride(from: x0, through: x1 + stepX * 1e-6, by: stepX))
        } else {
            xTicks = niceTicks(x0, x1, count: 8)
        }
        for v in xTicks {
            s += "<text x=\"\(f(px(v)))\" y=\"\(f(top + ph + 16))\" text-anchor=\"middle\">\(tick(v))</text>\n"
        }
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(svgEscape(xLabel))</text>\n"
        s += "<text x=\"14\" y=\"\(f(top + ph / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(top + ph / 2)))\">\(svgEscape(yLabel))</text>\n"
        for (k, serie) in series.enumerated() {
            let shown = serie.points.map { ($0.x, ty($0.y)) }.filter { $0.1.isFinite }
            let path = shown.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(serie.color)\" stroke-width=\"2\"\(serie.dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(path)\"/>\n"
            for p in shown where serie.markers {
                s += "<circle cx=\"\(f(px(p.0)))\" cy=\"\(f(py(p.1)))\" r=\"2.5\" fill=\"\(serie.color)\"/>\n"
            }
            // Legend in the top margin, right-aligned, one entry per series.
            let lx = left + pw - Double(series.count - k) * 95
            s += "<line x1=\"\(f(lx))\" y1=\"\(f(top - 14))\" x2=\"\(f(lx + 20))\" y2=\"\(f(top - 14))\" stroke=\"\(serie.color)\" stroke-width=\"2\"\(serie.dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
            s += "<text x=\"\(f(lx + 24))\" y=\"\(f(top - 10))\">\(svgEscape(serie.name))</text>\n"
        }
        return s + "</g>\n"
    }

    func tick(_ v: Double) -> String {
        if v.rounded() == v && Swift.abs(v) < 1e6 { return String(Int(v)) }
        return Swift.abs(v) >= 0.01 || v == 0 ? String(format: "%.2f", v) : String(format: "%.1e", v)
    }


    /// Several charts side by side in one SVG document.
    public static func svg(_ charts: [LineChart], width: Double = 480, height: Double = 320) -> String {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width) * charts.count)\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width) * charts.count) \(Int(height))\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        for (i, c) in charts.enumerated() { s += c.svgGroup(x: Double(i) * width, y: 0, width: width, height: height) }
        return s + "</svg>\n"
    }
}

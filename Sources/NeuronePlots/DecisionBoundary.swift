import NeuroneIO
import NeuroneDevice
import NeuroneTensor
import Foundation

/// A 2-D classifier's decision regions with the data drawn over them, as SVG: the plane is cut into
/// `resolution`² cells coloured by the class `classify` gives at each cell centre; each point is a
/// marker of its true class (a star for class 1, a circle otherwise, when there are two classes).
public func decisionBoundarySVG(points: [(x: Double, y: Double, label: Int)], classes: Int,
                                xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, resolution: Int = 80,
                                title: String, classify: (Double, Double) -> Int) -> String {
    let size = 420.0, left = 50.0, top = 40.0, bottom = 40.0, right = 15.0
    let width = left + size + right, height = top + size + bottom
    let light = ["#c6dbef", "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1", "#d9d9d9"]
    let strong = ["#2171b5", "#d94801", "#238b45", "#6a51a3", "#cb181d", "#525252"]
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    func px(_ v: Double) -> Double { left + (v - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * size }
    func py(_ v: Double) -> Double { top + (1 - (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)) * size }
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    s += "<text x=\"\(f(left))\" y=\"22\" font-size=\"14\">\(svgEscape(title))</text>\n"
    let cell = size / Double(resolution)
    // One rectangle per run of equal cells in a column (the file stays small at high resolution).
    for i in 0..<resolution {
        let x = xRange.lowerBound + (Double(i) + 0.5) / Double(resolution) * (xRange.upperBound - xRange.lowerBound)
        let classes = (0..<resolution).map { j in
            classify(x, yRange.lowerBound + (Double(j) + 0.5) / Double(resolution) * (yRange.upperBound - yRange.lowerBound))
        }
        var j = 0
        while j < resolution {
            var end = j + 1
            while end < resolution && classes[end] == classes[j] { end += 1 }
            let c = classes[j]
            s += "<rect x=\"\(f(left + Double(i) * cell))\" y=\"\(f(top + size - Double(end) * cell))\" width=\"\(f(cell + 0.3))\" height=\"\(f(Double(end - j) * cell + 0.3))\" fill=\"\(light[((c % light.count) + light.count) % light.count])\" stroke=\"none\"/>\n"
            j = end
        }
    }
    for p in points {
        let colour = strong[((p.label % strong.count) + strong.count) % strong.count]
        let (cx, cy) = (px(p.x), py(p.y))
        if classes == 2 && p.label == 1 {
            let star = (0..<10).map { k -> String in
                let r = k % 2 == 0 ? 5.0 : 2.2, a = Double.pi / 2 + Double(k) * Double.pi / 5
                return "\(f(cx + r * Foundation.cos(a))),\(f(cy - r * Foundation.sin(a)))"
            }.joined(separator: " ")
            s += "<polygon points=\"\(star)\" fill=\"\(colour)\" stroke=\"none\"/>\n"
        } else {
            s += "<circle cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"3\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>\n"
        }
    }
    s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(size))\" height=\"\(f(size))\" fill=\"none\" stroke=\"#888\"/>\n"
    for k in 0...4 {
        let xv = xRange.lowerBound + Double(k) / 4 * (xRange.upperBound - xRange.lowerBound)
        let yv = yRange.lowerBound + Double(k) / 4 * (yRange.upperBound - yRange.lowerBound)
        s += "<text x=\"\(f(px(xv)))\" y=\"\(f(top + size + 16))\" text-anchor=\"middle\">\(String(format: "%g", xv))</text>\n"
        s += "<text x=\"\(f(left - 6))\" y=\"\(f(py(yv) + 4))\" text-anchor=\"end\">\(String(format: "%g", yv))</text>\n"
    }
    return s + "</svg>\n"
}

import NeuroneIO
import NeuroneDevice
import NeuroneTensor
import Foundation

/// A confusion matrix as an SVG heat map: rows are true classes, columns predicted ones, each
/// cell shaded by its share of its row and labelled with its count.
public func confusionMatrixSVG(_ confusion: [[Int]], classNames: [String], title: String = "Confusion matrix") -> String {
    let k = confusion.count
    let cell = 36.0, left = 110.0, top = 60.0
    let width = left + cell * Double(k) + 20, height = top + cell * Double(k) + 60
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    s += "<text x=\"\(f(left))\" y=\"20\" font-size=\"14\">\(svgEscape(title))</text>\n"
    s += "<text x=\"\(f(left + cell * Double(k) / 2))\" y=\"\(f(top - 28))\" text-anchor=\"middle\">predicted</text>\n"
    s += "<text x=\"14\" y=\"\(f(top + cell * Double(k) / 2))\" transform=\"rotate(-90 14 \(f(top + cell * Double(k) / 2)))\" text-anchor=\"middle\">true</text>\n"
    for i in 0..<k {
        let name = i < classNames.count ? classNames[i] : String(i)
        s += "<text x=\"\(f(left - 6))\" y=\"\(f(top + cell * (Double(i) + 0.6)))\" text-anchor=\"end\">\(svgEscape(name))</text>\n"
        s += "<text x=\"\(f(left + cell * (Double(i) + 0.5)))\" y=\"\(f(top - 8))\" text-anchor=\"middle\">\(i)</text>\n"
        let rowTotal = Swift.max(1, confusion[i].reduce(0, +))
        for j in 0..<k {
            let share = Double(confusion[i][j]) / Double(rowTotal)
            let shade = Int(255 - share * 200)
            let color = i == j ? "rgb(\(shade),\(shade),255)" : "rgb(255,\(shade),\(shade))"
            s += "<rect x=\"\(f(left + cell * Double(j)))\" y=\"\(f(top + cell * Double(i)))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"\(color)\" stroke=\"#ccc\"/>\n"
            s += "<text x=\"\(f(left + cell * (Double(j) + 0.5)))\" y=\"\(f(top + cell * (Double(i) + 0.62)))\" text-anchor=\"middle\">\(confusion[i][j])</text>\n"
        }
    }
    return s + "</svg>\n"
}

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import Foundation

/// The course's synthetic data sets, generated from a seed: the same seed gives the same points.
public enum SyntheticSets {
    /// Two interleaving half circles (scikit-learn's `make_moons`): [n, 2] and labels 0/1.
    public static func twoMoons(_ n: Int, noise: Double, _ g: Generator) -> (Tensor, Tensor) {
        var xs: [Double] = [], ys: [Int64] = []
        for i in 0..<n {
            let upper = i < n / 2
            let t = Double.pi * g.nextDouble()
            let (x, y) = upper ? (Foundation.cos(t), Foundation.sin(t)) : (1 - Foundation.cos(t), 0.5 - Foundation.sin(t))
            xs += [x + noise * g.nextNormal(), y + noise * g.nextNormal()]
            ys.append(upper ? 0 : 1)
        }
        return (Tensor(xs, shape: [n, 2], dtype: .float32), Tensor(ys))
    }

    /// Two concentric circles (scikit-learn's `make_circles`), the inner one of radius `factor`.
    public static func circles(_ n: Int, noise: Double, factor: Double, _ g: Generator) -> (Tensor, Tensor) {
        var xs: [Double] = [], ys: [Int64] = []
        for i in 0..<n {
            let outer = i < n / 2
            let t = 2 * Double.pi * g.nextDouble()
            let r = outer ? 1.0 : factor
            xs += [r * Foundation.cos(t) + noise * g.nextNormal(), r * Foundation.sin(t) + noise * g.nextNormal()]
            ys.append(outer ? 0 : 1)
        }
        return (Tensor(xs, shape: [n, 2], dtype: .float32), Tensor(ys))
    }

    /// `classes` interleaved spiral arms (as in CS231n): point j of arm k at radius r = j/perArm and
    /// angle 4r + 2πk/classes (+ normal noise × `noise`), in [−1, 1]².
    public static func spirals(perArm: Int, classes: Int, noise: Double, _ g: Generator) -> (Tensor, Tensor) {
        var xs: [Double] = [], ys: [Int64] = []
        for k in 0..<classes {
            for j in 0..<perArm {
                let r = Double(j) / Double(perArm)
                let t = 4 * r + 2 * Double.pi * Double(k) / Double(classes) + noise * g.nextNormal()
                xs += [r * Foundation.sin(t), r * Foundation.cos(t)]
                ys.append(Int64(k))
            }
        }
        return (Tensor(xs, shape: [perArm * classes, 2], dtype: .float32), Tensor(ys))
    }

    /// "Stars vs circles" (COURSE.md §1): points uniform in [−1, 1]²; the stars (class 1) are those
    /// inside the centred square |x| < 0.5, |y| < 0.5, the circles (class 0) those outside. No line
    /// separates them; one hidden layer of four units (one per side of the square) does — see
    /// `handSetStarsNetwork` in the examples.
    public static func starsAndCircles(_ n: Int, _ g: Generator) -> (Tensor, Tensor) {
        var xs: [Double] = [], ys: [Int64] = []
        for _ in 0..<n {
            let x = 2 * g.nextDouble() - 1, y = 2 * g.nextDouble() - 1
            xs += [x, y]
            ys.append(abs(x) < 0.5 && abs(y) < 0.5 ? 1 : 0)
        }
        return (Tensor(xs, shape: [n, 2], dtype: .float32), Tensor(ys))
    }

    /// The class names of `patterns2x2`.
    public static let patternNames = ["solid", "vertical", "diagonal", "horizontal"]

    /// The slides' 2×2-pixel images [8, 1, 2, 2] with pixels −1 (white) and +1 (black): each of the
    /// four patterns (solid, vertical, diagonal, horizontal) and its negative; labels 0…3.
    public static func patterns2x2() -> (Tensor, Tensor) {
        let base: [[Double]] = [[1, 1, 1, 1], [1, -1, 1, -1], [1, -1, -1, 1], [1, 1, -1, -1]]
        var xs: [Double] = [], ys: [Int64] = []
        for (k, p) in base.enumerated() {
            xs += p; ys.append(Int64(k))
            xs += p.map { -$0 }; ys.append(Int64(k))
        }
        return (Tensor(xs, shape: [8, 1, 2, 2], dtype: .float32), Tensor(ys))
    }

    /// The class names of `shapes64`.
    public static let shapeNames = ["X", "O"]

    /// 64×64 grey images [n, 1, 64, 64] of an "X" (class 0) or an "O" (class 1, a square ring), each
    /// drawn 2 pixels thick in a box of 9 to 15 pixels, on a background with uniform noise of
    /// amplitude 0.1. Centred: the box's centre is the image's ±1 pixel; shifted: anywhere the
    /// whole shape fits (COURSE.md §7, translation invariance).
    public static func shapes64(_ n: Int, shifted: Bool, _ g: Generator) -> (Tensor, Tensor) {
        let side = 64
        var pixels = [Float](repeating: 0, count: n * side * side), ys = [Int64](repeating: 0, count: n)
        for i in 0..<n {
            let label = Int(g.nextInt(below: 2)), size = 9 + Int(g.nextInt(below: 7))
            let x0: Int, y0: Int
            if shifted {
                x0 = Int(g.nextInt(below: UInt64(side - size + 1))); y0 = Int(g.nextInt(below: UInt64(side - size + 1)))
            } else {
                x0 = (side - size) / 2 + Int(g.nextInt(below: 3)) - 1; y0 = (side - size) / 2 + Int(g.nextInt(below: 3)) - 1
            }
            let base = i * side * side
            for p in 0..<(side * side) { pixels[base + p] = 0.1 * g.nextFloat() }
            for a in 0..<size { for b in 0..<size {
                let on: Bool
                if label == 0 { on = abs(a - b) <= 1 || abs(a + b - (size - 1)) <= 1 }
                else { on = a < 2 || b < 2 || a >= size - 2 || b >= size - 2 }
                if on { pixels[base + (y0 + a) * side + x0 + b] = 1 }
            } }
            ys[i] = Int64(label)
        }
        return (Tensor(pixels, shape: [n, 1, side, side]), Tensor(ys))
    }
}

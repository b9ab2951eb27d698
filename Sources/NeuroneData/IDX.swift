import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import Foundation

/// The IDX format of MNIST and Fashion-MNIST (raw or gzip-compressed): a magic number
/// 0x00 0x00 TYPE DIMS, DIMS big-endian 32-bit sizes, then the values big-endian.
public enum IDX {
    /// Reads a file's bytes, decompressing gzip or bzip2 data (detected by its magic bytes).
    public static func readBytes(_ path: String) throws -> [UInt8] { try CompressedFile.read(path) }

    /// Parses unsigned-byte IDX data into its shape and values; errors name the file.
    public static func parseUInt8(_ bytes: [UInt8], source: String, expectedRank: Int) throws -> (shape: [Int], values: [UInt8]) {
        func bad(_ why: String) -> DataSetError { DataSetError(message: "\(source): \(why)") }
        guard bytes.count >= 4 else { throw bad("file too short (\(bytes.count) bytes) to be an IDX file") }
        guard bytes[0] == 0 && bytes[1] == 0 else {
            throw bad(String(format: "wrong magic number 0x%02x%02x%02x%02x: not an IDX file", bytes[0], bytes[1], bytes[2], bytes[3]))
        }
        guard bytes[2] == 0x08 else { throw bad(String(format: "element type 0x%02x; expected 0x08 (unsigned bytes)", bytes[2])) }
        let rank = Int(bytes[3])
        guard rank == expectedRank else { throw bad("has \(rank) dimensions; expected \(expectedRank)") }
        guard bytes.count >= 4 + 4 * rank else { throw bad("header truncated") }
        var shape: [Int] = []
        for d in 0..<rank {
            let o = 4 + 4 * d
            shape.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        let header = 4 + 4 * rank
        guard let count = CheckedSize.product(shape) else {
            throw bad("the header announces \(shape.map(String.init).joined(separator: "×")) values, a count too large to exist: not an IDX file or corrupted")
        }
        guard bytes.count - header == count else {
            throw bad("the header announces \(shape.map(String.init).joined(separator: "×")) = \(count) values but the file holds \(bytes.count - header) (truncated or corrupted)")
        }
        return (shape, Array(bytes[header...]))
    }
}

extension DataSets {
    /// The four IDX files of an MNIST-style data set.
    static let idxFiles = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]

    /// The directories searched for `name`, in order.
    public static func searchDirectories(_ name: String, dataDir: String?) -> [String] {
        var dirs: [String] = []
        if let d = dataDir { dirs += [d, d + "/" + name] }
        if let e = ProcessInfo.processInfo.environment["NEURONE_DATA"], !e.isEmpty { dirs += [e, e + "/" + name] }
        dirs.append(FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/neurone/" + name)
        if name == "fashion-mnist" { dirs.append("/usr/share/datasets/fashion-mnist") }
        return dirs
    }

    /// MNIST or Fashion-MNIST from their IDX files (gzip or raw): images [N, 1, 28, 28] scaled to [0, 1].
    public static func mnistStyle(_ name: String, dataDir: String?) throws -> DataSetSplits {
        let dirs = searchDirectories(name, dataDir: dataDir)
        func find(_ base: String) -> String? {
            for d in dirs { for suffix in [".gz", ""] {
                let p = d + "/" + base + suffix
                if FileManager.default.fileExists(atPath: p) { return p }
            } }
            return nil
        }
        let paths = idxFiles.map(find)
        if paths.contains(where: { $0 == nil }) {
            let missing = zip(idxFiles, paths).filter { $0.1 == nil }.map { $0.0 + "[.gz]" }
            let how = name == "fashion-mnist"
                ? "On Debian/Ubuntu: apt-get install dataset-fashion-mnist (it puts them in /usr/share/datasets/fashion-mnist); elsewhere, copy the four files of the Fashion-MNIST project (zalandoresearch/fashion-mnist, folder data/fashion) into one of these directories"
                : "Copy the four MNIST files (from any MNIST mirror) into one of these directories"
            throw DataSetError(message: "\(name): could not find \(missing.joined(separator: ", ")); looked in \(dirs.joined(separator: ", ")). \(how), pass --data-dir DIR, or download them with: neurone data download \(name) (or --download)", filesMissing: true)
        }
        let classNames = name == "fashion-mnist"
            ? ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
            : (0..<10).map(String.init)
        func split(_ imagesPath: String, _ labelsPath: String) throws -> TensorDataset {
            let (ishape, ivals) = try IDX.parseUInt8(IDX.readBytes(imagesPath), source: imagesPath, expectedRank: 3)
            let (lshape, lvals) = try IDX.parseUInt8(IDX.readBytes(labelsPath), source: labelsPath, expectedRank: 1)
            guard ishape[0] == lshape[0] else {
                throw DataSetError(message: "\(imagesPath) holds \(ishape[0]) images but \(labelsPath) holds \(lshape[0]) labels")
            }
            if let i = lvals.firstIndex(where: { $0 > 9 }) {
                throw DataSetError(message: "\(labelsPath): label \(lvals[i]) at index \(i) is out of range 0...9")
            }
            let n = ishape[0], h = ishape[1], w = ishape[2]
            let images = Tensor.fromHost([n, 1, h, w], dtype: .float32) { raw in
                let p = raw.assumingMemoryBound(to: Float.self)
                ivals.withUnsafeBufferPointer { src in
                    for i in 0..<src.count { p[i] = Float(src[i]) * (1 / 255) }
                }
            }
            return TensorDataset(inputs: images, labels: Tensor(lvals.map { Int64($0) }), classNames: classNames)
        }
        let train = try split(paths[0]!, paths[1]!)
        let test = try split(paths[2]!, paths[3]!)
        guard train.sampleShape == test.sampleShape else {
            throw DataSetError(message: "\(paths[0]!) holds images of \(train.sampleShape.dropFirst().map(String.init).joined(separator: "×")) pixels but \(paths[2]!) holds \(test.sampleShape.dropFirst().map(String.init).joined(separator: "×")): the training and test files must have one image size")
        }
        return DataSetSplits(name: name, train: train, test: test,
                             description: "\(name) from \(URL(fileURLWithPath: paths[0]!).deletingLastPathComponent().path): \(train.count) train, \(test.count) test images 1×28×28, 10 classes")
    }
}

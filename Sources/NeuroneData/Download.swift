import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import NeuroneIO
import Foundation

/// Downloads a file from the first mirror that answers, with the system's `curl` (or `wget`), into
/// `path`: the bytes go to a temporary file beside it, their MD5 is checked, and only then is the
/// file renamed into place — a failed or corrupted download leaves nothing behind.
public enum Download {
    /// A download that failed on every mirror; says what each one answered.
    public struct Failure: Error, CustomStringConvertible {
        /// The reasons, mirror by mirror.
        public let message: String
        public var description: String { message }
    }

    /// The downloader found on PATH (curl first), or nil.
    static func tool() -> (path: String, args: (String, String) -> [String])? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":").map(String.init) {
            if FileManager.default.isExecutableFile(atPath: dir + "/curl") {
                return (dir + "/curl", { url, out in ["-fsSL", "--retry", "2", "--connect-timeout", "20", "-o", out, url] })
            }
        }
        for dir in path.split(separator: ":").map(String.init) {
            if FileManager.default.isExecutableFile(atPath: dir + "/wget") {
                return (dir + "/wget", { url, out in ["-q", "--tries=2", "--timeout=20", "-O", out, url] })
            }
        }
        return nil
    }

    /// Fetches `file` from the mirrors (each a URL prefix ending in "/") into `path`, checking `md5`.
    public static func fetch(_ file: String, mirrors: [String], md5: String, to path: String) throws {
        guard let (tool, args) = tool() else {
            throw Failure(message: "cannot download \(file): neither curl nor wget is installed (apt-get install curl)")
        }
        let tmp = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(".\(file).part-\(getpid())").path
        var reasons: [String] = []
        for mirror in mirrors {
            let url = mirror + file
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = args(url, tmp)
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            do { try process.run() } catch { reasons.append("\(url): cannot run \(tool): \(error.localizedDescription)"); continue }
            let stderrText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                let why = stderrText.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
                reasons.append("\(url): \(why)")
                continue
            }
            guard let data = FileManager.default.contents(atPath: tmp) else { reasons.append("\(url): nothing was written"); continue }
            let got = MD5.hex([UInt8](data))
            guard got == md5 else {
                reasons.append("\(url): checksum mismatch (MD5 \(got), expected \(md5)); the file was discarded")
                continue
            }
            guard rename(tmp, path) == 0 else {
                throw Failure(message: "cannot move the download of \(file) to \(path): \(String(cString: strerror(errno)))")
            }
            return
        }
        throw Failure(message: "could not download \(file): " + reasons.joined(separator: "; "))
    }
}

extension DataSets {
    /// A data set's files as published: file names, their MD5 and the mirrors that serve them
    /// (those torchvision uses).
    public struct Source: Sendable {
        /// URL prefixes, tried in order.
        public let mirrors: [String]
        /// (file name, MD5) pairs.
        public let files: [(String, String)]
    }

    /// The data sets that can be downloaded, by name.
    public static let sources: [String: Source] = [
        "mnist": Source(mirrors: ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
                        files: [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                                ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                                ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                                ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]),
        "fashion-mnist": Source(mirrors: ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
                                files: [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                                        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                                        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                                        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]),
        "usps": Source(mirrors: ["https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/"],
                       files: [("usps.bz2", "ec16c51db3855ca6c91edd34d0e9b197"), ("usps.t.bz2", "8ea070ee2aca1ac39742fdd1ef5ed118")]),
    ]

    /// The cache directory of a data set: `~/.cache/neurone/NAME`.
    public static func cacheDirectory(_ name: String) -> String {
        FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/neurone/" + name
    }

    /// Downloads the files of `name` into `directory` (default: its cache directory), skipping those
    /// already there with the right checksum; returns the paths. `mirrors` replaces the published ones.
    @discardableResult
    public static func download(_ name: String, into directory: String? = nil, mirrors: [String]? = nil,
                                log: ((String) -> Void)? = nil) throws -> [String] {
        guard let source = sources[name.lowercased()] else {
            throw DataSetError(message: "'\(name)' cannot be downloaded; downloadable data sets: \(sources.keys.sorted().joined(separator: ", "))")
        }
        let dir = directory ?? cacheDirectory(name.lowercased())
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        catch { throw DataSetError(message: "cannot create \(dir): \(error.localizedDescription)") }
        var paths: [String] = []
        for (file, md5) in source.files {
            let path = dir + "/" + file
            if let data = FileManager.default.contents(atPath: path), MD5.hex([UInt8](data)) == md5 {
                log?("\(path): present, checksum verified")
            } else {
                log?("downloading \(file) into \(dir)")
                do { try Download.fetch(file, mirrors: mirrors ?? source.mirrors, md5: md5, to: path) }
                catch let f as Download.Failure { throw DataSetError(message: "\(name): \(f.message)") }
            }
            paths.append(path)
        }
        return paths
    }
}

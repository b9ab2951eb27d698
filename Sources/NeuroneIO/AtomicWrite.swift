import NeuroneDevice
import NeuroneTensor
import NeuroneNN
import Foundation

/// A file could not be written; names the file and the reason.
public struct FileWriteError: Error, CustomStringConvertible {
    /// What went wrong, with the path.
    public let message: String
    public var description: String { message }
}

/// Writes bytes to `path` through a temporary file in the same directory and a rename(2), which
/// replaces the destination atomically: a reader never sees a half-written file, and a failed
/// write leaves nothing behind.
public func writeFileAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    do {
        try data.write(to: tmp)
    } catch {
        try? FileManager.default.removeItem(at: tmp)
        throw FileWriteError(message: "cannot write \(path): \(error.localizedDescription)")
    }
    guard rename(tmp.path, url.path) == 0 else {
        let why = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: tmp)
        throw FileWriteError(message: "cannot write \(path): \(why)")
    }
}

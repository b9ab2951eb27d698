import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on an output directory, held while a process writes into it: a second
/// process asking for it gets an error naming the first (its pid), instead of both overwriting
/// each other's checkpoints. `flock(2)` on `DIR/.neurone.lock`: the system releases it when the
/// holder exits, however it exits, so a killed run leaves no stale lock.
public final class DirectoryLock {
    /// The locked directory.
    public let directory: String
    private let fd: Int32

    /// Locks `directory` (which must exist) for `purpose` ("training"), or throws naming the
    /// process that holds it.
    public init(_ directory: String, purpose: String) throws {
        self.directory = directory
        let path = directory + "/.neurone.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileWriteError(message: "cannot lock \(directory) for \(purpose): cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let why = errno
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let holder = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            if why == EWOULDBLOCK {
                throw FileWriteError(message: "\(directory) is in use by another neurone process (\(holder.isEmpty ? "pid unknown" : holder)) writing into it; wait for it to finish or choose another --out")
            }
            throw FileWriteError(message: "cannot lock \(directory) for \(purpose): \(String(cString: strerror(why)))")
        }
        let text = Array("pid \(getpid()), \(purpose)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, text, text.count, 0)
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

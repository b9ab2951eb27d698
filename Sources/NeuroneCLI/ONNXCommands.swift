import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `neurone export` and `neurone import` are the program `neurone-onnx` (git's way with its
/// subcommands): ONNX needs the protobuf library, which would make `neurone`'s first build
/// minutes longer for everyone. `neurone-onnx` is looked for beside `neurone`, then on PATH.
enum ONNXProgram {
    static let name = "neurone-onnx"

    /// The neurone-onnx executable, if built.
    static func find() -> String? {
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path)
        }
        let argv0 = CommandLine.arguments.first ?? ""
        if argv0.contains("/") { candidates.append(URL(fileURLWithPath: argv0).deletingLastPathComponent().appendingPathComponent(name).path) }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") { candidates.append("\(dir)/\(name)") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Replaces this process with `neurone-onnx SUBCOMMAND ARGUMENTS…`; throws when it is not built.
    static func run(_ subcommand: String, _ arguments: [String]) throws -> Never {
        guard let path = find() else {
            throw ProgramError(message: """
                neurone \(subcommand) runs the program \(name), which is not built. Build it with
                  swift build -c release --product \(name)
                (it sits beside neurone in .build/release; it is a separate program because it compiles the protobuf library, which neurone itself does not need)
                """)
        }
        let argv = [path, subcommand] + arguments
        var cArgs = argv.map { strdup($0) }
        cArgs.append(nil)
        execv(path, &cArgs)
        throw ProgramError(message: "cannot run \(path): \(String(cString: strerror(errno)))")
    }
}

/// A helper program that cannot run (printed as "Error: MESSAGE", without a usage line).
struct ProgramError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a trained model as an ONNX file (runs neurone-onnx export; --help lists its options).",
        discussion: "neurone export --checkpoint DIR|FILE [--model SPEC|NAME --input SHAPE] --onnx OUT.onnx [--opset 17] [--dynamic-batch]",
        helpNames: [])

    @Argument(parsing: .captureForPassthrough, help: "The options of neurone-onnx export (--help shows them).")
    var arguments: [String] = []

    func run() throws { try ONNXProgram.run("export", arguments) }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read an ONNX model as a Neurone checkpoint directory (runs neurone-onnx import; --help lists its options).",
        discussion: "neurone import --onnx IN.onnx --out DIR [--dataset NAME]",
        helpNames: [])

    @Argument(parsing: .captureForPassthrough, help: "The options of neurone-onnx import (--help shows them).")
    var arguments: [String] = []

    func run() throws { try ONNXProgram.run("import", arguments) }
}

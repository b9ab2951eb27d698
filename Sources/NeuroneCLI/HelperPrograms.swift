import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Commands that are programs of their own (git's way with its subcommands), so that `neurone`'s
/// first build does not compile libraries most users never need: `neurone export` and `neurone
/// import` run `neurone-onnx` (the protobuf library), `neurone serve` runs `neurone-serve`
/// (Hummingbird and SwiftNIO). A helper is looked for beside `neurone`, then on PATH.
struct HelperProgram {
    let name: String
    /// What it compiles that neurone does not (said when it is missing).
    let why: String

    static let onnx = HelperProgram(name: "neurone-onnx", why: "the protobuf library")
    static let serve = HelperProgram(name: "neurone-serve", why: "the Hummingbird web server and SwiftNIO")

    /// The executable, if built.
    func find() -> String? {
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path)
        }
        let argv0 = CommandLine.arguments.first ?? ""
        if argv0.contains("/") { candidates.append(URL(fileURLWithPath: argv0).deletingLastPathComponent().appendingPathComponent(name).path) }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") { candidates.append("\(dir)/\(name)") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Replaces this process with the helper, given `arguments`; throws when it is not built.
    func run(_ command: String, _ arguments: [String]) throws -> Never {
        guard let path = find() else {
            throw ProgramError(message: """
                neurone \(command) runs the program \(name), which is not built. Build it with
                  swift build -c release --product \(name)
                (it sits beside neurone in .build/release; it is a separate program because it compiles \(why), which neurone itself does not need)
                """)
        }
        let argv = [path] + arguments
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

    func run() throws { try HelperProgram.onnx.run("export", ["export"] + arguments) }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read an ONNX model as a Neurone checkpoint directory (runs neurone-onnx import; --help lists its options).",
        discussion: "neurone import --onnx IN.onnx --out DIR [--dataset NAME]",
        helpNames: [])

    @Argument(parsing: .captureForPassthrough, help: "The options of neurone-onnx import (--help shows them).")
    var arguments: [String] = []

    func run() throws { try HelperProgram.onnx.run("import", ["import"] + arguments) }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the playground: a network training live in your browser (runs neurone-serve; --help lists its options).",
        discussion: "neurone serve [--port 8080] [--host 127.0.0.1] [--max-sessions 32]",
        helpNames: [])

    @Argument(parsing: .captureForPassthrough, help: "The options of neurone-serve (--help shows them).")
    var arguments: [String] = []

    func run() throws { try HelperProgram.serve.run("serve", arguments) }
}

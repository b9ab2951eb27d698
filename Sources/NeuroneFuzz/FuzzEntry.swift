import Foundation

#if NEURONE_LIBFUZZER
// Built by `scripts/fuzz build` with -sanitize=fuzzer: libFuzzer's main calls this with each
// input it makes; NEURONE_FUZZ_TARGET names the target.
private let selectedTarget: String = {
    FuzzTargets.limitAllocations()
    guard let name = ProcessInfo.processInfo.environment["NEURONE_FUZZ_TARGET"], FuzzTargets.names.contains(name) else {
        fatalError("neurone-fuzz: set NEURONE_FUZZ_TARGET to one of \(FuzzTargets.names.joined(separator: ", "))")
    }
    return name
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTargets.run(selectedTarget, bytes)
    return 0
}

/// libFuzzer's driver (the runtime -sanitize=fuzzer links).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point under the name `<module>_main`: here it hands the
/// command line to libFuzzer's driver.
@_cdecl("neurone_fuzz_main")
public func neuroneFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOneInput(data, size) }
}
#else
/// Without libFuzzer: `neurone-fuzz TARGET PATH…` runs the target once on each file (directories
/// are read recursively) — how CI replays the committed corpus and every crash ever found.
@main
struct FuzzReplay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let target = args.first, FuzzTargets.names.contains(target), args.count >= 2 else {
            FileHandle.standardError.write(Data("usage: neurone-fuzz TARGET FILE|DIR…  (targets: \(FuzzTargets.names.joined(separator: ", ")))\n".utf8))
            exit(2)
        }
        FuzzTargets.limitAllocations()
        var count = 0
        for path in args.dropFirst() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                FileHandle.standardError.write(Data("neurone-fuzz: \(path) does not exist\n".utf8))
                exit(2)
            }
            let files = isDir.boolValue
                ? (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String }.sorted().map { path + "/" + $0 } ?? [])
                : [path]
            for file in files {
                var sub: ObjCBool = false
                guard FileManager.default.fileExists(atPath: file, isDirectory: &sub), !sub.boolValue,
                      let data = FileManager.default.contents(atPath: file) else { continue }
                FuzzTargets.run(target, [UInt8](data))
                count += 1
            }
        }
        print("neurone-fuzz \(target): \(count) inputs, no crash")
    }
}
#endif

import ArgumentParser
import Neurone

/// `neurone info`: which kernels and libraries this machine will use.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the device backend, BLAS library, kernels and thread count in use.",
        discussion: """
            A BLAS library found at run time is checked before it is trusted: its products are \
            compared with the built-in kernel's (a library that disagrees is not used), then its \
            speed against the built-in kernel's on three classes of product (large: m, n, k ≥ 256; \
            small-rows: a batch of rows through a layer; short-k: a sum over a batch) decides which \
            path each class takes. The decision is cached per library file and CPU in \
            NEURONE_CACHE_DIR (default ~/.cache/neurone); NEURONE_GEMM=blas or builtin overrides it, \
            NEURONE_BLAS=none or a path chooses the library, NEURONE_KERNEL=generic|avx2|avx512 caps \
            the C kernels' instruction set.
            """)

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "Measure the BLAS library against the built-in kernel again (the cached decision is replaced).")
    var recheck = false

    func run() {
        let blas = Gemm.blasName ?? ""
        let decision = recheck ? Gemm.recheckBLAS() : Gemm.blasDecision
        if json {
            var classes: [String] = []
            for c in GemmShapeClass.allCases {
                guard let d = decision, let ch = d.choices[c] else { continue }
                classes.append("\"\(c.rawValue)\":{\"path\":\"\(ch.useBLAS ? "blas" : "builtin")\",\"blas_gflops\":\(ch.blasGflops),\"builtin_gflops\":\(ch.builtinGflops)}")
            }
            let origin: String
            switch decision?.origin {
            case .measured?: origin = "measured"
            case .cached?: origin = "cached"
            case .environment?: origin = "NEURONE_GEMM"
            case nil: origin = ""
            }
            let rejected = Gemm.blasRejection.map { ",\"blas_rejected\":\(jsonString($0))" } ?? ""
            let core = decision?.core.map { ",\"blas_core\":\(jsonString($0))" } ?? ""
            print("{\"backend\":\"\(Device.default.name)\",\"blas\":\"\(blas)\"\(core)\(rejected),\"gemm_backend\":\"\(Gemm.backend.rawValue)\",\"gemm_classes\":{\(classes.joined(separator: ","))},\"gemm_decision\":\"\(origin)\",\"builtin_kernel\":\"\(Gemm.builtinKernelName)\",\"threads\":\(Threading.threadCount),\"cores\":\(Threading.coreCount)}")
        } else {
            print("backend:          \(Device.default.name) (the device new tensors go to; NEURONE_DEVICE picks one of \(Device.registered.map { $0.name }.joined(separator: ", ")))")
            if let why = Gemm.blasRejection {
                print("BLAS library:     not used: \(why)")
            } else {
                print("BLAS library:     \(blas.isEmpty ? "none found" : blas)\(decision.map { " (\($0.libraryPath)\($0.core.map { ", OpenBLAS core \($0)" } ?? ""))" } ?? "")")
            }
            if let d = decision {
                let origin: String
                switch d.origin {
                case .measured: origin = "measured now, float32, one thread each"
                case .cached(let file): origin = "measured earlier, cached in \(file); neurone info --recheck measures again"
                case .environment: origin = "forced by NEURONE_GEMM"
                }
                print("GEMM per class:   (\(origin))")
                for line in d.lines { print("  " + line) }
                if let w = d.coreNote { print("note:             \(w)") }
            }
            print("GEMM backend:     \(Gemm.backend.rawValue)")
            print("built-in kernel:  \(Gemm.builtinKernelName)")
            print("threads:          \(Threading.threadCount) (cores: \(Threading.coreCount); set NEURONE_NUM_THREADS to change)")
            print(Gemm.pathDescription)
        }
    }
}


import ArgumentParser
import Neurone

/// `neurone info`: which kernels and libraries this machine will use.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the device backend, BLAS library, kernels and thread count in use.")

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() {
        let blas = Gemm.blasName ?? ""
        if json {
            print("{\"backend\":\"\(Device.default.name)\",\"blas\":\"\(blas)\",\"gemm_backend\":\"\(Gemm.backend.rawValue)\",\"builtin_kernel\":\"\(Gemm.builtinKernelName)\",\"threads\":\(Threading.threadCount),\"cores\":\(Threading.coreCount)}")
        } else {
            print("backend:          \(Device.default.name) (the device new tensors go to; NEURONE_DEVICE picks one of \(Device.registered.map { $0.name }.joined(separator: ", ")))")
            print("BLAS library:     \(blas.isEmpty ? "none found" : blas)")
            print("GEMM backend:     \(Gemm.backend.rawValue)")
            print("built-in kernel:  \(Gemm.builtinKernelName)")
            print("threads:          \(Threading.threadCount) (cores: \(Threading.coreCount); set NEURONE_NUM_THREADS to change)")
            print(Gemm.pathDescription)
        }
    }
}

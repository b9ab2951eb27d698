// swift-tools-version:5.9
import PackageDescription

// One target per layer (docs/ARCHITECTURE.md); each may import only the targets listed as its
// dependencies, so the compiler refuses an upward import:
//   CNeuroneKernels   C compute kernels (libc only)        CNeuroneData   gzip/bzip2, embedded MNIST bytes (libc only)
//   NeuroneDevice     DType, Device, Storage, the Backend protocol and its op descriptions
//   NeuroneCPU        the CPU backend: its kernels, BLAS loading, threads        (Device, CNeuroneKernels)
//   NeuroneReference  the reference backend: plain float64 loops, the oracle       (Device)
//   NeuroneTensor     Tensor, autograd, the device registry                      (Device, CPU, Reference)
//   NeuroneNN         modules, layers, functional ops, losses, init, models     (Tensor)
//   NeuroneOptim      optimisers, schedules, clipping                            (NN)
//   NeuroneIO         files: safetensors, PNG/PGM, compressed files             (NN, CNeuroneData)
//   NeuroneData       data sets, formats, transforms, loaders, downloads         (IO)
//   NeuronePlots      SVG charts and image grids                                 (IO)
//   CNeuroneMPI       Open MPI found at run time (dlopen; libc only)
//   NeuroneDistributed  process groups (MPI), DistributedDataParallel            (NN, CNeuroneMPI)
//   NeuroneTraining   the training loop, runs, checkpoints, learning curves      (Optim, Data, Plots, Distributed)
//   NeuroneExplain    the course companion                                       (Training)
//   Neurone           the umbrella: re-exports all of the above (`import Neurone`)
//   NeuroneCLI        the `neurone` command (Neurone, ArgumentParser)
//   NeuroneONNXProto  onnx.proto's generated Swift code (SwiftProtobuf; scripts/generate_onnx_proto)
//   NeuroneONNX       ONNX export and import                                     (NN, IO, Data, ONNXProto)
//   NeuroneONNXCLI    `neurone-onnx`, which `neurone export` and `neurone import` run (Neurone, ONNX)
//   NeuronePlayground the playground's sessions: data sets, networks, frames, messages (Explain)
//   NeuroneServer     the playground's HTTP and WebSocket server and its page     (Playground, Hummingbird)
//   NeuroneServeCLI   `neurone-serve`, which `neurone serve` runs                (Server, ArgumentParser)
let package = Package(
    name: "Neurone",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Neurone", targets: ["Neurone"]),
        .executable(name: "neurone", targets: ["NeuroneCLI"]),
        .library(name: "NeuroneONNX", targets: ["NeuroneONNX"]),
        .executable(name: "neurone-onnx", targets: ["NeuroneONNXCLI"]),
        .executable(name: "neurone-serve", targets: ["NeuroneServeCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
    ],
    targets: [
        .target(name: "CNeuroneKernels", path: "Sources/CNeuroneKernels"),
        .target(name: "CNeuroneData", path: "Sources/CNeuroneData"),
        .target(name: "CNeuroneMPI", path: "Sources/CNeuroneMPI", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .target(name: "NeuroneDevice", path: "Sources/NeuroneDevice"),
        .target(name: "NeuroneCPU", dependencies: ["NeuroneDevice", "CNeuroneKernels"], path: "Sources/NeuroneCPU"),
        .target(name: "NeuroneReference", dependencies: ["NeuroneDevice"], path: "Sources/NeuroneReference"),
        .target(name: "NeuroneTensor", dependencies: ["NeuroneDevice", "NeuroneCPU", "NeuroneReference"], path: "Sources/NeuroneTensor"),
        .target(name: "NeuroneNN", dependencies: ["NeuroneTensor"], path: "Sources/NeuroneNN"),
        .target(name: "NeuroneOptim", dependencies: ["NeuroneNN"], path: "Sources/NeuroneOptim"),
        .target(name: "NeuroneIO", dependencies: ["NeuroneNN", "CNeuroneData"], path: "Sources/NeuroneIO"),
        .target(name: "NeuroneData", dependencies: ["NeuroneIO", "CNeuroneData"], path: "Sources/NeuroneData"),
        .target(name: "NeuronePlots", dependencies: ["NeuroneIO"], path: "Sources/NeuronePlots"),
        .target(name: "NeuroneDistributed", dependencies: ["NeuroneNN", "CNeuroneMPI"], path: "Sources/NeuroneDistributed"),
        .target(name: "NeuroneTraining", dependencies: ["NeuroneOptim", "NeuroneData", "NeuronePlots", "NeuroneDistributed"], path: "Sources/NeuroneTraining"),
        .target(name: "NeuroneExplain", dependencies: ["NeuroneTraining"], path: "Sources/NeuroneExplain"),
        .target(name: "Neurone", dependencies: ["NeuroneDevice", "NeuroneCPU", "NeuroneReference", "NeuroneTensor", "NeuroneNN", "NeuroneOptim", "NeuroneIO",
                                                "NeuroneData", "NeuronePlots", "NeuroneDistributed", "NeuroneTraining", "NeuroneExplain"],
                path: "Sources/Neurone"),
        // ONNX export and import, kept out of `neurone` so that its first build does not compile
        // the protobuf library: `neurone export/import` run the `neurone-onnx` program beside it.
        .target(name: "NeuroneONNXProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Sources/NeuroneONNXProto"),
        .target(name: "NeuroneONNX", dependencies: ["NeuroneNN", "NeuroneIO", "NeuroneData", "NeuroneONNXProto"], path: "Sources/NeuroneONNX"),
        .executableTarget(
            name: "NeuroneONNXCLI",
            dependencies: ["Neurone", "NeuroneONNX", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/NeuroneONNXCLI"),
        // The playground, kept out of `neurone` for the same reason (Hummingbird and SwiftNIO):
        // `neurone serve` runs the `neurone-serve` program beside it.
        .target(name: "NeuronePlayground", dependencies: ["NeuroneExplain"], path: "Sources/NeuronePlayground"),
        .target(name: "NeuroneServer",
                dependencies: ["NeuronePlayground", .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket")],
                path: "Sources/NeuroneServer"),
        .executableTarget(
            name: "NeuroneServeCLI",
            dependencies: ["NeuroneServer", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/NeuroneServeCLI"),
        .executableTarget(
            name: "NeuroneCLI",
            dependencies: ["Neurone", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/NeuroneCLI"),
        // The course's runnable examples (Examples/, docs/course/): swift run -c release NAME [--quick]
        // Fuzz targets of the parsers (scripts/fuzz): a replay tool in a plain build, libFuzzer's
        // entry point when built with -sanitize=fuzzer -DNEURONE_LIBFUZZER.
        .executableTarget(name: "neurone-fuzz", dependencies: ["Neurone", "NeuroneONNX", "NeuronePlayground"], path: "Sources/NeuroneFuzz"),
        .executableTarget(name: "perceptron-xor", dependencies: ["Neurone"], path: "Examples/perceptron-xor"),
        .executableTarget(name: "stars-circles", dependencies: ["Neurone"], path: "Examples/stars-circles"),
        .executableTarget(name: "patterns-2x2", dependencies: ["Neurone"], path: "Examples/patterns-2x2"),
        .executableTarget(name: "identity-network", dependencies: ["Neurone"], path: "Examples/identity-network"),
        .executableTarget(name: "gradient-descent", dependencies: ["Neurone"], path: "Examples/gradient-descent"),
        .executableTarget(name: "translation-invariance", dependencies: ["Neurone"], path: "Examples/translation-invariance"),
        .executableTarget(name: "digits-models", dependencies: ["Neurone"], path: "Examples/digits-models"),
        .executableTarget(name: "siamese", dependencies: ["Neurone"], path: "Examples/siamese"),
        .executableTarget(name: "autoencoders", dependencies: ["Neurone"], path: "Examples/autoencoders"),
        .executableTarget(name: "self-attention", dependencies: ["Neurone"], path: "Examples/self-attention"),
        .executableTarget(name: "language-models", dependencies: ["Neurone"], path: "Examples/language-models"),
        .testTarget(
            name: "NeuroneTests", dependencies: ["Neurone", "NeuroneONNX"], path: "Tests/NeuroneTests",
            resources: [.copy("Reference")]),
        .testTarget(
            name: "NeuroneServerTests",
            dependencies: ["NeuronePlayground", "NeuroneServer",
                           .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket")],
            path: "Tests/NeuroneServerTests"),
    ]
)

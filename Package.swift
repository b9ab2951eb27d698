// swift-tools-version:5.9
import PackageDescription

// Layers (see docs/ARCHITECTURE.md):
//   CNeuroneKernels  — C kernels (GEMM micro-kernels, vectorised transcendentals), no dependencies.
//   Neurone          — Storage/ Kernels/ (may import CNeuroneKernels), Tensor/, Autograd/.
//   NeuroneCLI       — the `neurone` command; imports Neurone and ArgumentParser only.
let package = Package(
    name: "Neurone",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Neurone", targets: ["Neurone"]),
        .executable(name: "neurone", targets: ["NeuroneCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CNeuroneKernels", path: "Sources/CNeuroneKernels"),
        .target(name: "Neurone", dependencies: ["CNeuroneKernels"], path: "Sources/Neurone"),
        .executableTarget(
            name: "NeuroneCLI",
            dependencies: ["Neurone", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/NeuroneCLI"),
        // The course's runnable examples (Examples/, docs/course/): swift run -c release NAME [--quick]
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
        .testTarget(
            name: "NeuroneTests", dependencies: ["Neurone"], path: "Tests/NeuroneTests",
            resources: [.copy("Reference")]),
    ]
)

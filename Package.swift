// swift-tools-version:6.0
import PackageDescription

// Layers, each depending only on the ones below it (doc/DESIGN.md, "Layers"):
//   asd (executable) -> ASDCore -> ASDCopy -> ASDSystem -> CASDShims
//   (ASDCopy also -> CASDBlockHash, the block checksum of the block records)
let package = Package(
    name: "asd",
    products: [
        .executable(name: "asd", targets: ["asd"]),
    ],
    dependencies: [],
    targets: [
        .target(name: "CASDShims"),
        .target(name: "ASDSystem", dependencies: ["CASDShims"]),
        .target(name: "CASDBlockHash"),
        .target(name: "ASDCopy", dependencies: ["ASDSystem", "CASDBlockHash"]),
        .target(name: "ASDCore", dependencies: ["ASDCopy", "ASDSystem"]),
        .executableTarget(name: "asd", dependencies: ["ASDCore"]),
        // Helpers both test targets share: temp directories, the seeded RNG, the skip policy.
        .target(name: "ASDTestSupport", path: "Tests/ASDTestSupport"),
        .testTarget(name: "ASDCoreTests", dependencies: ["ASDCore", "ASDCopy", "ASDSystem", "ASDTestSupport"]),
        .testTarget(name: "ASDIntegrationTests", dependencies: ["ASDCore", "ASDCopy", "ASDSystem", "ASDTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "asd",
    products: [
        .executable(name: "asd", targets: ["asd"]),
        .library(name: "ASDCore", targets: ["ASDCore"]),
    ],
    dependencies: [],
    targets: [
        .executableTarget(name: "asd", dependencies: ["ASDCore"]),
        .target(name: "CASDBlockHash"),
        .target(name: "ASDCore", dependencies: ["CASDBlockHash"]),
        .testTarget(name: "ASDCoreTests", dependencies: ["ASDCore"]),
        .testTarget(name: "ASDIntegrationTests", dependencies: ["ASDCore"]),
    ],
    swiftLanguageModes: [.v6]
)

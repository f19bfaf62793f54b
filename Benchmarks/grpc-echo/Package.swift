// swift-tools-version:6.0
// grpc-echo — the grpc-swift-2 baseline for `rampart bench rpc`.
//
// A separate package on purpose: grpc-swift-2 + grpc-swift-nio-transport pull in swift-nio-http2,
// swift-nio-ssl, swift-certificates, swift-crypto, … (several minutes of release build on 2 cores).
// Keeping them out of the root Package.swift keeps `swift build` / `swift test` of Rampart light;
// only `make bench` (scripts/bench.sh) builds this package.
import PackageDescription

let package = Package(
    name: "grpc-echo",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "grpc-echo", targets: ["grpc-echo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(
            name: "grpc-echo",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/grpc-echo"
        ),
    ],
    swiftLanguageModes: [.v6]
)

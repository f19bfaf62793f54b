// swift-tools-version:6.0
// Rampart's fuzz targets — libFuzzer harnesses for every parser that takes untrusted bytes.
//
// A separate package on purpose (like Benchmarks/grpc-echo): it is built only by scripts/fuzz.sh,
// with the sanitizers on the command line so that every module — the root package's and its
// dependencies' — is compiled with coverage instrumentation and AddressSanitizer:
//
//   swift build --package-path Tests/Fuzz -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing \
//     -Xcxx -fsanitize=fuzzer-no-link,address
//
// (-enable-testing lets the signing target reach the bundle parser with @testable import.) Each
// target's main.swift hands its harness to libFuzzer's driver (FuzzSupport.runLibFuzzer): SwiftPM
// gives every executable its own entry point, so libFuzzer's `main` cannot be used.
//
// CI never builds it; `swift build` / `swift test` of Rampart do not see it.
import PackageDescription

// gold (the default linker here) dies with an internal error on these ASan+libFuzzer executables;
// lld links them. unsafeFlags are fine in a package that is only ever the root of its build.
let lld: [LinkerSetting] = [.unsafeFlags(["-use-ld=lld"])]

let package = Package(
    name: "rampart-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Rampart", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(name: "CLibFuzzer", path: "Sources/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Sources/FuzzSupport"),
        // (a) the wire protocol, through the real server pipeline on an EmbeddedChannel.
        .executableTarget(
            name: "FuzzWire",
            dependencies: [
                "FuzzSupport",
                .product(name: "RampartFuzzTargets", package: "Rampart"),
                .product(name: "RampartCore", package: "Rampart"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Sources/FuzzWire", linkerSettings: lld),
        // (b) the sanitizer's JSON parser and JSON Schema validation of tool arguments.
        .executableTarget(
            name: "FuzzJSONSchema",
            dependencies: ["FuzzSupport", .product(name: "RampartFuzzTargets", package: "Rampart")],
            path: "Sources/FuzzJSONSchema", linkerSettings: lld),
        // (c) URL parsing and the URL allowlist.
        .executableTarget(
            name: "FuzzURL",
            dependencies: ["FuzzSupport", .product(name: "RampartFuzzTargets", package: "Rampart")],
            path: "Sources/FuzzURL", linkerSettings: lld),
        // (d) the whole sanitizer on arbitrary bytes (real detectors, real injection artifact).
        .executableTarget(
            name: "FuzzSanitizer",
            dependencies: ["FuzzSupport", .product(name: "RampartFuzzTargets", package: "Rampart")],
            path: "Sources/FuzzSanitizer", linkerSettings: lld),
        // (e) configuration files: rampart.toml and the sanitizer's JSON config.
        .executableTarget(
            name: "FuzzConfig",
            dependencies: ["FuzzSupport", .product(name: "RampartFuzzTargets", package: "Rampart")],
            path: "Sources/FuzzConfig", linkerSettings: lld),
        // (e) signed artifacts: model.sig bundles, in-toto statements, public key PEMs.
        .executableTarget(
            name: "FuzzSigning",
            dependencies: ["FuzzSupport", .product(name: "RampartFuzzTargets", package: "Rampart")],
            path: "Sources/FuzzSigning", linkerSettings: lld),
    ],
    swiftLanguageModes: [.v6]
)

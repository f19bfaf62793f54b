// swift-tools-version:6.0
// Rampart — a security sidecar for local AI inference.
// The folder tree mirrors the data flow: Core/RampartWire (frames) → Core/RampartServer
// (transport, dispatcher) → Core/RampartCore (context, backend protocol) → backends.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Rampart",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rampart", targets: ["rampart"]),
        .library(name: "RampartClient", targets: ["RampartClient"]),
        .library(name: "RampartCore", targets: ["RampartCore"]),
        .library(name: "RampartPluginKit", targets: ["RampartPluginKit"]),
        // A Swift plugin is a dynamic library like any other plugin (examples/swift-plugin).
        .library(name: "ExampleSwiftPlugin", type: .dynamic, targets: ["ExampleSwiftPlugin"]),
        // The built-in plugins: dynamic libraries loaded through the signed loader like any other.
        .library(name: "RampartAuth", type: .dynamic, targets: ["RampartAuthPlugin"]),
        .library(name: "RampartThrottle", type: .dynamic, targets: ["RampartThrottlePlugin"]),
        .library(name: "RampartSanitizer", type: .dynamic, targets: ["RampartSanitizerPlugin"]),
        // The modules that parse untrusted bytes, for the fuzz package only (Tests/Fuzz, a separate
        // package built by scripts/fuzz.sh; a package can depend on products, not on targets).
        .library(
            name: "RampartFuzzTargets",
            targets: [
                "RampartServer", "RampartWire", "RampartConfig", "RampartSigning", "RampartSanitizerCore", "RampartThrottleCore",
            ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        // MARK: system libraries (pkg-config)
        .systemLibrary(
            name: "CLZ4", path: "Core/CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Core/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CProtobufC", path: "Core/CProtobufC", pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]),
        // MARK: C shims
        .target(name: "CRampartSystem", path: "Core/CRampartSystem"),
        .target(name: "CRawPingPong", path: "Core/CRawPingPong"),
        // The plugin ABI: include/rampart_plugin.h is the whole contract with plugins.
        .target(name: "CRampartPlugin", path: "Core/CRampartPlugin"),

        // MARK: the protocol
        .target(
            name: "RampartProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Core/RampartProto", swiftSettings: strict),
        .target(
            name: "RampartWire",
            dependencies: [
                "RampartProto", "RampartCore", "CLZ4",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Core/RampartWire", swiftSettings: strict),

        // MARK: the no-I/O core
        .target(name: "RampartCore", path: "Core/RampartCore", swiftSettings: strict),
        .target(
            name: "RampartConfig",
            dependencies: ["RampartCore", .product(name: "TOMLKit", package: "TOMLKit")],
            path: "Core/RampartConfig", swiftSettings: strict),
        .target(
            name: "RampartCrypto", dependencies: ["COpenSSL"],
            path: "Core/RampartCrypto", swiftSettings: strict),

        .target(
            name: "RampartSigning", dependencies: ["RampartCrypto", "COpenSSL"],
            path: "Core/RampartSigning", swiftSettings: strict),

        // MARK: plugins
        .target(
            name: "RampartChain",
            dependencies: ["RampartCore", "RampartProto", "RampartAudit", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Core/RampartChain", swiftSettings: strict),
        .target(
            name: "RampartPluginHost",
            dependencies: [
                "CRampartPlugin", "RampartProto", "RampartCrypto", "RampartChain", "RampartAudit",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Core/RampartPluginHost", swiftSettings: strict),

        .target(
            name: "RampartPluginKit",
            dependencies: ["CRampartPlugin", "RampartProto", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Core/RampartPluginKit", swiftSettings: strict),
        .target(name: "ExampleSwiftPlugin", dependencies: ["RampartPluginKit"], path: "examples/swift-plugin", exclude: ["README.md"]),

        // MARK: built-in plugins (Plugins/<Name>/Core = logic, Plugins/<Name>/Plugin = the ABI glue)
        .systemLibrary(
            name: "CHiredis", path: "Plugins/Throttle/CHiredis", pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(
            name: "CHyperscan", path: "Plugins/Sanitizer/CHyperscan", pkgConfig: "libhs",
            providers: [.apt(["libhyperscan-dev"])]),
        .target(
            name: "RampartAudit", dependencies: ["RampartProto", "RampartCore"],
            path: "Core/RampartAudit", swiftSettings: strict),
        .target(
            name: "RampartAuthCore",
            dependencies: ["RampartCrypto", "COpenSSL", "RampartProto", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Plugins/Auth/Core", swiftSettings: strict),
        .target(
            name: "RampartAuthPlugin", dependencies: ["RampartAuthCore", "RampartPluginKit"],
            path: "Plugins/Auth/Plugin", swiftSettings: strict),
        .target(
            name: "RampartThrottleCore", dependencies: ["CHiredis", "RampartConfig", .product(name: "TOMLKit", package: "TOMLKit")],
            path: "Plugins/Throttle/Core", swiftSettings: strict),
        .target(
            name: "RampartThrottlePlugin", dependencies: ["RampartThrottleCore", "RampartPluginKit"],
            path: "Plugins/Throttle/Plugin", swiftSettings: strict),
        // ICU's C API hides its symbols behind version-suffix macros Swift cannot call: a tiny C shim.
        .target(
            name: "CICUShim", path: "Plugins/Sanitizer/CICUShim",
            linkerSettings: [.linkedLibrary("icuuc"), .linkedLibrary("icui18n")]),
        .target(
            name: "RampartSanitizerCore", dependencies: ["CHyperscan", "CICUShim", "RampartCrypto", "RampartSigning"],
            path: "Plugins/Sanitizer/Core", resources: [.copy("Model/injection-model")], swiftSettings: strict),
        .target(
            name: "RampartSanitizerPlugin", dependencies: ["RampartSanitizerCore", "RampartPluginKit"],
            path: "Plugins/Sanitizer/Plugin", swiftSettings: strict),

        // MARK: backends
        .target(
            name: "RampartBuiltinModel", dependencies: ["RampartCore", "RampartCrypto"],
            path: "Core/RampartBuiltinModel", resources: [.copy("Artifact/rampart-tiny")],
            swiftSettings: strict),

        // MARK: the edges (I/O)
        .target(
            name: "RampartServer",
            dependencies: [
                "RampartCore", "RampartWire", "RampartProto", "CRampartSystem", "RampartChain",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Core/RampartServer", swiftSettings: strict),
        .target(
            name: "RampartClient",
            dependencies: [
                "RampartWire", "RampartProto", "RampartCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Core/RampartClient", swiftSettings: strict),
        .executableTarget(
            name: "rampart",
            dependencies: [
                "RampartServer", "RampartClient", "RampartCore", "RampartConfig", "RampartBuiltinModel", "RampartSigning",
                "RampartChain", "RampartPluginHost", "RampartAudit",
                "RampartAuthCore", "RampartThrottleCore", "RampartSanitizerCore",
                "CRawPingPong",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Core/rampart", swiftSettings: strict),

        // MARK: tests
        .testTarget(name: "RampartAuthTests", dependencies: ["RampartAuthCore"], path: "Tests/RampartAuthTests"),
        .testTarget(name: "RampartThrottleTests", dependencies: ["RampartThrottleCore"], path: "Tests/RampartThrottleTests"),
        .testTarget(
            name: "RampartSanitizerTests", dependencies: ["RampartSanitizerCore"], path: "Tests/RampartSanitizerTests"),
        .testTarget(name: "RampartAuditTests", dependencies: ["RampartAudit"], path: "Tests/RampartAuditTests"),
        .testTarget(name: "RampartWireTests", dependencies: ["RampartWire"], path: "Tests/RampartWireTests"),
        .testTarget(
            name: "RampartSigningTests", dependencies: ["RampartSigning", "RampartCrypto"], path: "Tests/RampartSigningTests",
            exclude: ["Fixtures"]),
        .testTarget(
            name: "RampartPluginHostTests", dependencies: ["RampartPluginHost", "RampartProto", "RampartChain", "RampartAudit", "RampartCore"],
            path: "Tests/RampartPluginHostTests", exclude: ["Fixtures"]),
        .testTarget(
            name: "RampartPluginKitTests", dependencies: ["RampartPluginKit", "RampartPluginHost", "RampartProto", "RampartChain", "RampartAudit", "RampartCore"],
            path: "Tests/RampartPluginKitTests"),
        .testTarget(
            name: "RampartChainTests", dependencies: ["RampartChain", "RampartProto", "RampartAudit"], path: "Tests/RampartChainTests"),
        .testTarget(name: "RampartConfigTests", dependencies: ["RampartConfig"], path: "Tests/RampartConfigTests"),
        .testTarget(
            name: "RampartBuiltinModelTests", dependencies: ["RampartBuiltinModel"],
            path: "Tests/RampartBuiltinModelTests"),
        .testTarget(
            name: "RampartServerTests",
            dependencies: [
                "RampartServer", "RampartClient", "RampartWire", "RampartBuiltinModel", "RampartChain", "RampartPluginHost",
                "CRawPingPong",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Tests/RampartServerTests"),
    ],
    swiftLanguageModes: [.v6]
)

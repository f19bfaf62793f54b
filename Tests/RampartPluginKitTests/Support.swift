import CRampartPlugin
import Foundation
@testable import RampartPluginHost
import RampartPluginKit
import RampartProto
import Synchronization
import XCTest

/// The repository root, from this file's location (Tests/RampartPluginKitTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

struct SetupError: Error, CustomStringConvertible {
    var description: String
}

/// Builds examples/c-plugin with make (once per test process) and returns its directory and library.
func buildCExample() throws -> (directory: String, library: String) {
    try cExampleBuild.withLock { result in
        if let result { return try result.get() }
        let outcome = Result { () throws -> (directory: String, library: String) in
            let directory = repositoryRoot.appendingPathComponent("examples/c-plugin").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["make", "-C", directory]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let log = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw SetupError(description: "make -C examples/c-plugin failed:\n" + String(decoding: log, as: UTF8.self))
            }
            return (directory + "/build", "librampart_example_c.so")
        }
        result = outcome
        return try outcome.get()
    }
}

private let cExampleBuild = Mutex<Result<(directory: String, library: String), any Error>?>(nil)

/// Finds libExampleSwiftPlugin.so in the build directory of the running tests (it is built by
/// `swift build --build-tests` as a product of the package).
func findSwiftExample() throws -> (directory: String, library: String) {
    try findBuiltLibrary("libExampleSwiftPlugin.so")
}

/// Finds a dynamic-library product of the package (`libRampartSanitizer.so` …) next to the test
/// runner: `swift build --build-tests` builds every product.
func findBuiltLibrary(_ library: String) throws -> (directory: String, library: String) {
    var candidates: [URL] = []
    // The test runner (RampartPackageTests.xctest) lives in the build directory.
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
    candidates.append(Bundle.main.bundleURL)
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
    for scratch in [".build-kit", ".build"] {
        candidates.append(repositoryRoot.appendingPathComponent("\(scratch)/debug"))
    }
    for directory in candidates where FileManager.default.fileExists(atPath: directory.appendingPathComponent(library).path) {
        return (directory.standardizedFileURL.path, library)
    }
    throw SetupError(description: "\(library) not found next to the test runner (looked in \(candidates.map(\.path))); "
        + "build it with `swift build --build-tests` before `swift test --skip-build`")
}

func devLoader() -> PluginLoader {
    PluginLoader(cacheDirectory: "/tmp/rampart-kit-plugin-cache-\(getpid())", trust: .unsignedDevelopment)
}

/// Collects the plugin's log lines.
final class LogSink: Sendable {
    private let lines = Mutex<[(PluginLogLevel, String)]>([])
    var all: [(PluginLogLevel, String)] { lines.withLock { $0 } }
    func callAsFunction(_ level: PluginLogLevel, _ text: String) { lines.withLock { $0.append((level, text)) } }
}

/// Loads a library with the real loader and creates an instance.
func loadNative(_ location: (directory: String, library: String), name: String, config: String,
                signals: SignalStore = SignalStore(), log: LogSink = LogSink()) throws -> NativePlugin {
    let loaded = try devLoader().load(directory: location.directory, library: location.library, name: name)
    return try NativePlugin(library: loaded, name: name, config: Array(config.utf8), signals: signals) { log($0, $1) }
}

/// The raw descriptor the kit built for `type`.
func kitDescriptor<P: RampartPlugin>(_ type: P.Type) throws -> UnsafePointer<rp_plugin_v1> {
    guard let raw = PluginExport.descriptor(for: type) else { throw SetupError(description: "no descriptor for \(type)") }
    return raw.assumingMemoryBound(to: rp_plugin_v1.self)
}

/// Runs a kit plugin type in-process through the host's own descriptor validation and call
/// machinery (the same code paths as a dlopen'ed plugin, minus dlopen).
func loadInProcess<P: RampartPlugin>(_ type: P.Type, config: [UInt8] = [], signals: SignalStore = SignalStore(),
                                     log: LogSink = LogSink()) throws -> NativePlugin {
    let descriptor = try kitDescriptor(type)
    let info = try DescriptorValidator.validate(descriptor, plugin: "kit")
    let library = LoadedLibrary(info: info, digest: "in-process", path: "in-process", descriptor: descriptor)
    return try NativePlugin(library: library, name: "kit", config: config, signals: signals) { log($0, $1) }
}

func promptRequest(_ prompt: String) throws -> [UInt8] {
    var request = Rampart_V1_PluginRequest()
    request.request.prompt = prompt
    return try request.serializedBytes()
}

func chatRequest(_ messages: [(Rampart_V1_Role, String)]) throws -> [UInt8] {
    var request = Rampart_V1_PluginRequest()
    request.request.messages = messages.map { role, content in
        Rampart_V1_ChatMessage.with {
            $0.role = role
            $0.content = content
        }
    }
    return try request.serializedBytes()
}

/// Asserts that `body` throws a host `PluginError` and passes it to `check`.
func assertPluginError<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line,
                          _ check: (RampartPluginHost.PluginError) -> Void) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let error = error as? RampartPluginHost.PluginError else {
            return XCTFail("not a host PluginError: \(error)", file: file, line: line)
        }
        check(error)
    }
}

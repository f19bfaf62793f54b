import CRampartPlugin
import Foundation
import RampartAudit
import RampartChain
import RampartCore
import RampartPluginHost
import RampartProto
import XCTest

/// Builds the fixture plugin with the given -D flags into a fresh directory.
func buildFixture(_ defines: [String] = [], name: String = "plugin", source: String = "test_plugin.c") throws -> (directory: String, library: String) {
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    let root = here.deletingLastPathComponent().deletingLastPathComponent()
    let directory = "/tmp/rampart-plugin-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let library = "lib\(name).so"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["cc", "-std=c11", "-shared", "-fPIC", "-O1", "-Wall",
                         "-I", root.appendingPathComponent("Core/CRampartPlugin/include").path]
        + defines.map { "-D\($0)" }
        + ["-o", directory + "/" + library, here.appendingPathComponent("Fixtures/" + source).path]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw NSError(domain: "cc failed", code: Int(process.terminationStatus)) }
    return (directory, library)
}

func devLoader() -> PluginLoader {
    PluginLoader(cacheDirectory: "/tmp/rampart-plugin-cache-\(getpid())", trust: .unsignedDevelopment)
}

final class LoaderTests: XCTestCase {
    func expectLoadError(_ defines: [String], file: StaticString = #filePath, line: UInt = #line,
                         _ check: (PluginError) -> Bool) throws {
        let fixture = try buildFixture(defines)
        XCTAssertThrowsError(try devLoader().load(directory: fixture.directory, library: fixture.library, name: "t"),
                             file: file, line: line) { error in
            guard let error = error as? PluginError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertTrue(check(error), "unexpected: \(error)", file: file, line: line)
        }
    }

    func testLoadsAValidPluginFromAContentAddressedCopy() throws {
        let fixture = try buildFixture()
        let loaded = try devLoader().load(directory: fixture.directory, library: fixture.library, name: "t")
        XCTAssertEqual(loaded.info.name, "test-plugin")
        XCTAssertEqual(loaded.info.version, "0.0.1")
        XCTAssertTrue(loaded.info.capabilities.contains(.request))
        XCTAssertTrue(loaded.path.hasSuffix("/\(loaded.digest).so"))
        XCTAssertNotEqual(loaded.path, fixture.directory + "/" + fixture.library)
        // Replacing the original after loading does not affect the loaded copy.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: fixture.directory + "/" + fixture.library))
        XCTAssertTrue(FileManager.default.fileExists(atPath: loaded.path))
    }

    func testMissingEntrySymbol() throws {
        try expectLoadError(["NO_ENTRY"]) { if case .missingEntrySymbol = $0 { return true }; return false }
    }

    func testWrongMagic() throws {
        try expectLoadError(["BAD_MAGIC"]) { error in
            if case .badMagic(_, let found) = error { return found == 0xdeadbeef }
            return false
        }
    }

    func testABIMajorTooNew() throws {
        try expectLoadError(["ABI_TOO_NEW"]) { error in
            error.description.contains("built for ABI 2.\(RP_ABI_MINOR), host is 1.\(RP_ABI_MINOR)")
        }
    }

    func testStructTooSmall() throws {
        try expectLoadError(["SMALL_STRUCT"]) { if case .structTooSmall(_, 16, _) = $0 { return true }; return false }
    }

    func testCapabilitiesMustMatchHooks() throws {
        try expectLoadError(["CAP_MISMATCH"]) { $0.description.contains("on_response") }
    }

    func testNotALibrary() throws {
        let directory = "/tmp/rampart-plugin-junk-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data("not an ELF file".utf8).write(to: URL(fileURLWithPath: directory + "/libjunk.so"))
        XCTAssertThrowsError(try devLoader().load(directory: directory, library: "libjunk.so", name: "junk")) { error in
            guard case .cannotOpen? = error as? PluginError else { return XCTFail("\(error)") }
        }
    }

    func testSignedTrustRefusesWhatTheVerifierRejectsOrDoesNotCover() throws {
        let fixture = try buildFixture()
        let rejecting = PluginLoader(cacheDirectory: "/tmp/rampart-plugin-cache-\(getpid())", trust: .signed { _ in
            throw NSError(domain: "no signature", code: 1)
        })
        XCTAssertThrowsError(try rejecting.load(directory: fixture.directory, library: fixture.library, name: "t")) { error in
            guard case .untrusted? = error as? PluginError else { return XCTFail("\(error)") }
        }
        let otherFile = PluginLoader(cacheDirectory: "/tmp/rampart-plugin-cache-\(getpid())", trust: .signed { _ in
            ["README": [UInt8](repeating: 0, count: 32)]
        })
        XCTAssertThrowsError(try otherFile.load(directory: fixture.directory, library: fixture.library, name: "t")) { error in
            XCTAssertTrue("\(error)".contains("does not cover"), "\(error)")
        }
        let wrongDigest = PluginLoader(cacheDirectory: "/tmp/rampart-plugin-cache-\(getpid())", trust: .signed { _ in
            [fixture.library: [UInt8](repeating: 7, count: 32)]
        })
        XCTAssertThrowsError(try wrongDigest.load(directory: fixture.directory, library: fixture.library, name: "t")) { error in
            XCTAssertTrue("\(error)".contains("changed after its signature"), "\(error)")
        }
    }
}

final class NativePluginTests: XCTestCase {
    func makePlugin(_ defines: [String] = [], config: String = "") throws -> NativePlugin {
        let fixture = try buildFixture(defines)
        let loaded = try devLoader().load(directory: fixture.directory, library: fixture.library, name: "t")
        return try NativePlugin(library: loaded, name: "t", config: Array(config.utf8), signals: SignalStore()) { _, _ in }
    }

    func request(_ prompt: String) throws -> [UInt8] {
        var r = Rampart_V1_PluginRequest()
        r.request.prompt = prompt
        return try r.serializedBytes()
    }

    func testCreateErrorTextReachesTheOperator() throws {
        XCTAssertThrowsError(try makePlugin(["CREATE_FAILS"])) { error in
            XCTAssertEqual("\(error)", "plugin t: create failed (status 3): config: missing key 'threshold'")
        }
        XCTAssertThrowsError(try makePlugin(config: "reject")) { error in
            XCTAssertTrue("\(error)".contains("config says reject"))
        }
    }

    func testVerdicts() throws {
        let plugin = try makePlugin()
        let pass = try plugin.onRequest(try request("hello"), stream: nil)
        XCTAssertNil(pass.action)
        let deny = try plugin.onRequest(try request("a forbidden thing"), stream: nil)
        guard case .deny(let d)? = deny.action else { return XCTFail("\(deny)") }
        XCTAssertEqual(d.code, 7)
        XCTAssertEqual(d.message, "forbidden word")
        XCTAssertEqual(d.retryAfterMs, 250)
        let mutate = try plugin.onRequest(try request("please mutate-me"), stream: nil)
        guard case .mutate(let m)? = mutate.action else { return XCTFail("\(mutate)") }
        XCTAssertTrue(m.replacePrompt)
        XCTAssertEqual(m.prompt, "mutated prompt")
        XCTAssertThrowsError(try plugin.onRequest(try request("error-now"), stream: nil)) { error in
            XCTAssertTrue("\(error)".contains("plugin exploded"), "\(error)")
        }
    }

    func testMalformedVerdictIsAnError() throws {
        let plugin = try makePlugin(["MALFORMED_VERDICT"])
        XCTAssertThrowsError(try plugin.onRequest(try request("x"), stream: nil)) { error in
            guard case .malformedVerdict? = error as? PluginError else { return XCTFail("\(error)") }
        }
    }

    func testChunkHookAndSignals() throws {
        let signals = SignalStore()
        let fixture = try buildFixture()
        let loaded = try devLoader().load(directory: fixture.directory, library: fixture.library, name: "t")
        let plugin = try NativePlugin(library: loaded, name: "t", config: [], signals: signals) { _, _ in }
        XCTAssertEqual(try plugin.onChunk("a fine line", stream: nil), .pass)
        XCTAssertEqual(try plugin.onChunk("the cat sat", stream: nil), .replace("dog"))
        XCTAssertEqual(try plugin.onChunk("the SECRET is", stream: nil), .stop)
        _ = try plugin.onRequest(try request("one"), stream: nil)
        _ = try plugin.onRequest(try request("two"), stream: nil)
        XCTAssertEqual(signals.get("calls"), 2)
    }
}

/// ABI 1.1 descriptor fields: plugin-served methods, RP_CAP_ALL_METHODS, host->audit.
final class ABI11LoaderTests: XCTestCase {
    func expectLoadError(_ defines: [String], _ check: (PluginError) -> Bool, line: UInt = #line) throws {
        let fixture = try buildFixture(defines)
        XCTAssertThrowsError(try devLoader().load(directory: fixture.directory, library: fixture.library, name: "t"),
                             line: line) { error in
            guard let error = error as? PluginError else { return XCTFail("\(error)", line: line) }
            XCTAssertTrue(check(error), "unexpected: \(error)", line: line)
        }
    }

    func testMethodsWithoutOnMethodAreRefused() throws {
        try expectLoadError(["METHODS_NO_HANDLER"]) { $0.description.contains("methods is set but on_method is NULL") }
    }

    func testMalformedMethodNameIsRefused() throws {
        try expectLoadError(["BAD_METHOD_NAME"]) { $0.description.contains("must be \"package.Service/Method\"") }
    }

    func testAllMethodsCapabilityNeedsABI11() throws {
        try expectLoadError(["ALL_METHODS", "ABI_1_0"]) { $0.description.contains("RP_CAP_ALL_METHODS needs ABI 1.1") }
        let fixture = try buildFixture(["ALL_METHODS"])
        let loaded = try devLoader().load(directory: fixture.directory, library: fixture.library, name: "t")
        let plugin = try NativePlugin(library: loaded, name: "t", config: [], signals: SignalStore()) { _, _ in }
        XCTAssertTrue(plugin.seesAllMethods)
    }

    func testANativePluginServesItsMethodsAndAuditsThroughTheHost() throws {
        let fixture = try buildFixture(["WITH_METHODS"])
        let loaded = try devLoader().load(directory: fixture.directory, library: fixture.library, name: "t")
        XCTAssertEqual(loaded.info.methods, ["test.Echo/Upper", "test.Echo/Fail"])
        let sink = RecordingAuditSink()
        let plugin = try NativePlugin(library: loaded, name: "echo", config: [], signals: SignalStore(), audit: sink) { _, _ in }
        let chain = try PluginChain(stages: [ChainStage(plugin: plugin)], audit: sink)
        let context = CallContext(requestID: "r-5", method: "/test.Echo/Upper", streamID: 1,
                                  peer: PeerCredentials(pid: 1, uid: 1234, gid: 5))
        let out = try chain.begin(context).callMethod("/test.Echo/Upper", body: Array("hello".utf8), metadata: [:])
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "HELLO")
        let event = try XCTUnwrap(sink.events.first)
        XCTAssertEqual(event.kind, "echo.call")
        XCTAssertEqual(event.outcome, "success")
        XCTAssertEqual(event.source, "echo")
        XCTAssertEqual(event.requestID, "r-5")
        XCTAssertEqual(event.peer.uid, 1234)
        XCTAssertThrowsError(try chain.begin(context).callMethod("test.Echo/Fail", body: Array("Fail".utf8), metadata: [:])) { error in
            XCTAssertEqual((error as? RPCError)?.code, .notFound)
            XCTAssertEqual((error as? RPCError)?.message, "no such thing")
        }
    }
}

final class RecordingAuditSink: AuditSink, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Rampart_V1_AuditEvent] = []
    func record(_ event: Rampart_V1_AuditEvent) { lock.withLock { recorded.append(event) } }
    var failures: Int { 0 }
    var events: [Rampart_V1_AuditEvent] { lock.withLock { recorded } }
}

import Foundation
import RampartChain
import RampartClient
import RampartCore
import RampartPluginHost
import RampartProto
import RampartServer
import NIOCore
import XCTest

/// A backend that emits fixed pieces (to test output filtering deterministically).
struct ScriptedBackend: InferenceBackend {
    let pieces: [String]
    let model = ModelDescriptor(name: "scripted", version: "1", backend: "test", contextLength: 4096, vocabularySize: 0)
    let execution = BackendExecution.blocking
    func countPromptTokens(_ input: PromptInput) -> Int { 1 }
    func generate(_ request: GenerationRequest, sink: TokenSink) throws -> GenerationResult {
        for (i, piece) in pieces.enumerated() {
            if !sink(GeneratedToken(id: Int32(i), text: piece)) {
                return GenerationResult(finish: .cancelled, promptTokens: 1, completionTokens: i + 1)
            }
        }
        return GenerationResult(finish: .stop, promptTokens: 1, completionTokens: pieces.count)
    }
}

/// The C fixture plugin (Tests/RampartPluginHostTests/Fixtures/test_plugin.c) in a real chain,
/// through a real server and client.
final class PluginChainServerTests: XCTestCase {
    static func fixturePlugin(_ defines: [String] = []) throws -> NativePlugin {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let root = here.deletingLastPathComponent().deletingLastPathComponent()
        let directory = makeTempDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cc", "-std=c11", "-shared", "-fPIC", "-O1", "-I", root.appendingPathComponent("Core/CRampartPlugin/include").path]
            + defines.map { "-D\($0)" }
            + ["-o", directory + "/libfixture.so", root.appendingPathComponent("Tests/RampartPluginHostTests/Fixtures/test_plugin.c").path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let loader = PluginLoader(cacheDirectory: directory + "/cache", trust: .unsignedDevelopment)
        let loaded = try loader.load(directory: directory, library: "libfixture.so", name: "fixture")
        return try NativePlugin(library: loaded, name: "fixture", config: [], signals: SignalStore()) { _, _ in }
    }

    func withServer(_ chain: PluginChain, backend: any InferenceBackend = NullBackend(),
                    _ body: (RampartClient, RampartServer) async throws -> Void) async throws {
        let settings = testSettings()
        let server = try startServer(settings, backend: backend, chains: ChainHolder(chain))
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        do {
            try await body(client, server)
        } catch {
            await client.close()
            await server.shutdown()
            throw error
        }
        await client.close()
        await server.shutdown()
    }

    func expectError(_ code: StatusCode, _ call: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line) async -> RPCError? {
        do {
            try await call()
            XCTFail("expected \(code)", file: file, line: line)
        } catch let error as RPCError {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
        return nil
    }

    func testDenyAndMutationChangeARealCall() async throws {
        let plugin = try Self.fixturePlugin()
        try await withServer(try PluginChain(stages: [ChainStage(plugin: plugin)])) { client, _ in
            let ok = try await client.generate(makeRequest("hello there"))
            XCTAssertEqual(ok.text, "hello there")
            let mutated = try await client.generate(makeRequest("please mutate-me"))
            XCTAssertEqual(mutated.text, "mutated prompt", "the backend saw the plugin's mutation")
            let denied = await expectError(.permissionDenied) { _ = try await client.generate(makeRequest("a forbidden request")) }
            XCTAssertEqual(denied?.message, "forbidden word")
            XCTAssertEqual(denied?.metadata["retry-after-ms"], "250")
            XCTAssertEqual(denied?.metadata["rampart-denied-by"], "fixture")
        }
    }

    func testPluginErrorsFailClosedOrOpen() async throws {
        let plugin = try Self.fixturePlugin()
        try await withServer(try PluginChain(stages: [ChainStage(plugin: plugin)])) { client, _ in
            let error = await expectError(.internal) { _ = try await client.generate(makeRequest("error-now")) }
            XCTAssertTrue(error?.message.contains("plugin exploded") ?? false)
            await expectError(.unavailable) { _ = try await client.generate(makeRequest("sleep-now")) }.map { _ in () }
        }
        let open = try PluginChain(stages: [ChainStage(plugin: plugin, policy: StagePolicy(failureMode: .open))])
        try await withServer(open) { client, _ in
            let response = try await client.generate(makeRequest("error-now"))
            XCTAssertEqual(response.text, "error-now", "fail-open continues to the backend")
        }
    }

    func testMalformedVerdictFailsClosed() async throws {
        let plugin = try Self.fixturePlugin(["MALFORMED_VERDICT"])
        try await withServer(try PluginChain(stages: [ChainStage(plugin: plugin)])) { client, _ in
            let error = await expectError(.internal) { _ = try await client.generate(makeRequest("anything")) }
            XCTAssertTrue(error?.message.contains("malformed verdict") ?? false, error?.message ?? "")
        }
    }

    func testAMutationIntoAnInvalidRequestFailsClosed() async throws {
        let plugin = try Self.fixturePlugin()
        try await withServer(try PluginChain(stages: [ChainStage(plugin: plugin)])) { client, _ in
            var request = Rampart_V1_GenerateRequest()
            var message = Rampart_V1_ChatMessage()
            message.role = .user
            message.content = "mutate-me"  // the plugin sets `prompt`: prompt and messages both set
            request.messages = [message]
            let error = await expectError(.internal) { _ = try await client.generate(request) }
            XCTAssertTrue(error?.message.contains("invalid") ?? false, error?.message ?? "")
        }
    }

    func testStreamedOutputIsFilteredAndStoppedBeforeTheClientSeesIt() async throws {
        let plugin = try Self.fixturePlugin()
        let pieces = ["The ", "cat ", "said ", "hello ", "and ", "then ", "the ", "SECRET ", "was ", "out."]
        let chain = try PluginChain(stages: [ChainStage(plugin: plugin)], holdBackBytes: 16)
        try await withServer(chain, backend: ScriptedBackend(pieces: pieces)) { client, _ in
            var received = ""
            do {
                for try await chunk in client.generateStream(makeRequest("go")) { received += chunk.text }
                XCTFail("expected the stream to be stopped")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .permissionDenied)
                XCTAssertEqual(error.metadata["rampart-blocked-by"], "fixture")
            }
            XCTAssertFalse(received.contains("SECRET"))
            XCTAssertTrue(received.hasPrefix("The dogsaid"), "chunk replacement applied (the fixture replaces the whole piece): \(received)")
            XCTAssertFalse(received.contains("the "), "text inside the hold-back window never left: \(received)")
        }
        // Without a stop, everything arrives once the stream ends.
        let clean = ["a ", "cat ", "and ", "a ", "bird"]
        try await withServer(chain, backend: ScriptedBackend(pieces: clean)) { client, _ in
            var received = ""
            for try await chunk in client.generateStream(makeRequest("go")) { received += chunk.text }
            XCTAssertEqual(received, "a dogand a bird")
            let unary = try await client.generate(makeRequest("go"))
            XCTAssertEqual(unary.text, "a dogand a bird", "unary output goes through the chunk hooks too")
        }
    }
}

/// ABI 1.1 through a real server: the all-methods gate in front of Health and plugin-served
/// methods, and a plugin-served method's own status reaching the client.
final class GateServerTests: XCTestCase {
    func testGateGuardsHealthAndPluginMethodsAndMethodsAnswer() async throws {
        let gate = try PluginChainServerTests.fixturePlugin(["ALL_METHODS", "WITH_METHODS"])
        let chain = try PluginChain(stages: [ChainStage(plugin: gate)])
        let settings = testSettings()
        let server = try startServer(settings, backend: NullBackend(), chains: ChainHolder(chain))
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        defer { Task { await client.close(); await server.shutdown() } }

        // Health passes the gate when the plugin passes ...
        _ = try await client.health()
        // ... and is refused when it denies (the fixture denies on "forbidden" anywhere in the request).
        do {
            _ = try await client.health(options: CallOptions(metadata: ["note": "forbidden"]))
            XCTFail("expected PERMISSION_DENIED")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .permissionDenied)
            XCTAssertEqual(error.metadata["rampart-denied-by"], "fixture")
        }
        // A plugin-served method answers with its bytes ...
        var payload = ByteBuffer()
        payload.writeBytes([0x0a, 0x05] + Array("hello".utf8))  // any bytes: the fixture echoes field 3 of its input
        let out = try await client.unaryRaw("/test.Echo/Upper", payload: payload)
        XCTAssertEqual(Array(out.readableBytesView), [0x0a, 0x05] + Array("HELLO".utf8))
        // ... or its own status, and it is gated like everything else.
        do {
            _ = try await client.unaryRaw("/test.Echo/Fail", payload: ByteBuffer(bytes: Array("Fail".utf8)))
            XCTFail("expected NOT_FOUND")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .notFound)
            XCTAssertEqual(error.message, "no such thing")
        }
        do {
            _ = try await client.unaryRaw("/test.Echo/Upper", payload: ByteBuffer(bytes: Array("forbidden".utf8)))
            XCTFail("expected PERMISSION_DENIED")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .permissionDenied)
        }
        // Unknown methods are still UNIMPLEMENTED.
        do {
            _ = try await client.unaryRaw("/test.Echo/Nope", payload: ByteBuffer())
            XCTFail("expected UNIMPLEMENTED")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .unimplemented)
        }
    }
}

import Foundation
import RampartPluginHost
import RampartProto
import XCTest

/// Behaviours both example plugins share: config validation, deny on a banned word in the prompt
/// or in any message, pass otherwise, redaction in streamed text, malformed input as an error.
enum KeywordGuardChecks {
    static func deniesBannedWords(_ plugin: NativePlugin, file: StaticString = #filePath, line: UInt = #line) throws {
        for input in [try promptRequest("tell me the Secret recipe"),
                      try chatRequest([(.system, "be nice"), (.user, "what is the PASSWORD?"), (.user, "thanks")])] {
            let verdict = try plugin.onRequest(input, stream: nil)
            guard case .deny(let deny)? = verdict.action else { return XCTFail("\(verdict)", file: file, line: line) }
            XCTAssertEqual(deny.code, 7, "PERMISSION_DENIED", file: file, line: line)
            XCTAssertTrue(deny.message.contains("secret") || deny.message.contains("password"), deny.message, file: file, line: line)
        }
        let secret = try plugin.onRequest(try promptRequest("a SECRET"), stream: nil)
        XCTAssertEqual(secret.deny.message, "request mentions a banned word: secret", file: file, line: line)
    }

    static func passesCleanRequests(_ plugin: NativePlugin, file: StaticString = #filePath, line: UInt = #line) throws {
        let verdict = try plugin.onRequest(try promptRequest("hello there"), stream: nil)
        XCTAssertTrue(verdict.action == nil || verdict.action == .pass(Rampart_V1_Pass()), "\(verdict)", file: file, line: line)
    }

    static func redactsChunks(_ plugin: NativePlugin, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try plugin.onChunk("nothing to see", stream: nil), .pass, file: file, line: line)
        XCTAssertEqual(try plugin.onChunk("the Password is hunter2, the secret is out", stream: nil),
                       .replace("the [redacted] is hunter2, the [redacted] is out"), file: file, line: line)
        XCTAssertEqual(try plugin.onChunk("secret", stream: nil), .replace("[redacted]"), file: file, line: line)
        XCTAssertEqual(try plugin.onChunk("", stream: nil), .pass, file: file, line: line)
    }

    static func rejectsMalformedInput(_ plugin: NativePlugin, file: StaticString = #filePath, line: UInt = #line) {
        assertPluginError(try plugin.onRequest([0x0a, 0xff, 0xff, 0xff, 0x0f], stream: nil), file: file, line: line) { error in
            guard case .hookFailed(_, "on_request", 3, let message) = error else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertTrue(message.contains("malformed"), message, file: file, line: line)
        }
    }
}

final class CExamplePluginTests: XCTestCase {
    func plugin(_ config: String = "secret, password") throws -> NativePlugin {
        try loadNative(try buildCExample(), name: "c-guard", config: config)
    }

    func testDescriptor() throws {
        let loaded = try devLoader().load(directory: try buildCExample().directory, library: try buildCExample().library, name: "c")
        XCTAssertEqual(loaded.info.name, "keyword-guard-c")
        XCTAssertEqual(loaded.info.capabilities, [.request, .chunk, .threadSafe])
    }

    func testDeniesBannedWords() throws { try KeywordGuardChecks.deniesBannedWords(try plugin()) }
    func testPassesCleanRequests() throws { try KeywordGuardChecks.passesCleanRequests(try plugin()) }
    func testRedactsChunks() throws { try KeywordGuardChecks.redactsChunks(try plugin()) }
    func testMalformedRequestIsAnError() throws { KeywordGuardChecks.rejectsMalformedInput(try plugin()) }

    func testShoutMutatesThePrompt() throws {
        let verdict = try plugin().onRequest(try promptRequest("please shout this, ok?"), stream: nil)
        guard case .mutate(let mutation)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertTrue(mutation.replacePrompt)
        XCTAssertEqual(mutation.prompt, "PLEASE SHOUT THIS, OK?")
        XCTAssertFalse(mutation.replaceMessages)
    }

    func testBannedWordWinsOverShout() throws {
        let verdict = try plugin().onRequest(try promptRequest("shout the secret"), stream: nil)
        guard case .deny? = verdict.action else { return XCTFail("\(verdict)") }
    }

    func testCreateRejectsBadConfigsWithThePluginsMessage() throws {
        let cases: [(String, String)] = [
            ("", "keyword-guard-c: config is empty; expected a comma-separated list of banned words"),
            (String(repeating: "a", count: 5000), "keyword-guard-c: config is 5000 bytes; the limit is 4096 bytes"),
            ("secret,,password", "keyword-guard-c: banned word 2 is empty"),
            ("ok, " + String(repeating: "x", count: 65), "keyword-guard-c: banned word 2 is 65 bytes long; the limit is 64 bytes"),
        ]
        for (config, expected) in cases {
            assertPluginError(try plugin(config)) { error in
                guard case .createFailed("c-guard", 3, let message) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(message.hasPrefix(expected), "\(message) does not start with \(expected)")
            }
        }
    }

    func testCreateLogsThroughTheHost() throws {
        let log = LogSink()
        _ = try loadNative(try buildCExample(), name: "c-guard", config: "a,b,c", log: log)
        XCTAssertTrue(log.all.contains { $0.0 == .info && $0.1 == "keyword-guard-c: 3 banned words" }, "\(log.all)")
    }
}

final class SwiftExamplePluginTests: XCTestCase {
    func plugin(_ config: String = "secret, password") throws -> NativePlugin {
        try loadNative(try findSwiftExample(), name: "swift-guard", config: config)
    }

    func testDescriptor() throws {
        let location = try findSwiftExample()
        let loaded = try devLoader().load(directory: location.directory, library: location.library, name: "swift")
        XCTAssertEqual(loaded.info.name, "keyword-guard-swift")
        XCTAssertEqual(loaded.info.version, "1.0.0")
        XCTAssertEqual(loaded.info.capabilities, [.request, .chunk, .hostFields])
    }

    func testDeniesBannedWords() throws { try KeywordGuardChecks.deniesBannedWords(try plugin()) }
    func testPassesCleanRequests() throws { try KeywordGuardChecks.passesCleanRequests(try plugin()) }
    func testRedactsChunks() throws { try KeywordGuardChecks.redactsChunks(try plugin()) }
    func testMalformedRequestIsAnError() throws { KeywordGuardChecks.rejectsMalformedInput(try plugin()) }

    func testPleaseAppendsToTheLastUserMessage() throws {
        let input = try chatRequest([(.system, "sys"), (.user, "first"), (.user, "explain TCP, please"), (.assistant, "sure")])
        let verdict = try plugin().onRequest(input, stream: nil)
        guard case .mutate(let mutation)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertTrue(mutation.replaceMessages)
        XCTAssertEqual(mutation.messages.map(\.content), ["sys", "first", "explain TCP, please (be concise)", "sure"])
        XCTAssertFalse(mutation.replacePrompt)
    }

    func testPleaseAppendsToThePrompt() throws {
        let verdict = try plugin().onRequest(try promptRequest("Please write a haiku"), stream: nil)
        guard case .mutate(let mutation)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertTrue(mutation.replacePrompt)
        XCTAssertEqual(mutation.prompt, "Please write a haiku (be concise)")
    }

    func testCreateRejectsAnEmptyConfigWithThePluginsMessage() throws {
        for config in ["", " , ,"] {
            assertPluginError(try plugin(config)) { error in
                XCTAssertEqual(error, .createFailed(plugin: "swift-guard", status: 3,
                                                    message: "config must list banned words, e.g. \"secret,password\""))
            }
        }
    }

    func testCreateLogsThroughTheHost() throws {
        let log = LogSink()
        _ = try loadNative(try findSwiftExample(), name: "swift-guard", config: "a,b", log: log)
        XCTAssertTrue(log.all.contains { $0.0 == .info && $0.1 == "keyword guard: 2 banned words" }, "\(log.all)")
    }
}

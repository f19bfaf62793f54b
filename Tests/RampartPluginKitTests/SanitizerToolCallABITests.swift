import Foundation
@testable import RampartPluginHost
import RampartProto
import XCTest

/// The sanitizer plugin through the real loader (`libRampartSanitizer.so`): a response's tool
/// calls are rewritten with the ABI 1.3 mutation (`replace_tool_calls`): arguments repaired to
/// their schema, a secret redacted inside an argument. Every value here is invented.
final class SanitizerToolCallABITests: XCTestCase {
    static let key = "AKIA" + "QWERTYUIOPASDFGH"
    static let weather = #"{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"],"additionalProperties":false}"#

    private func respond(config: String, prompt: String = "What is the weather in Paris?", calls: [Rampart_V1_ToolCall]) throws
        -> Rampart_V1_Verdict {
        let plugin = try loadNative(try findBuiltLibrary("libRampartSanitizer.so"), name: "sanitizer", config: config)
        let stream = try plugin.newStream()
        defer { plugin.freeStream(stream) }
        var request = Rampart_V1_PluginRequest()
        request.request.prompt = prompt
        request.request.tools = [Rampart_V1_ToolDefinition.with { $0.name = "weather"; $0.parametersJson = Self.weather }]
        let admitted = try plugin.onRequest(try request.serializedBytes(), stream: stream)
        if case .deny(let deny)? = admitted.action { XCTFail("request denied: \(deny.message)") }
        var response = Rampart_V1_PluginResponse()
        response.response.text = "Calling the weather tool."
        response.response.toolCalls = calls
        return try plugin.onResponse(try response.serializedBytes(), stream: stream)
    }

    private func call(_ id: String, _ arguments: String) -> Rampart_V1_ToolCall {
        Rampart_V1_ToolCall.with { $0.id = id; $0.name = "weather"; $0.argumentsJson = arguments }
    }

    func testResponseToolCallsAreRepairedAndRedactedThroughTheABI() throws {
        let verdict = try respond(config: #"{"tools": {"on_invalid_arguments": "repair"}}"#, calls: [
            call("c1", #"{"city":"Paris","days":"3","debug":true}"#),
            call("c2", #"{"city":"use \#(Self.key) here","days":1}"#),
            call("c3", #"{"city":"Lyon"}"#),
        ])
        guard case .mutate(let mutation)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertTrue(mutation.replaceToolCalls)
        XCTAssertFalse(mutation.replaceText, "the text had nothing to redact")
        XCTAssertEqual(mutation.toolCalls.map(\.id), ["c1", "c2", "c3"])
        XCTAssertEqual(mutation.toolCalls.map(\.name), ["weather", "weather", "weather"])
        XCTAssertEqual(mutation.toolCalls[0].argumentsJson, #"{"city":"Paris","days":3}"#)
        XCTAssertFalse(mutation.toolCalls[1].argumentsJson.contains(Self.key), mutation.toolCalls[1].argumentsJson)
        XCTAssertTrue(mutation.toolCalls[1].argumentsJson.contains("[AWS_ACCESS_KEY_1]"), mutation.toolCalls[1].argumentsJson)
        XCTAssertEqual(mutation.toolCalls[2].argumentsJson, #"{"city":"Lyon"}"#, "a valid call is kept as written")
        let notes = verdict.annotations.map(\.key)
        XCTAssertTrue(notes.contains("sanitizer.tool_repaired"), "\(notes)")
        XCTAssertTrue(notes.contains("sanitizer.secret"), "\(notes)")
    }

    func testValidCallsPassAndUnrepairableOnesAreRefused() throws {
        let clean = try respond(config: "{}", calls: [call("c1", #"{"city":"Paris","days":2}"#)])
        if case .mutate? = clean.action { XCTFail("nothing to rewrite: \(clean)") }
        let refused = try respond(config: "{}", calls: [call("c1", #"{"city":"Paris","days":"3"}"#)])
        guard case .deny(let deny)? = refused.action else { return XCTFail("\(refused)") }
        XCTAssertTrue(deny.message.contains("do not match the schema"), deny.message)
    }

    func testReversiblePlaceholdersGoBackIntoTheModelsCalls() throws {
        let verdict = try respond(config: #"{"redaction": "reversible"}"#, prompt: "Weather for alice@example.com's city?",
                                  calls: [call("c1", #"{"city":"home of [EMAIL_ADDRESS_1]","days":2}"#)])
        guard case .mutate(let mutation)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertTrue(mutation.replaceToolCalls)
        XCTAssertTrue(mutation.toolCalls.first?.argumentsJson.contains("home of alice@example.com") ?? false, "\(mutation.toolCalls)")
    }
}

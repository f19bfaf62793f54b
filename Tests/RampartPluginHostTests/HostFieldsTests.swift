import Foundation
import RampartChain
import RampartCore
import RampartPluginHost
import RampartProto
import XCTest

/// ABI 1.2: a C plugin that reads its input through the field getters (no protobuf) and answers
/// through host->deny / add_trailer / set_principal (Fixtures/fields_plugin.c).
final class HostFieldsTests: XCTestCase {
    private func chain(_ defines: [String] = [], signals: SignalStore = SignalStore()) throws -> PluginChain {
        let fixture = try buildFixture(defines, name: "fields", source: "fields_plugin.c")
        let loaded = try devLoader().load(directory: fixture.directory, library: fixture.library, name: "fields")
        let plugin = try NativePlugin(library: loaded, name: "fields", config: [], signals: signals) { _, _ in }
        return try PluginChain(stages: [ChainStage(plugin: plugin)])
    }

    private let context = CallContext(requestID: "r-77", method: "/rampart.v1.Inference/Generate", streamID: 3,
                                      peer: PeerCredentials(pid: 10, uid: 1234, gid: 5))

    private func run(_ chain: PluginChain, _ metadata: [String: String], prompt: String = "héllo",
                     maxTokens: UInt32 = 64, promptTokens: UInt32 = 0) throws -> ChainCall {
        try runRequest(chain, metadata, prompt: prompt, maxTokens: maxTokens, promptTokens: promptTokens).call
    }

    private func runRequest(_ chain: PluginChain, _ metadata: [String: String], prompt: String = "héllo",
                            maxTokens: UInt32 = 64, promptTokens: UInt32 = 0) throws
        -> (call: ChainCall, request: Rampart_V1_GenerateRequest) {
        let call = chain.begin(context)
        call.promptTokens = promptTokens
        var request = Rampart_V1_GenerateRequest()
        request.prompt = prompt
        request.params.maxTokens = maxTokens
        request.params.temperature = 0.5
        var metadata = metadata
        try call.onRequest(&request, metadata: &metadata)
        return (call, request)
    }

    func testSetMaxTokensChangesOnlyMaxTokens() throws {
        let (call, request) = try runRequest(try chain(), ["x-action": "clamp"], maxTokens: 900)
        XCTAssertEqual(request.params.maxTokens, 5)
        XCTAssertEqual(request.params.temperature, 0.5)
        XCTAssertEqual(call.responseMetadata["x-zero"], "3")  // 0 is refused: RP_ERR_INVALID_ARGUMENT
    }

    func testGettersSeeTheCallWithoutAnyProtobuf() throws {
        let call = try run(try chain(), ["x-user": "ada", "authorization": "Bearer t"], maxTokens: 64, promptTokens: 7)
        let seen = call.responseMetadata
        XCTAssertEqual(seen["x-method-ok"], "1")
        XCTAssertEqual(seen["x-request-id-ok"], "1")
        XCTAssertEqual(seen["x-principal"], "none")
        XCTAssertEqual(seen["x-max-tokens"], "64")
        XCTAssertEqual(seen["x-prompt-bytes"], "6")  // "héllo" is 6 UTF-8 bytes
        XCTAssertEqual(seen["x-prompt-tokens"], "7")
        XCTAssertEqual(seen["x-peer-uid"], "1234")
        XCTAssertEqual(seen["x-inference"], "1")
        XCTAssertEqual(seen["x-user-seen"], "ada")
    }

    func testDenyThroughTheHostCarriesCodeMessageRetryAndTrailers() throws {
        XCTAssertThrowsError(try run(try chain(), ["x-action": "deny"])) { error in
            let error = error as? RPCError
            XCTAssertEqual(error?.code, .resourceExhausted)
            XCTAssertEqual(error?.message, "slow down")
            XCTAssertEqual(error?.metadata["retry-after-ms"], "1500")
            XCTAssertEqual(error?.metadata["x-limit"], "requests")
            XCTAssertEqual(error?.metadata["rampart-denied-by"], "fields")
        }
    }

    func testPrincipalAndTrailersThroughTheHost() throws {
        let call = try run(try chain(), ["x-action": "principal"])
        XCTAssertEqual(call.principal?.id, "p1")
        XCTAssertEqual(call.principal?.scopes, ["infer"])
        XCTAssertEqual(call.responseMetadata["x-remaining"], "41")
    }

    func testAVerdictAndAHostAnswerTogetherAreAMalformedVerdict() throws {
        XCTAssertThrowsError(try run(try chain(), ["x-action": "both"])) { error in
            let error = error as? RPCError
            XCTAssertEqual(error?.code, .internal)
            XCTAssertTrue(error?.message.contains("both wrote a Verdict and answered") ?? false, "\(String(describing: error))")
        }
    }

    func testBadArgumentsAreRefusedWithAStatus() throws {
        let seen = try run(try chain(), ["x-action": "bad"]).responseMetadata
        XCTAssertEqual(seen["x-bad-key"], "3")        // RP_ERR_INVALID_ARGUMENT
        XCTAssertEqual(seen["x-bad-utf8"], "3")
        XCTAssertEqual(seen["x-bad-code"], "3")
        XCTAssertEqual(seen["x-bad-principal"], "3")
        XCTAssertEqual(seen["x-unknown-field"], "0")   // absent
        XCTAssertEqual(seen["x-scope-out-of-range"], "0")
        XCTAssertEqual(seen["x-ending-in-request"], "0")
        XCTAssertEqual(seen["x-null-out"], "0")
    }

    func testLengthsAboveSSizeMaxAreRefusedNotRead() throws {
        let seen = try run(try chain(), ["x-action": "huge"]).responseMetadata
        for key in ["x-deny", "x-trailer-key", "x-trailer-value", "x-principal", "x-append", "x-append-max"] {
            XCTAssertEqual(seen[key], "3", key)  // RP_ERR_INVALID_ARGUMENT
        }
        XCTAssertEqual(seen["x-signal-get"], "0")
    }

    func testInputProtobufIsEncodedOnDemand() throws {
        let seen = try run(try chain(), ["x-action": "pb"], prompt: String(repeating: "p", count: 300)).responseMetadata
        let length = try XCTUnwrap(seen["x-pb-len"].flatMap(Int.init))
        XCTAssertGreaterThan(length, 300)  // the whole PluginRequest, prompt included
    }

    func testStreamEndReadsTheEndingAndCannotAnswer() throws {
        let signals = SignalStore()
        let call = try run(try chain(signals: signals), [:])
        var usage = Rampart_V1_Usage()
        usage.completionTokens = 12
        call.end(finish: .stop, usage: usage, status: .cancelled, deliveredBytes: 40)
        XCTAssertEqual(signals.get("end:status"), Double(StatusCode.cancelled.rawValue))
        XCTAssertEqual(signals.get("end:completion"), 12)
        XCTAssertEqual(signals.get("end:deny"), 9)  // RP_ERR_FAILED_PRECONDITION
    }

    func testResponseHookTrailersReachTheResponse() throws {
        let call = try run(try chain(), [:])
        var response = Rampart_V1_GenerateResponse()
        response.text = "fine"
        var trailers: [String: String] = [:]
        try call.onResponse(&response, trailers: &trailers)
        XCTAssertEqual(trailers["x-response-seen"], "1")
        XCTAssertEqual(trailers["x-response-max-tokens"], "9")  // RP_ERR_FAILED_PRECONDITION: request hooks only
        // The request hook's answer (same stream, same rp_call state) is not given again.
        XCTAssertNil(trailers["x-method-ok"])
        XCTAssertEqual(call.responseMetadata["x-method-ok"], "1")
        XCTAssertEqual(response.text, "fine")
    }

    func testResponseHookDenialCarriesItsTrailers() throws {
        let call = try run(try chain(), [:])
        var response = Rampart_V1_GenerateResponse()
        response.text = "deny"
        var trailers: [String: String] = [:]
        XCTAssertThrowsError(try call.onResponse(&response, trailers: &trailers)) { error in
            let error = error as? RPCError
            XCTAssertEqual(error?.code, .permissionDenied)
            XCTAssertEqual(error?.message, "response refused")
            XCTAssertEqual(error?.metadata["x-why"], "output")
        }
    }

    func testContentFieldsGiveThePromptAndEveryMessage() throws {
        let call = try chain().begin(context)
        var request = Rampart_V1_GenerateRequest()
        request.prompt = "raw ✓"
        request.messages = [
            Rampart_V1_ChatMessage.with { $0.role = .system; $0.content = "be brief" },
            Rampart_V1_ChatMessage.with { $0.role = .retrieved; $0.content = "doc text"; $0.name = "kb" },
            Rampart_V1_ChatMessage.with {
                $0.role = .assistant
                $0.toolCalls = [Rampart_V1_ToolCall.with { $0.name = "f" }, Rampart_V1_ToolCall.with { $0.name = "g" }]
            },
            Rampart_V1_ChatMessage.with { $0.role = .tool; $0.content = "42"; $0.toolCallID = "c1" },
        ]
        request.tools = [Rampart_V1_ToolDefinition.with { $0.name = "f" }]
        var metadata = ["x-action": "content"]
        try call.onRequest(&request, metadata: &metadata)
        let seen = call.responseMetadata
        XCTAssertEqual(seen["x-prompt"], "raw ✓")
        XCTAssertEqual(seen["x-messages"], "4")
        XCTAssertEqual(seen["x-m0-role"], "system")
        XCTAssertEqual(seen["x-m0-content"], "be brief")
        XCTAssertEqual(seen["x-m0-name"], "")
        XCTAssertEqual(seen["x-m1-role"], "retrieved")
        XCTAssertEqual(seen["x-m1-name"], "kb")
        XCTAssertEqual(seen["x-m2-role"], "assistant")
        XCTAssertEqual(seen["x-m3-role"], "tool")
        XCTAssertEqual(seen["x-m3-content"], "42")
        XCTAssertEqual(seen["x-m3-tool-call-id"], "c1")
        XCTAssertEqual(seen["x-past-last"], "0")
        XCTAssertEqual(seen["x-prompt-index-1"], "0")
        XCTAssertEqual(seen["x-tools"], "1")
        XCTAssertEqual(seen["x-tool-calls"], "2")
    }

    func testWithoutTheCapabilityThePluginGetsProtobuf() throws {
        // The fixture refuses protobuf input: the host must send it when the flag is absent.
        XCTAssertThrowsError(try run(try chain(["NO_FIELDS_CAP"]), [:])) { error in
            XCTAssertTrue("\(error)".contains("expected no protobuf"), "\(error)")
        }
    }

    func testTheCapabilityNeedsABI12() throws {
        let fixture = try buildFixture(["ABI_1_1"], name: "fields", source: "fields_plugin.c")
        XCTAssertThrowsError(try devLoader().load(directory: fixture.directory, library: fixture.library, name: "fields")) { error in
            XCTAssertTrue("\(error)".contains("RP_CAP_HOST_FIELDS needs ABI 1.2"), "\(error)")
        }
    }
}

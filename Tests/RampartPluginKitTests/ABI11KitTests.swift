import CRampartPlugin
import Foundation
import RampartAudit
import RampartChain
import RampartCore
@testable import RampartPluginHost
import RampartPluginKit
import RampartProto
import Synchronization
import XCTest

/// A kit plugin using every ABI 1.1 feature: it sees all methods, serves one, sets the principal,
/// adds response metadata and audits.
final class Gatekeeper: RampartPlugin {
    static let name = "gatekeeper"
    static let version = "1.1.0"
    static let hooks: PluginHooks = [.request]
    static let isThreadSafe = true
    static let seesAllMethods = true
    static let methods = ["test.Gate/Whoami"]
    init(config: [UInt8], host: PluginHost) throws {}

    func onRequest(_ request: Rampart_V1_PluginRequest, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        guard let token = request.metadata.first(where: { $0.key == "authorization" })?.text, token == "Bearer good" else {
            context.host.audit(kind: "auth.failure", outcome: "failure", reason: "missing_credentials")
            return .deny(code: .unauthenticated, message: "missing_credentials")
        }
        context.host.audit(kind: "auth.success", outcome: "success", principalID: "alice")
        return .mutate {
            $0.principal = Rampart_V1_Principal.with { $0.id = "alice"; $0.scopes = ["infer"] }
            $0.responseMetadata = [Rampart_V1_MetadataEntry.with { $0.key = "x-principal"; $0.text = "alice" }]
        }
    }

    func onMethod(_ call: Rampart_V1_PluginMethodCall, context: PluginCallContext) throws -> [UInt8] {
        guard call.context.principal.id == "alice" else { throw PluginError.permissionDenied("who are you") }
        return Array("\(call.context.principal.id) via \(call.context.method) body=\(call.body.count)".utf8)
    }
}

final class ABI11KitTests: XCTestCase {
    final class Sink: AuditSink {
        let events = Mutex<[Rampart_V1_AuditEvent]>([])
        func record(_ event: Rampart_V1_AuditEvent) { events.withLock { $0.append(event) } }
        var failures: Int { 0 }
    }

    func testDescriptorCarriesMethodsAndAllMethodsCapability() throws {
        let info = try DescriptorValidator.validate(try kitDescriptor(Gatekeeper.self), plugin: "x")
        XCTAssertEqual(info.methods, ["test.Gate/Whoami"])
        XCTAssertTrue(info.capabilities.contains(PluginCapabilities.allMethods))
        XCTAssertEqual(info.abiMinor, UInt16(RP_ABI_MINOR))
        XCTAssertTrue(info.capabilities.contains(PluginCapabilities.hostFields))
    }

    func testGateThenMethodThroughTheRealCallMachinery() throws {
        let descriptor = try kitDescriptor(Gatekeeper.self)
        let info = try DescriptorValidator.validate(descriptor, plugin: "kit")
        let library = LoadedLibrary(info: info, digest: "in-process", path: "in-process", descriptor: descriptor)
        let sink = Sink()
        let plugin = try NativePlugin(library: library, name: "gatekeeper", config: [], signals: SignalStore(), audit: sink) { _, _ in }
        let chain = try PluginChain(stages: [ChainStage(plugin: plugin)], audit: sink)
        let anonymous = CallContext(requestID: "r-1", method: "/test.Gate/Whoami", streamID: 1, peer: PeerCredentials(pid: 1, uid: 7, gid: 7))
        XCTAssertThrowsError(try chain.begin(anonymous).authorize(body: [], metadata: [:])) { error in
            XCTAssertEqual((error as? RPCError)?.code, .unauthenticated)
        }
        let call = chain.begin(anonymous)
        let metadata = ["authorization": "Bearer good"]
        try call.authorize(body: [1, 2], metadata: metadata)
        XCTAssertEqual(call.responseMetadata["x-principal"], "alice")
        let out = try call.callMethod("test.Gate/Whoami", body: [1, 2], metadata: metadata)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "alice via /test.Gate/Whoami body=2")
        // Without the gate's principal the method itself refuses, with its own status.
        XCTAssertThrowsError(try chain.begin(anonymous).callMethod("test.Gate/Whoami", body: [], metadata: [:])) { error in
            XCTAssertEqual((error as? RPCError)?.code, .permissionDenied)
            XCTAssertEqual((error as? RPCError)?.message, "who are you")
        }
        let events = sink.events.withLock { $0 }
        XCTAssertEqual(events.map(\.kind), ["auth.failure", "auth.success"])
        XCTAssertEqual(events.map(\.source), ["gatekeeper", "gatekeeper"])
        XCTAssertEqual(events[0].peer.uid, 7)
        XCTAssertEqual(events[1].principalID, "alice")
    }
}

/// A plugin that decides from the caller alone: the kit skips decoding the prompt.
final class HeaderOnly: RampartPlugin {
    static let name = "header-only"
    static let version = "1.0.0"
    static let hooks: PluginHooks = [.request]
    let decodesRequestBody = false
    init(config: [UInt8], host: PluginHost) throws {}

    func onRequest(_ request: Rampart_V1_PluginRequest, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        let key = request.metadata.first { $0.key == "x-api-key" }?.text ?? "-"
        return .deny(message: "uid=\(request.context.peer.uid) key=\(key) tokens=\(request.promptTokens) "
                     + "prompt=\(request.request.prompt.count) messages=\(request.request.messages.count) "
                     + "max_tokens=\(request.request.params.maxTokens) body=\(request.body.count)")
    }
}

final class HeaderOnlyKitTests: XCTestCase {
    func testTheKitHandsOverContextAndMetadataButNotThePrompt() throws {
        let plugin = try loadInProcess(HeaderOnly.self)
        var input = Rampart_V1_PluginRequest()
        input.context.peer.uid = 42
        input.context.method = "/rampart.v1.Inference/Generate"
        input.metadata = [Rampart_V1_MetadataEntry.with { $0.key = "x-api-key"; $0.text = "k1" }]
        input.promptTokens = 9
        input.request.prompt = String(repeating: "p", count: 4096)
        input.request.messages = [Rampart_V1_ChatMessage.with { $0.content = "m" }]
        input.request.params.maxTokens = 77
        input.body = Data(repeating: 1, count: 100)
        let verdict = try plugin.onRequest(try input.serializedBytes(), stream: nil)
        guard case .deny(let deny)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertEqual(deny.message, "uid=42 key=k1 tokens=9 prompt=0 messages=0 max_tokens=77 body=0")
    }
}

/// Implements the protobuf-free stream end: numbers directly, the whole summary on demand.
final class EndingReader: RampartPlugin {
    static let name = "ending-reader"
    static let version = "1.0.0"
    static let hooks: PluginHooks = [.streamEnd]
    init(config: [UInt8], host: PluginHost) throws {}

    func onStreamEnd(_ ending: StreamEnding, context: PluginCallContext) throws {
        let summary = try ending.summary()
        throw PluginError.internal("status=\(ending.statusCode) completion=\(ending.completionTokens) "
                                   + "delivered=\(ending.deliveredBytes) finish=\(ending.finishReason.rawValue) "
                                   + "request=\(summary.context.requestID) principal=\(summary.context.principal.id)")
    }
}

final class StreamEndingKitTests: XCTestCase {
    func testTheKitHandsNumbersAndTheWholeSummaryOnDemand() throws {
        let plugin = try loadInProcess(EndingReader.self)
        var summary = Rampart_V1_StreamSummary()
        summary.statusCode = 1
        summary.usage.completionTokens = 12
        summary.deliveredBytes = 40
        summary.finishReason = .length
        summary.context.requestID = "r-9"
        summary.context.principal.id = "p-1"
        XCTAssertThrowsError(try plugin.onStreamEnd(try summary.serializedBytes(), stream: nil)) { error in
            XCTAssertEqual(error as? RampartPluginHost.PluginError, .hookFailed(
                plugin: "kit", hook: "on_stream_end", status: 13,
                message: "status=1 completion=12 delivered=40 finish=\(Rampart_V1_FinishReason.length.rawValue) request=r-9 principal=p-1"))
        }
    }
}

/// Implements the field-by-field request hook.
final class ViewReader: RampartPlugin {
    static let name = "view-reader"
    static let version = "1.0.0"
    static let hooks: PluginHooks = [.request]
    init(config: [UInt8], host: PluginHost) throws {}

    func onRequest(_ view: RequestView, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        let key = view.metadata.first { $0.key == "x-api-key" }?.value ?? "-"
        let whole = try view.request()
        return .deny(message: "method=\(view.method) uid=\(view.peer?.uid ?? 0) principal=\(view.principal?.id ?? "-") "
                     + "scopes=\(view.principal?.scopes ?? []) key=\(key) max=\(view.maxTokens) tokens=\(view.promptTokens) "
                     + "bytes=\(view.promptBytes) deadline=\(view.deadlineUnixMicros) prompt=\(whole.request.prompt) "
                     + "parts=\(view.principalID ?? "-")|\(view.principalUser)|\(view.principalOrg)|\(view.principalScopes)|"
                     + "\(view.peerUID.map(String.init) ?? "-")")
    }
}

final class RequestViewKitTests: XCTestCase {
    func testTheViewReadsEveryFieldAndTheWholeRequestOnDemand() throws {
        let plugin = try loadInProcess(ViewReader.self)
        var input = Rampart_V1_PluginRequest()
        input.context.method = "/rampart.v1.Inference/Generate"
        input.context.peer.uid = 42
        input.context.principal.id = "p-7"
        input.context.principal.scopes = ["infer", "admin"]
        input.context.principal.user = "ada"
        input.context.principal.org = "acme"
        input.context.deadlineUnixUs = 99
        input.metadata = [Rampart_V1_MetadataEntry(key: "x-api-key", text: "k1")]
        input.promptTokens = 9
        input.request.prompt = "héllo"
        input.request.params.maxTokens = 77
        let verdict = try plugin.onRequest(try input.serializedBytes(), stream: nil)
        guard case .deny(let deny)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertEqual(deny.message, "method=/rampart.v1.Inference/Generate uid=42 principal=p-7 scopes=[\"infer\", \"admin\"] "
                       + "key=k1 max=77 tokens=9 bytes=6 deadline=99 prompt=héllo parts=p-7|ada|acme|[\"infer\", \"admin\"]|42")
    }

    /// The principal's parts one by one: absent before an authentication plugin, like the peer.
    func testThePrincipalPartsOfAnAnonymousCall() throws {
        let plugin = try loadInProcess(ViewReader.self)
        var input = Rampart_V1_PluginRequest()
        input.context.method = "/rampart.v1.Inference/Generate"
        let verdict = try plugin.onRequest(try input.serializedBytes(), stream: nil)
        guard case .deny(let deny)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertTrue(deny.message.hasSuffix("parts=-|||[]|-"), deny.message)
    }
}

/// Answers through `context.answer` (ABI 1.2 host calls) as the request's `mode` metadata says.
final class DirectAnswerer: RampartPlugin {
    static let name = "direct-answerer"
    static let version = "1.0.0"
    static let hooks: PluginHooks = [.request, .streamEnd]
    init(config: [UInt8], host: PluginHost) throws {}

    func onRequest(_ view: RequestView, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        let mode = view.metadata.first { $0.key == "mode" }?.value ?? ""
        switch mode {
        case "clamp":
            guard context.answer(maxTokens: 5, trailers: [("ratelimit", "tokens=5/9"), ("x.y_z-1", "")]) else {
                return .deny(message: "answer refused")
            }
            return .pass
        case "deny-after":
            guard context.answer(trailers: [("why", "budget")]) else { return .deny(message: "answer refused") }
            return .deny(code: .resourceExhausted, message: "over budget")
        default:
            // Each of these must be refused with no call made: the verdict carries none of them.
            let refused = [
                context.answer(maxTokens: 0),
                context.answer(maxTokens: 3, trailers: [("Bad Key", "v")]),
                context.answer(trailers: [("", "v")]),
                context.answer(trailers: [(String(repeating: "k", count: 129), "v")]),
                context.answer(trailers: [("k", String(repeating: "v", count: 4097))]),
                context.answer(trailers: Array(repeating: ("k", "v"), count: 65)),
            ]
            return .deny(message: "refused=\(refused.map { $0 ? 1 : 0 })")
        }
    }

    func onStreamEnd(_ ending: StreamEnding, context: PluginCallContext) throws {
        throw PluginError.internal("answered-at-end=\(context.answer(trailers: [("k", "v")]))")
    }
}

final class DirectAnswerKitTests: XCTestCase {
    private func request(mode: String, method: String = "/rampart.v1.Inference/Generate") throws -> [UInt8] {
        var input = Rampart_V1_PluginRequest()
        input.context.method = method
        input.metadata = [Rampart_V1_MetadataEntry(key: "mode", text: mode)]
        input.request.prompt = "hi"
        return try input.serializedBytes()
    }

    func testHostCallsBecomeTheMutation() throws {
        let plugin = try loadInProcess(DirectAnswerer.self)
        let verdict = try plugin.onRequest(try request(mode: "clamp"), stream: nil)
        guard case .mutate(let mutation)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertEqual(mutation.maxTokens, 5)
        XCTAssertFalse(mutation.hasParams, "max_tokens alone, not the sampling parameters")
        XCTAssertEqual(mutation.responseMetadata.map(\.key), ["ratelimit", "x.y_z-1"])
        XCTAssertEqual(mutation.responseMetadata.first?.text, "tokens=5/9")
    }

    func testMaxTokensOnANonInferenceCallIsRefusedWholly() throws {
        let plugin = try loadInProcess(DirectAnswerer.self)
        let verdict = try plugin.onRequest(try request(mode: "clamp", method: "/rampart.v1.Admin/Stats"), stream: nil)
        guard case .deny(let deny)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertEqual(deny.message, "answer refused")
        XCTAssertTrue(deny.metadata.isEmpty, "no trailer may be left behind by a refused answer: \(deny.metadata)")
    }

    func testTrailersGoWithALaterDenial() throws {
        let plugin = try loadInProcess(DirectAnswerer.self)
        let verdict = try plugin.onRequest(try request(mode: "deny-after"), stream: nil)
        guard case .deny(let deny)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertEqual(deny.code, 8)
        XCTAssertEqual(deny.metadata.map(\.key), ["why"])
    }

    func testInvalidAnswersAreRefusedWithNoCallMade() throws {
        let plugin = try loadInProcess(DirectAnswerer.self)
        let verdict = try plugin.onRequest(try request(mode: "invalid"), stream: nil)
        guard case .deny(let deny)? = verdict.action else { return XCTFail("\(verdict)") }
        XCTAssertEqual(deny.message, "refused=[0, 0, 0, 0, 0, 0]")
        XCTAssertTrue(deny.metadata.isEmpty, "a refused answer adds nothing: \(deny.metadata)")
    }

    func testAStreamEndCannotAnswer() throws {
        let plugin = try loadInProcess(DirectAnswerer.self)
        XCTAssertThrowsError(try plugin.onStreamEnd(try Rampart_V1_StreamSummary().serializedBytes(), stream: nil)) { error in
            XCTAssertEqual(error as? RampartPluginHost.PluginError,
                           .hookFailed(plugin: "kit", hook: "on_stream_end", status: 13, message: "answered-at-end=false"))
        }
    }
}

/// Reports ``RequestView/content()`` as its denial message.
final class ContentReader: RampartPlugin {
    static let name = "content-reader"
    static let version = "1.0.0"
    static let hooks: PluginHooks = [.request]
    init(config: [UInt8], host: PluginHost) throws {}

    func onRequest(_ view: RequestView, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        let content = try view.content()
        let messages = content.messages.map { "\($0.role)|\($0.content)|\($0.name)|\($0.toolCallID)" }
        return .deny(message: "prompt=\(content.prompt) messages=\(messages) tools=\(content.toolCount) calls=\(content.toolCallCount)")
    }
}

final class RequestContentKitTests: XCTestCase {
    private func message(_ request: Rampart_V1_PluginRequest) throws -> String {
        let plugin = try loadInProcess(ContentReader.self)
        let verdict = try plugin.onRequest(try request.serializedBytes(), stream: nil)
        guard case .deny(let deny)? = verdict.action else { XCTFail("\(verdict)"); return "" }
        return deny.message
    }

    func testContentComesFromTheFieldsWithToolCounts() throws {
        var input = Rampart_V1_PluginRequest()
        input.context.method = "/rampart.v1.Inference/Generate"
        input.request.prompt = "p"
        input.request.messages = [
            Rampart_V1_ChatMessage.with { $0.role = .user; $0.content = "héllo" },
            Rampart_V1_ChatMessage.with { $0.role = .assistant; $0.toolCalls = [Rampart_V1_ToolCall.with { $0.name = "f" }] },
            Rampart_V1_ChatMessage.with { $0.role = .tool; $0.content = "1"; $0.name = "f"; $0.toolCallID = "c" },
        ]
        input.request.tools = [Rampart_V1_ToolDefinition(), Rampart_V1_ToolDefinition()]
        XCTAssertEqual(try message(input),
                       "prompt=p messages=[\"user|héllo||\", \"assistant|||\", \"tool|1|f|c\"] tools=2 calls=1")
    }

    func testANonInferenceCallHasNoContent() throws {
        var input = Rampart_V1_PluginRequest()
        input.context.method = "/rampart.v1.Admin/Stats"
        XCTAssertEqual(try message(input), "prompt= messages=[] tools=0 calls=0")
    }

    func testContentOfADecodedRequestMatchesTheFields() {
        var request = Rampart_V1_GenerateRequest()
        request.prompt = "x"
        request.messages = [Rampart_V1_ChatMessage.with { $0.role = .retrieved; $0.content = "doc"; $0.toolCalls = [Rampart_V1_ToolCall()] }]
        XCTAssertEqual(RequestContent(request), RequestContent(
            prompt: "x", messages: [RequestContent.Message(role: .retrieved, content: "doc")], toolCount: 0, toolCallCount: 1))
    }
}

/// A response hook adding a trailer (`add_metadata`) or, wrongly, `response_metadata` (request
/// hooks only), as the response's text says.
final class ResponseTrailer: RampartPlugin {
    static let name = "response-trailer"
    static let version = "1.0.0"
    static let hooks: PluginHooks = [.response]
    init(config: [UInt8], host: PluginHost) throws {}

    func onResponse(_ response: Rampart_V1_PluginResponse, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        .mutate { mutation in
            let entry = Rampart_V1_MetadataEntry(key: "x-checked", text: "yes")
            if response.response.text == "wrong-field" { mutation.responseMetadata = [entry] } else { mutation.addMetadata = [entry] }
        }
    }
}

final class ResponseAnswerKitTests: XCTestCase {
    private func respond(_ text: String) throws -> Rampart_V1_Mutation? {
        let plugin = try loadInProcess(ResponseTrailer.self)
        var input = Rampart_V1_PluginResponse()
        input.response.text = text
        let verdict = try plugin.onResponse(try input.serializedBytes(), stream: nil)
        guard case .mutate(let mutation)? = verdict.action else { return nil }
        return mutation
    }

    func testAResponseHookTrailerIsItsAddMetadata() throws {
        let mutation = try XCTUnwrap(try respond("fine"))
        XCTAssertEqual(mutation.addMetadata.map(\.key), ["x-checked"])
        XCTAssertTrue(mutation.responseMetadata.isEmpty)
    }

    func testResponseMetadataInAResponseHookIsNotMadeATrailer() throws {
        // request-hook-only field: sent as protobuf, where the chain ignores it, not turned into a trailer
        let mutation = try XCTUnwrap(try respond("wrong-field"))
        XCTAssertTrue(mutation.addMetadata.isEmpty)
        XCTAssertEqual(mutation.responseMetadata.map(\.key), ["x-checked"])
    }
}

import Foundation
import RampartChain
import RampartCore
import RampartProto
import XCTest

/// An in-memory plugin whose hooks are closures.
final class FakePlugin: ChainPlugin, @unchecked Sendable {
    let name: String
    let hooks: ChainHooks
    var seesAllMethods = false
    var methods: [String] = []
    var method: ([UInt8], ChainEnvironment) throws -> [UInt8] = { _, _ in [] }
    var request: ([UInt8]) throws -> Rampart_V1_Verdict = { _ in Rampart_V1_Verdict() }
    var response: ([UInt8]) throws -> Rampart_V1_Verdict = { _ in Rampart_V1_Verdict() }
    var chunk: (String) throws -> ChunkDecision = { _ in .pass }
    var opened = 0
    var closed = 0
    var seenPrompts: [String] = []

    init(_ name: String, hooks: ChainHooks) {
        self.name = name
        self.hooks = hooks
    }

    func openStream(_ environment: ChainEnvironment) throws -> any ChainPluginStream {
        opened += 1
        return Stream(plugin: self, environment: environment)
    }

    final class Stream: ChainPluginStream {
        let plugin: FakePlugin
        let environment: ChainEnvironment
        init(plugin: FakePlugin, environment: ChainEnvironment) {
            self.plugin = plugin
            self.environment = environment
        }
        func onMethod(_ call: [UInt8]) throws -> [UInt8] { try plugin.method(call, environment) }
        func onRequest(_ input: HookInput) throws -> Rampart_V1_Verdict {
            let request = try input.encodedBytes()
            plugin.seenPrompts.append((try? Rampart_V1_PluginRequest(serializedBytes: request))?.request.prompt ?? "?")
            return try plugin.request(request)
        }
        func onResponse(_ input: HookInput) throws -> Rampart_V1_Verdict { try plugin.response(try input.encodedBytes()) }
        func onChunk(_ text: String) throws -> ChunkDecision { try plugin.chunk(text) }
        func close() { plugin.closed += 1 }
    }
}

struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }

func verdict(_ build: (inout Rampart_V1_Verdict) -> Void) -> Rampart_V1_Verdict {
    var v = Rampart_V1_Verdict()
    build(&v)
    return v
}

final class ChainTests: XCTestCase {
    let context = CallContext(requestID: "r-1", method: "/rampart.v1.Inference/Generate", streamID: 1,
                              peer: PeerCredentials(pid: 1, uid: 2, gid: 3))

    func request(_ prompt: String) -> Rampart_V1_GenerateRequest {
        var r = Rampart_V1_GenerateRequest()
        r.prompt = prompt
        return r
    }

    func testMutationsFlowInOrderAndStreamsOpenOnceAndClose() throws {
        let first = FakePlugin("first", hooks: [.request])
        first.request = { _ in verdict { v in
            var m = Rampart_V1_Mutation()
            m.replacePrompt = true
            m.prompt = "rewritten"
            m.addMetadata = [Rampart_V1_MetadataEntry.with { $0.key = "x-tag"; $0.value = .text("1") }]
            v.mutate = m
        } }
        let second = FakePlugin("second", hooks: [.request, .chunk])
        let chain = try PluginChain(stages: [ChainStage(plugin: first), ChainStage(plugin: second)])
        let call = chain.begin(context)
        var r = request("original")
        var metadata: [String: String] = [:]
        try call.onRequest(&r, metadata: &metadata)
        XCTAssertEqual(r.prompt, "rewritten")
        XCTAssertEqual(metadata["x-tag"], "1")
        XCTAssertEqual(first.seenPrompts, ["original"])
        XCTAssertEqual(second.seenPrompts, ["rewritten"], "later plugins see earlier mutations")
        XCTAssertEqual(try call.filterChunk("abc"), "abc")
        call.end(finish: .stop, usage: Rampart_V1_Usage(), status: .ok, deliveredBytes: 3)
        XCTAssertEqual(first.opened, 1)
        XCTAssertEqual(second.opened, 1)
        XCTAssertEqual(first.closed + second.closed, 2)
        XCTAssertEqual(chain.stages[0].stats.snapshot.mutated, 1)
        XCTAssertEqual(chain.stages[1].stats.snapshot.passed, 2)
    }

    /// ABI 1.3: a response hook may replace the tool calls (and the text) of a unary response;
    /// later hooks see the replacement.
    func testAResponseHookReplacesTheToolCalls() throws {
        let fixer = FakePlugin("fixer", hooks: [.response])
        fixer.response = { bytes in
            let input = try Rampart_V1_PluginResponse(serializedBytes: bytes)
            return verdict { v in
                var m = Rampart_V1_Mutation()
                m.replaceToolCalls = true
                m.toolCalls = input.response.toolCalls.map { call in
                    var fixed = call
                    fixed.argumentsJson = #"{"days":3}"#
                    return fixed
                }
                v.mutate = m
            }
        }
        let reader = FakePlugin("reader", hooks: [.response])
        var seen: [String] = []
        reader.response = { bytes in
            seen = try Rampart_V1_PluginResponse(serializedBytes: bytes).response.toolCalls.map(\.argumentsJson)
            return Rampart_V1_Verdict()
        }
        let chain = try PluginChain(stages: [ChainStage(plugin: fixer), ChainStage(plugin: reader)])
        let call = chain.begin(context)
        var r = request("weather?")
        var metadata: [String: String] = [:]
        try call.onRequest(&r, metadata: &metadata)
        var response = Rampart_V1_GenerateResponse()
        response.text = "calling"
        response.toolCalls = [Rampart_V1_ToolCall.with { $0.id = "c1"; $0.name = "weather"; $0.argumentsJson = #"{"days":"3"}"# }]
        var trailers: [String: String] = [:]
        try call.onResponse(&response, trailers: &trailers)
        XCTAssertEqual(response.toolCalls.map(\.argumentsJson), [#"{"days":3}"#])
        XCTAssertEqual(response.toolCalls.map(\.id), ["c1"])
        XCTAssertEqual(response.text, "calling", "the text is left alone without replace_text")
        XCTAssertEqual(seen, [#"{"days":3}"#], "later hooks see the replacement")
        // Without replace_tool_calls, tool_calls in a mutation are ignored (append-only ABI rule).
        fixer.response = { _ in verdict { v in
            var m = Rampart_V1_Mutation()
            m.toolCalls = [Rampart_V1_ToolCall.with { $0.name = "other" }]
            v.mutate = m
        } }
        let again = chain.begin(context)
        try again.onRequest(&r, metadata: &metadata)
        try again.onResponse(&response, trailers: &trailers)
        XCTAssertEqual(response.toolCalls.map(\.name), ["weather"])
    }

    func testDenyStopsTheChainWithItsStatus() throws {
        let denier = FakePlugin("guard", hooks: [.request])
        denier.request = { _ in verdict { v in
            var d = Rampart_V1_Deny()
            d.code = 8
            d.message = "slow down"
            d.retryAfterMs = 1500
            v.deny = d
        } }
        let never = FakePlugin("never", hooks: [.request])
        let chain = try PluginChain(stages: [ChainStage(plugin: denier), ChainStage(plugin: never)])
        var r = request("x")
        var metadata: [String: String] = [:]
        XCTAssertThrowsError(try chain.begin(context).onRequest(&r, metadata: &metadata)) { error in
            let e = error as? RPCError
            XCTAssertEqual(e?.code, .resourceExhausted)
            XCTAssertEqual(e?.message, "slow down")
            XCTAssertEqual(e?.metadata["retry-after-ms"], "1500")
            XCTAssertEqual(e?.metadata["rampart-denied-by"], "guard")
        }
        XCTAssertTrue(never.seenPrompts.isEmpty)
        XCTAssertEqual(chain.stages[0].stats.snapshot.denied, 1)
        XCTAssertEqual(chain.stages[1].stats.snapshot.skipped, 1, "plugins after a deny are counted as skipped")
        XCTAssertEqual(chain.stages[1].stats.snapshot.passed, 0)

        denier.request = { _ in verdict { $0.deny = Rampart_V1_Deny() } }  // code 0
        XCTAssertThrowsError(try chain.begin(context).onRequest(&r, metadata: &metadata)) { error in
            XCTAssertEqual((error as? RPCError)?.code, .permissionDenied)
        }
    }

    func testFailureModesClosedAndOpen() throws {
        let broken = FakePlugin("broken", hooks: [.request])
        broken.request = { _ in throw Boom() }
        let closed = try PluginChain(stages: [ChainStage(plugin: broken, policy: StagePolicy(failureMode: .closed))])
        var r = request("x")
        var metadata: [String: String] = [:]
        XCTAssertThrowsError(try closed.begin(context).onRequest(&r, metadata: &metadata)) { error in
            let e = error as? RPCError
            XCTAssertEqual(e?.code, .internal)
            XCTAssertEqual(e?.message, "plugin broken failed: boom")
            XCTAssertEqual(e?.metadata["rampart-failed-plugin"], "broken")
        }
        let after = FakePlugin("after", hooks: [.request])
        let open = try PluginChain(stages: [ChainStage(plugin: broken, policy: StagePolicy(failureMode: .open)), ChainStage(plugin: after)])
        try open.begin(context).onRequest(&r, metadata: &metadata)
        XCTAssertEqual(after.seenPrompts, ["x"], "fail-open continues with the next plugin")
        XCTAssertEqual(open.stages[0].stats.snapshot.errored, 1)
        XCTAssertEqual(open.stages[0].stats.snapshot.passed, 0)
    }

    func testTimeoutIsAFailure() throws {
        let slow = FakePlugin("slow", hooks: [.request])
        slow.request = { _ in
            Thread.sleep(forTimeInterval: 0.05)
            return Rampart_V1_Verdict()
        }
        let chain = try PluginChain(stages: [ChainStage(plugin: slow, policy: StagePolicy(timeout: .milliseconds(10)))])
        var r = request("x")
        var metadata: [String: String] = [:]
        XCTAssertThrowsError(try chain.begin(context).onRequest(&r, metadata: &metadata)) { error in
            XCTAssertEqual((error as? RPCError)?.code, .unavailable)
            XCTAssertTrue("\(error)".contains("exceeded its timeout of 10 ms"), "\(error)")
        }
        XCTAssertEqual(chain.stages[0].stats.snapshot.timedOut, 1)
        let lenient = try PluginChain(stages: [ChainStage(plugin: slow, policy: StagePolicy(failureMode: .open, timeout: .milliseconds(10)))])
        try lenient.begin(context).onRequest(&r, metadata: &metadata)
    }

    func testChunkReplaceAndStop() throws {
        let filter = FakePlugin("filter", hooks: [.chunk])
        filter.chunk = { text in
            if text.contains("SECRET") { return .stop }
            if text.contains("cat") { return .replace(text.replacingOccurrences(of: "cat", with: "dog")) }
            return .pass
        }
        let call = try PluginChain(stages: [ChainStage(plugin: filter)]).begin(context)
        XCTAssertEqual(try call.filterChunk("a cat"), "a dog")
        XCTAssertThrowsError(try call.filterChunk("the SECRET")) { error in
            XCTAssertEqual((error as? RPCError)?.code, .permissionDenied)
            XCTAssertEqual((error as? RPCError)?.metadata["rampart-blocked-by"], "filter")
        }
    }

    func testHoldBackWindowReleasesOnlyBeyondTheLimitAndOnCharacterBoundaries() {
        var window = HoldBackWindow(limit: 8)
        XCTAssertEqual(window.push("hello"), "")
        XCTAssertEqual(window.push(" world"), "hel")
        XCTAssertEqual(window.heldBytes, 8)
        XCTAssertEqual(window.push("é"), "lo")  // 2-byte char: release whole characters only
        XCTAssertLessThanOrEqual(window.heldBytes, 8)
        XCTAssertEqual(window.flush(), " worldé")
        var stopped = HoldBackWindow(limit: 16)
        XCTAssertEqual(stopped.push("token sk-live-1234"), "to")
        stopped.discard()
        XCTAssertEqual(stopped.flush(), "", "discarded text never reaches the client")
        var emoji = HoldBackWindow(limit: 3)
        let released = emoji.push("👍🏽ok")
        XCTAssertTrue(released.isEmpty || released == "👍🏽", released)
    }
}

/// A host-call answer as a protobuf verdict (what an isolated plugin's process sends back).
final class HookAnswerTests: XCTestCase {
    func testEmptyIsAPass() {
        XCTAssertNil(HookAnswer().verdict(for: .request))
    }

    func testDenyCarriesCodeMessageRetryAndTrailers() {
        var answer = HookAnswer()
        answer.deny = HookAnswer.Deny(code: 8, message: "slow", retryAfterMs: 250)
        answer.trailers = [(key: "ratelimit", value: "0/5")]
        answer.maxTokens = 9  // a denial carries no mutation
        guard case .deny(let deny)? = answer.verdict(for: .request)?.action else { return XCTFail() }
        XCTAssertEqual(deny.code, 8)
        XCTAssertEqual(deny.message, "slow")
        XCTAssertEqual(deny.retryAfterMs, 250)
        XCTAssertEqual(deny.metadata, [Rampart_V1_MetadataEntry(key: "ratelimit", text: "0/5")])
    }

    func testTrailersGoWhereEachHookKindPutsThem() {
        var answer = HookAnswer()
        answer.trailers = [(key: "k", value: "v")]
        answer.maxTokens = 7
        answer.principal = Rampart_V1_Principal.with { $0.id = "p" }
        guard case .mutate(let request)? = answer.verdict(for: .request)?.action else { return XCTFail() }
        XCTAssertEqual(request.responseMetadata.map(\.key), ["k"])
        XCTAssertTrue(request.addMetadata.isEmpty)
        XCTAssertEqual(request.maxTokens, 7)
        XCTAssertEqual(request.principal.id, "p")
        guard case .mutate(let response)? = answer.verdict(for: .response)?.action else { return XCTFail() }
        XCTAssertEqual(response.addMetadata.map(\.key), ["k"])
        XCTAssertTrue(response.responseMetadata.isEmpty)
    }
}

/// String fields handed to the C ABI are packed into shared blocks: every copy stays intact and
/// at its address while the input lives, whatever the mix of sizes.
final class HookInputKeptStringsTests: XCTestCase {
    func testCopiesOfEverySizeStayIntactAndAreMadeOnce() {
        let input = HookInput(kind: .request, context: RequestContextFields(requestID: "r", method: "m", streamID: 1, peer: nil,
                                                                           deadlineUnixMicros: nil),
                              principal: nil, metadata: [], request: nil, promptTokens: 0, encode: { [] })
        var generator = SystemRandomNumberGenerator()
        var texts: [String] = []
        for index in 0..<300 {
            // Empty, small, around the sharing limit (a quarter of a block), and larger than a block.
            let length = [0, 1, 7, 255, 256, 257, 1023, 1024, 1500, Int.random(in: 0...300, using: &generator)][index % 10]
            let letter = Character(Unicode.Scalar(UInt8(0x61 + index % 26)))
            texts.append(String(repeating: letter, count: length) + (index % 3 == 0 ? "é\(index)" : ""))
        }
        var copies: [UnsafeRawBufferPointer] = []
        for (key, text) in texts.enumerated() {
            copies.append(input.stableUTF8(key: key) { text } ?? UnsafeRawBufferPointer(start: nil, count: 0))
        }
        for (key, text) in texts.enumerated() {
            XCTAssertEqual(Array(copies[key]), Array(text.utf8), "copy \(key)")
            let again = input.stableUTF8(key: key) { XCTFail("copied twice"); return nil }
            XCTAssertEqual(again?.baseAddress, copies[key].baseAddress)
        }
        XCTAssertNil(input.stableUTF8(key: -1) { nil })
    }

    /// Lookups agree on both sides of the switch from a linear scan to the key index.
    func testLookupsAcrossTheLinearLimit() {
        let input = HookInput(kind: .request, context: RequestContextFields(requestID: "r", method: "m", streamID: 1, peer: nil,
                                                                           deadlineUnixMicros: nil),
                              principal: nil, metadata: [], request: nil, promptTokens: 0, encode: { [] })
        let limit = HookInput.keptLinearLimit
        // Keys out of order and far apart (field << 32 | index, as the host makes them).
        let keys = (0...(limit + 3)).map { ($0 % 5) << 32 | ($0 * 7) }
        var addresses: [Int: UnsafeRawPointer?] = [:]
        for (count, key) in keys.enumerated() {
            addresses[key] = input.stableUTF8(key: key) { "value \(key)" }?.baseAddress
            // Every key stored so far is found again, unchanged, without a second copy.
            for earlier in keys.prefix(count + 1) {
                let again = input.stableUTF8(key: earlier) { XCTFail("copied twice at \(count)"); return nil }
                XCTAssertEqual(again?.baseAddress, addresses[earlier] ?? nil, "key \(earlier) after \(count + 1) copies")
                XCTAssertEqual(again.map { String(decoding: $0, as: UTF8.self) }, "value \(earlier)")
            }
            XCTAssertNil(input.stableUTF8(key: -7) { nil }, "an absent field stays absent at \(count + 1) copies")
        }
    }
}

/// A principal an earlier plugin answers (what an authentication plugin does) is swapped into
/// the same hook input: later plugins read the new principal through fields and protobuf alike,
/// and a new max_tokens still rebuilds the input from the changed request.
final class HookInputPrincipalTests: XCTestCase {
    /// A plugin whose request hook is a closure over the input, answering through host calls.
    final class AnsweringPlugin: ChainPlugin, @unchecked Sendable {
        let name: String
        let hooks: ChainHooks = [.request]
        var decide: (HookInput) throws -> HookDecision
        init(_ name: String, _ decide: @escaping (HookInput) throws -> HookDecision) {
            self.name = name
            self.decide = decide
        }
        func openStream(_ environment: ChainEnvironment) throws -> any ChainPluginStream { Stream(self) }
        final class Stream: ChainPluginStream {
            let plugin: AnsweringPlugin
            init(_ plugin: AnsweringPlugin) { self.plugin = plugin }
            func decideRequest(_ input: HookInput) throws -> HookDecision { try plugin.decide(input) }
        }
    }

    private func principal(_ id: String) -> Rampart_V1_Principal {
        Rampart_V1_Principal.with { $0.id = id; $0.scopes = ["infer"] }
    }

    private func run(_ plugins: [AnsweringPlugin], maxTokens: UInt32 = 64) throws -> Rampart_V1_GenerateRequest {
        let chain = try PluginChain(stages: plugins.map { ChainStage(plugin: $0) })
        let call = chain.begin(CallContext(requestID: "r", method: "/rampart.v1.Inference/Generate", streamID: 1, peer: nil))
        var request = Rampart_V1_GenerateRequest()
        request.prompt = "hi"
        request.params.maxTokens = maxTokens
        var metadata = ["b": "2", "a": "1"]
        try call.onRequest(&request, metadata: &metadata)
        return request
    }

    func testLaterPluginsReadTheNewPrincipalFromTheSameInput() throws {
        var inputs: [HookInput] = []  // kept alive: identities are compared
        var seen: [(field: String?, protobuf: String)] = []
        func read(_ input: HookInput) throws {
            inputs.append(input)
            // Read both ways, so that a stale copy of either would show in the next plugin.
            let field = input.stableUTF8(key: 42) { input.principal?.id }.map { String(decoding: $0, as: UTF8.self) }
            let message = try Rampart_V1_PluginRequest(serializedBytes: input.encodedBytes())
            seen.append((field, message.context.hasPrincipal ? message.context.principal.id : "-"))
            XCTAssertEqual(input.metadata.map(\.key), ["a", "b"], "metadata sorted by key")
        }
        let auth = AnsweringPlugin("auth") { input in
            try read(input)
            var answer = HookAnswer()
            answer.principal = self.principal("p1")
            return .answer(answer)
        }
        let reauth = AnsweringPlugin("reauth") { input in
            try read(input)
            var answer = HookAnswer()
            answer.principal = self.principal("p2")
            return .answer(answer)
        }
        let reader = AnsweringPlugin("reader") { input in
            try read(input)
            return .answer(HookAnswer())
        }
        _ = try run([auth, reauth, reader])
        XCTAssertEqual(seen.map(\.field), [nil, "p1", "p2"])
        XCTAssertEqual(seen.map(\.protobuf), ["-", "p1", "p2"])
        XCTAssertTrue(inputs.allSatisfy { $0 === inputs[0] }, "a principal answer does not rebuild the input")
    }

    func testANewMaxTokensRebuildsTheInput() throws {
        var inputs: [HookInput] = []  // kept alive: identities are compared
        var maxTokens: [UInt32] = []
        let clamp = AnsweringPlugin("clamp") { input in
            inputs.append(input)
            maxTokens.append(input.maxTokens)
            var answer = HookAnswer()
            answer.maxTokens = 5
            answer.principal = self.principal("p1")
            return .answer(answer)
        }
        let reader = AnsweringPlugin("reader") { input in
            inputs.append(input)
            maxTokens.append(input.maxTokens)
            XCTAssertEqual(input.principal?.id, "p1")
            return .answer(HookAnswer())
        }
        let request = try run([clamp, reader], maxTokens: 900)
        XCTAssertEqual(request.params.maxTokens, 5)
        XCTAssertEqual(maxTokens, [900, 5])
        XCTAssertEqual(inputs.count, 2)
        XCTAssertFalse(inputs[0] === inputs[1])
    }

    func testReplacingThePrincipalKeepsEarlierCopiesAlive() {
        let input = HookInput(kind: .request, context: RequestContextFields(requestID: "r", method: "m", streamID: 1, peer: nil,
                                                                           deadlineUnixMicros: nil),
                              principal: principal("before"), metadata: [], request: nil, promptTokens: 0, encode: { [1, 2, 3] })
        let old = input.stableUTF8(key: 7) { input.principal?.id }
        XCTAssertEqual(try input.encodedBytes(), [1, 2, 3])
        input.replacePrincipal(principal("after"))
        XCTAssertEqual(input.principal?.id, "after")
        let new = input.stableUTF8(key: 7) { input.principal?.id }
        XCTAssertEqual(new.map { String(decoding: $0, as: UTF8.self) }, "after")
        // The copy handed out before is still readable (freed with the input, not at the swap).
        XCTAssertEqual(old.map { String(decoding: $0, as: UTF8.self) }, "before")
    }
}

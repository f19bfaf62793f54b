import Foundation
import RampartAudit
import RampartChain
import RampartCore
import RampartProto
import Synchronization
import XCTest

/// Records events in memory.
final class MemoryAuditSink: AuditSink {
    let events = Mutex<[Rampart_V1_AuditEvent]>([])
    func record(_ event: Rampart_V1_AuditEvent) { events.withLock { $0.append(event) } }
    var failures: Int { 0 }
    var all: [Rampart_V1_AuditEvent] { events.withLock { $0 } }
}

/// ABI 1.1 in the chain: principals, the all-methods gate, plugin-served methods, audit.
final class ABI11Tests: XCTestCase {
    let context = CallContext(requestID: "r-9", method: "/rampart.v1.Admin/Reload", streamID: 3,
                              peer: PeerCredentials(pid: 10, uid: 20, gid: 30), metadata: ["authorization": "Bearer t"])

    func principal(_ id: String) -> Rampart_V1_Principal {
        var p = Rampart_V1_Principal()
        p.id = id
        p.scopes = ["admin"]
        return p
    }

    func testPrincipalSetByOnePluginIsSeenByTheNextAndStampedOnAudit() throws {
        let auth = FakePlugin("auth", hooks: [.request])
        let alice = principal("alice")
        auth.request = { _ in verdict { $0.mutate = Rampart_V1_Mutation.with { $0.principal = alice } } }
        let next = FakePlugin("next", hooks: [.request])
        var seen: Rampart_V1_PluginRequest?
        next.request = { bytes in
            seen = try Rampart_V1_PluginRequest(serializedBytes: bytes)
            return Rampart_V1_Verdict()
        }
        let sink = MemoryAuditSink()
        let chain = try PluginChain(stages: [ChainStage(plugin: auth), ChainStage(plugin: next)], audit: sink)
        let call = chain.begin(CallContext(requestID: "r-1", method: "/rampart.v1.Inference/Generate", streamID: 1,
                                           peer: PeerCredentials(pid: 1, uid: 2, gid: 3)))
        call.promptTokens = 7
        var request = Rampart_V1_GenerateRequest()
        var metadata: [String: String] = [:]
        try call.onRequest(&request, metadata: &metadata)
        XCTAssertEqual(seen?.context.principal.id, "alice")
        XCTAssertEqual(seen?.promptTokens, 7)
        XCTAssertEqual(call.principal?.id, "alice")
        // An event emitted later in the call is stamped with the principal, peer and request.
        ChainEnvironment(plugin: "next", call: call.info).audit(Rampart_V1_AuditEvent(kind: "x.test", outcome: "success"))
        let event = try XCTUnwrap(sink.all.first)
        XCTAssertEqual(event.principalID, "alice")
        XCTAssertEqual(event.source, "next")
        XCTAssertEqual(event.requestID, "r-1")
        XCTAssertEqual(event.peer.uid, 2)
        XCTAssertGreaterThan(event.timeUnixUs, 1_600_000_000_000_000)
    }

    func testResponseMetadataFromARequestHookIsCollected() throws {
        let limiter = FakePlugin("throttle", hooks: [.request])
        limiter.request = { _ in verdict { $0.mutate = Rampart_V1_Mutation.with {
            $0.responseMetadata = [Rampart_V1_MetadataEntry.with { $0.key = "ratelimit-remaining"; $0.text = "9" }]
        } } }
        let call = try PluginChain(stages: [ChainStage(plugin: limiter)]).begin(context)
        var request = Rampart_V1_GenerateRequest()
        var metadata: [String: String] = [:]
        try call.onRequest(&request, metadata: &metadata)
        XCTAssertEqual(call.responseMetadata, ["ratelimit-remaining": "9"])
    }

    func testAuthorizeRunsOnlyAllMethodsPluginsAndCarriesTheBody() throws {
        let auth = FakePlugin("auth", hooks: [.request])
        auth.seesAllMethods = true
        var body: Data?
        var method = ""
        auth.request = { bytes in
            let r = try Rampart_V1_PluginRequest(serializedBytes: bytes)
            body = r.body
            method = r.context.method
            return verdict { $0.deny = Rampart_V1_Deny.with { $0.code = 16; $0.message = "missing_credentials" } }
        }
        let sanitizer = FakePlugin("sanitizer", hooks: [.request])
        let chain = try PluginChain(stages: [ChainStage(plugin: sanitizer), ChainStage(plugin: auth)])
        XCTAssertTrue(chain.gatesAllMethods)
        XCTAssertThrowsError(try chain.begin(context).authorize(body: [1, 2, 3], metadata: [:])) { error in
            XCTAssertEqual((error as? RPCError)?.code, .unauthenticated)
            XCTAssertEqual((error as? RPCError)?.message, "missing_credentials")
        }
        XCTAssertEqual(body, Data([1, 2, 3]))
        XCTAssertEqual(method, "/rampart.v1.Admin/Reload")
        XCTAssertEqual(sanitizer.opened, 0, "a plugin without seesAllMethods never sees a non-inference call")
    }

    func testPluginServedMethodGetsItsCallAndItsStatusReachesTheCaller() throws {
        let auth = FakePlugin("auth", hooks: [])
        auth.methods = ["rampart.v1.Auth/IssueToken"]
        auth.method = { bytes, _ in
            let call = try Rampart_V1_PluginMethodCall(serializedBytes: bytes)
            guard call.body == Data([9]) else { throw RPCError(.unauthenticated, "bad_key") }
            return Array("token for \(call.context.peer.uid)".utf8)
        }
        let chain = try PluginChain(stages: [ChainStage(plugin: auth)])
        XCTAssertEqual(chain.methodTable["rampart.v1.Auth/IssueToken"], 0)
        let ok = try chain.begin(context).callMethod("/rampart.v1.Auth/IssueToken", body: [9], metadata: [:])
        XCTAssertEqual(String(decoding: ok, as: UTF8.self), "token for 20")
        XCTAssertThrowsError(try chain.begin(context).callMethod("rampart.v1.Auth/IssueToken", body: [1], metadata: [:])) { error in
            XCTAssertEqual((error as? RPCError)?.code, .unauthenticated)
        }
        XCTAssertThrowsError(try chain.begin(context).callMethod("rampart.v1.Auth/Nope", body: [], metadata: [:])) { error in
            XCTAssertEqual((error as? RPCError)?.code, .unimplemented)
        }
    }

    func testTwoPluginsServingOneMethodIsRefused() {
        let a = FakePlugin("a", hooks: []), b = FakePlugin("b", hooks: [])
        a.methods = ["x.Y/Z"]
        b.methods = ["x.Y/Z"]
        XCTAssertThrowsError(try PluginChain(stages: [ChainStage(plugin: a), ChainStage(plugin: b)])) { error in
            XCTAssertEqual(error as? ChainError, .duplicateMethod("x.Y/Z", first: "a", second: "b"))
        }
    }
}

/// Verdict annotations are telemetry for the audit trail (docs/PLUGINS.md 2.9).
final class VerdictAnnotationTests: XCTestCase {
    private func run(_ verdict: Rampart_V1_Verdict) throws -> (MemoryAuditSink, Error?) {
        let plugin = FakePlugin("scanner", hooks: [.request])
        plugin.request = { _ in verdict }
        let sink = MemoryAuditSink()
        let chain = try PluginChain(stages: [ChainStage(plugin: plugin)], audit: sink)
        let call = chain.begin(CallContext(requestID: "r-5", method: "/rampart.v1.Inference/Generate", streamID: 1, peer: nil))
        var request = Rampart_V1_GenerateRequest()
        var metadata: [String: String] = [:]
        do {
            try call.onRequest(&request, metadata: &metadata)
            return (sink, nil)
        } catch {
            return (sink, error)
        }
    }

    func testAnnotationsOfAPassBecomeOneAuditEventOfThePlugin() throws {
        var verdict = Rampart_V1_Verdict()
        verdict.pass = Rampart_V1_Pass()
        verdict.annotations = [Rampart_V1_MetadataEntry(key: "pii.email", text: "1"), Rampart_V1_MetadataEntry(key: "score", text: "0.2")]
        let (sink, error) = try run(verdict)
        XCTAssertNil(error)
        let event = try XCTUnwrap(sink.all.first)
        XCTAssertEqual(sink.all.count, 1)
        XCTAssertEqual(event.kind, "plugin.verdict")
        XCTAssertEqual(event.outcome, "success")
        XCTAssertEqual(event.reason, "pass")
        XCTAssertEqual(event.source, "scanner")
        XCTAssertEqual(event.requestID, "r-5")
        XCTAssertEqual(event.attributes.map(\.key), ["hook", "pii.email", "score"])
        XCTAssertEqual(event.attributes.map(\.text), ["on_request", "1", "0.2"])
    }

    func testADenialsAnnotationsAreAuditedAsDenied() throws {
        var verdict = Rampart_V1_Verdict()
        verdict.deny = Rampart_V1_Deny.with { $0.code = 7; $0.message = "no" }
        verdict.annotations = [Rampart_V1_MetadataEntry(key: "rule", text: "override")]
        let (sink, error) = try run(verdict)
        XCTAssertEqual((error as? RPCError)?.code, .permissionDenied)
        XCTAssertEqual(sink.all.first?.outcome, "denied")
        XCTAssertEqual(sink.all.first?.reason, "deny")
    }

    func testNoAnnotationsNoEvent() throws {
        let (sink, _) = try run(Rampart_V1_Verdict())
        XCTAssertTrue(sink.all.isEmpty)
    }

    func testAFloodOfAnnotationsIsCappedAndCut() throws {
        var verdict = Rampart_V1_Verdict()
        verdict.annotations = (0..<100).map { Rampart_V1_MetadataEntry(key: "k\($0)", text: String(repeating: "é", count: 2000)) }
        verdict.annotations.append(Rampart_V1_MetadataEntry.with { $0.key = "bin"; $0.binary = Data([1, 2]) })
        let (sink, _) = try run(verdict)
        let event = try XCTUnwrap(sink.all.first)
        XCTAssertEqual(event.attributes.count, 1 + 32 + 1)  // hook, 32 annotations, the dropped count
        XCTAssertEqual(event.attributes.last?.key, "annotations_dropped")
        XCTAssertEqual(event.attributes.last?.text, "69")
        // 1024 bytes cut at a character boundary: 512 two-byte "é".
        XCTAssertEqual(event.attributes[1].text, String(repeating: "é", count: 512))
    }
}

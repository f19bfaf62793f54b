import Foundation
import XCTest
@testable import RampartAuthCore

/// A fresh store in a temp directory with an engine over it, a fake clock and helpers.
final class AuthFixture {
    let directory: String
    var config: AuthConfig
    var engine: AuthEngine
    var now: Double = 1_700_000_000

    static let alice = PeerIdentity(pid: 100, uid: 1000, gid: 1000)
    static let bob = PeerIdentity(pid: 200, uid: 1001, gid: 1001)

    init(configure: (inout AuthConfig) -> Void = { _ in }) throws {
        directory = NSTemporaryDirectory() + "rampart-auth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        config = AuthConfig(db: directory + "/auth.db")
        config.refreshIntervalMs = 0
        configure(&config)
        engine = try AuthEngine(config: config, now: now)
        try engine.store.upsertPrincipal(Principal(id: "app", user: "alice", org: "acme", scopes: ["infer"]), now: now)
        try engine.store.upsertPrincipal(Principal(id: "ops", user: "olga", org: "acme", scopes: ["infer", "admin"]), now: now)
        try engine.store.upsertPrincipal(Principal(id: "other", user: "bob", org: "beta", scopes: ["infer"]), now: now)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A new engine over the same files (a sidecar restart).
    func restart() throws { engine = try AuthEngine(config: config, now: now) }

    func key(_ principal: String = "app", scopes: [String]? = nil, ttl: Double? = nil, uid: UInt32? = nil, gid: UInt32? = nil) throws -> CreatedKey {
        try engine.store.createKey(principalID: principal, scopes: scopes, expiresAt: ttl.map { now + $0 }, boundUID: uid, boundGID: gid, now: now)
    }

    func authorize(_ metadata: [(String, MetadataValue)], peer: PeerIdentity? = AuthFixture.alice) -> AuthOutcome<AuthDecision> {
        authorize("rampart.v1.Inference/Generate", metadata, peer: peer)
    }

    func authorize(_ method: String, _ metadata: [(String, MetadataValue)],
                   peer: PeerIdentity? = AuthFixture.alice, features: Set<String> = []) -> AuthOutcome<AuthDecision> {
        engine.authorize(AuthRequest(method: method, metadata: metadata.map { (key: $0.0, value: $0.1) }, peer: peer, features: features), now: now)
    }

    func bearer(_ credential: String) -> [(String, MetadataValue)] { [("authorization", .text("Bearer " + credential))] }

    func token(for key: CreatedKey, scopes: [String] = [], ttl: Int = 0, peer: PeerIdentity? = AuthFixture.alice) throws -> IssuedToken {
        let outcome = engine.issueToken(.init(metadata: [(key: "x-api-key", value: .text(key.key))], peer: peer, scopes: scopes, ttlSeconds: ttl), now: now)
        return try outcome.result.get()
    }

    func totpCode(_ principal: String, at time: Double? = nil) throws -> String {
        let totp = try XCTUnwrap(try engine.store.totp(principalID: principal))
        return totp.code(at: Int64(time ?? now))
    }
}

extension AuthOutcome {
    var denial: AuthDenial? {
        if case .failure(let denial) = result { return denial }
        return nil
    }
    var value: Value? { try? result.get() }
}

func XCTAssertDenied<T>(_ outcome: AuthOutcome<T>, _ status: AuthDenial.Status, _ reason: ReasonClass,
                        file: StaticString = #filePath, line: UInt = #line) {
    guard let denial = outcome.denial else { return XCTFail("expected \(status) \(reason), got success", file: file, line: line) }
    XCTAssertEqual(denial.status, status, file: file, line: line)
    XCTAssertEqual(denial.reason, reason, "message: \(denial.message)", file: file, line: line)
    // The audit trail recorded the refusal with its reason class.
    XCTAssertTrue(outcome.events.contains { $0.reason == reason.rawValue && $0.outcome != "success" },
                  "no audit event with reason \(reason.rawValue): \(outcome.events)", file: file, line: line)
}

/// Asserts no audit event or status message contains any of `secrets`.
func XCTAssertNoSecrets<T>(_ outcome: AuthOutcome<T>, _ secrets: [String], file: StaticString = #filePath, line: UInt = #line) {
    let texts = outcome.events.flatMap { [$0.kind, $0.reason, $0.principalID] + $0.attributes.keys + $0.attributes.values }
        + [outcome.denial?.message ?? ""]
    for secret in secrets where !secret.isEmpty {
        for text in texts where text.contains(secret) {
            XCTFail("secret material in audit/status text: \(text)", file: file, line: line)
        }
    }
}

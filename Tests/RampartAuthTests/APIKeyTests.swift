import Foundation
import XCTest
@testable import RampartAuthCore

/// API keys through the engine: format, storage, scopes, expiry, revocation, rotation, peer binding.
final class APIKeyTests: XCTestCase {
    func testKeyFormatHas256BitsAndARecognisablePrefix() throws {
        let f = try AuthFixture()
        let created = try f.key()
        XCTAssertTrue(created.key.hasPrefix("rk_live_"))
        XCTAssertEqual(APIKeyFormat.keyID(Array(created.key.utf8)), created.info.id)
        let secret = created.key.split(separator: "_", maxSplits: 3).last.map(String.init) ?? ""
        XCTAssertEqual(Base64URL.decode(Array(secret.utf8))?.count, 32)
        XCTAssertNotEqual(try f.key().key, created.key)
    }

    func testTheKeyIsStoredOnlyAsAnHMACUnderTheStoreSecret() throws {
        let f = try AuthFixture()
        let created = try f.key()
        let record = try XCTUnwrap(try f.engine.store.keyRecord(created.info.id))
        let secret = try XCTUnwrap(FileManager.default.contents(atPath: f.config.secretFile))
        XCTAssertEqual(record.hash, HMAC.mac(.sha256, key: Array(secret), message: Array(created.key.utf8)))
        // Neither the key nor its secret part appear anywhere in the database files.
        let secretPart = String(created.key.suffix(43))
        for file in try FileManager.default.contentsOfDirectory(atPath: f.directory) where file.hasPrefix("auth.db") {
            let bytes = try XCTUnwrap(FileManager.default.contents(atPath: f.directory + "/" + file))
            XCTAssertNil(bytes.range(of: Data(secretPart.utf8)), "\(file) holds the key")
        }
        var info = stat()
        XCTAssertEqual(stat(f.config.secretFile, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
    }

    func testAValidKeyAuthenticatesWithItsPrincipal() throws {
        let f = try AuthFixture()
        let created = try f.key()
        for metadata in [f.bearer(created.key), [("x-api-key", MetadataValue.text(created.key))]] {
            let outcome = f.authorize(metadata)
            guard case .success(.allowed(let principal)) = outcome.result else { return XCTFail("\(outcome.result)") }
            XCTAssertEqual(principal, AuthenticatedPrincipal(id: "app", user: "alice", org: "acme", scopes: ["infer"],
                                                             credentialKind: "api_key", apiKeyID: created.info.id, boundUID: nil))
            XCTAssertEqual(outcome.events.map(\.kind), ["auth.success"])
            XCTAssertNoSecrets(outcome, [created.key])
        }
    }

    func testNoCredentials() throws {
        let f = try AuthFixture()
        let outcome = f.authorize([])
        XCTAssertDenied(outcome, .unauthenticated, .missingCredentials)
        XCTAssertEqual(outcome.denial?.message, "authentication failed: missing_credentials")
    }

    func testWrongSecretAndUnknownIdGiveTheSameReason() throws {
        let f = try AuthFixture()
        let created = try f.key()
        var wrong = Array(created.key.utf8)
        wrong[wrong.count - 3] = wrong[wrong.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let wrongKey = String(decoding: wrong, as: UTF8.self)
        let a = f.authorize(f.bearer(wrongKey))
        XCTAssertDenied(a, .unauthenticated, .invalidKey)
        XCTAssertNoSecrets(a, [wrongKey, created.key, String(created.key.suffix(43))])
        let unknown = "rk_live_0123456789ab_" + Base64URL.encode([UInt8](repeating: 1, count: 32))
        let b = f.authorize(f.bearer(unknown))
        XCTAssertDenied(b, .unauthenticated, .invalidKey)
        XCTAssertEqual(a.denial?.message, b.denial?.message, "the message never says which part was wrong")
    }

    func testMalformedKey() throws {
        let f = try AuthFixture()
        XCTAssertDenied(f.authorize(f.bearer("rk_live_short")), .unauthenticated, .malformed)
        XCTAssertDenied(f.authorize([("x-api-key", .text("rk_live_zz23456789ab_" + String(repeating: "A", count: 43)))]),
                        .unauthenticated, .malformed)
    }

    func testRevokedKeyIsRefusedAtOnce() throws {
        let f = try AuthFixture()
        let created = try f.key()
        XCTAssertNotNil(f.authorize(f.bearer(created.key)).value)
        XCTAssertNotNil(f.engine.revokeKey(created.info.id, actor: "ops", now: f.now).value)
        XCTAssertDenied(f.authorize(f.bearer(created.key)), .unauthenticated, .revoked)
    }

    func testRevocationByTheOfflineCLIIsSeenWithinTheRefreshInterval() throws {
        let f = try AuthFixture { $0.refreshIntervalMs = 1000 }
        let created = try f.key()
        XCTAssertNotNil(f.authorize(f.bearer(created.key)).value)
        // Another process (the CLI) revokes through its own store handle.
        let other = try AuthStore(path: f.config.db, secretFile: f.config.secretFile)
        try other.revokeKey(created.info.id, now: f.now)
        f.now += 1.0
        XCTAssertDenied(f.authorize(f.bearer(created.key)), .unauthenticated, .revoked)
    }

    func testExpiredKey() throws {
        let f = try AuthFixture()
        let created = try f.key(ttl: 60)
        XCTAssertNotNil(f.authorize(f.bearer(created.key)).value)
        f.now += 60
        XCTAssertDenied(f.authorize(f.bearer(created.key)), .unauthenticated, .expired)
    }

    func testRotatedKeyLivesForTheGracePeriodOnly() throws {
        let f = try AuthFixture()
        let old = try f.key()
        let rotated = try XCTUnwrap(f.engine.rotateKey(old.info.id, graceSeconds: 3600, actor: "ops", now: f.now).value)
        XCTAssertEqual(rotated.info.principalID, "app")
        XCTAssertNotNil(f.authorize(f.bearer(old.key)).value, "inside the grace period")
        XCTAssertNotNil(f.authorize(f.bearer(rotated.key)).value)
        f.now += 3600
        XCTAssertDenied(f.authorize(f.bearer(old.key)), .unauthenticated, .expired)
        XCTAssertNotNil(f.authorize(f.bearer(rotated.key)).value, "the new key lives on")
        XCTAssertEqual(try f.engine.store.key(old.info.id)?.rotatedTo, rotated.info.id)
        XCTAssertNotNil(f.engine.rotateKey(old.info.id, graceSeconds: 0, actor: "ops", now: f.now).denial, "rotated twice")
    }

    func testKeyUsedFromTheWrongUID() throws {
        let f = try AuthFixture()
        let bound = try f.key(uid: AuthFixture.alice.uid)
        XCTAssertNotNil(f.authorize(f.bearer(bound.key), peer: AuthFixture.alice).value)
        XCTAssertDenied(f.authorize(f.bearer(bound.key), peer: AuthFixture.bob), .unauthenticated, .wrongPeer)
        XCTAssertDenied(f.authorize(f.bearer(bound.key), peer: nil), .unauthenticated, .wrongPeer)
        let gidBound = try f.key(gid: 4242)
        XCTAssertDenied(f.authorize(f.bearer(gidBound.key), peer: AuthFixture.alice), .unauthenticated, .wrongPeer)
    }

    func testKeyScopesAreASubsetOfThePrincipals() throws {
        let f = try AuthFixture()
        XCTAssertThrowsError(try f.key("app", scopes: ["admin"]))
        let narrow = try f.key("ops", scopes: ["infer"])
        guard case .success(.allowed(let p)) = f.authorize(f.bearer(narrow.key)).result else { return XCTFail() }
        XCTAssertEqual(p.scopes, ["infer"])
    }

    func testListShowsStatesButNoSecrets() throws {
        let f = try AuthFixture()
        let a = try f.key()
        let b = try f.key("ops")
        _ = f.engine.revokeKey(b.info.id, actor: "ops", now: f.now)
        let all = try XCTUnwrap(f.engine.listKeys(principalID: nil, actor: "ops", now: f.now).value)
        XCTAssertEqual(Set(all.map(\.id)), [a.info.id, b.info.id])
        XCTAssertEqual(all.first { $0.id == b.info.id }?.state(at: f.now), "revoked")
        XCTAssertEqual(try f.engine.store.keys(principalID: "app").map(\.id), [a.info.id])
    }

    func testTrustedPeerAuthenticatesWithoutACredential() throws {
        let f = try AuthFixture { $0.trustedPeers = [.init(uid: 1000, principal: "app")] }
        guard case .success(.allowed(let p)) = f.authorize([], peer: AuthFixture.alice).result else { return XCTFail() }
        XCTAssertEqual(p.id, "app")
        XCTAssertEqual(p.credentialKind, "peer")
        XCTAssertDenied(f.authorize([], peer: AuthFixture.bob), .unauthenticated, .missingCredentials)
    }

    func testAnExtremelyLongCredentialHeader() throws {
        let f = try AuthFixture()
        let huge = String(repeating: "A", count: 1 << 20)
        let outcome = f.authorize(f.bearer(huge))
        XCTAssertDenied(outcome, .unauthenticated, .malformed)
        XCTAssertDenied(f.authorize([("x-api-key", .text("rk_" + huge))]), .unauthenticated, .malformed)
        XCTAssertTrue(outcome.events.allSatisfy { $0.attributes.values.allSatisfy { $0.count < 256 } }, "the header is not echoed")
    }

    func testABinaryCredentialHeader() throws {
        let f = try AuthFixture()
        XCTAssertDenied(f.authorize([("authorization", .binary([0, 1, 2, 0xFF]))]), .unauthenticated, .malformed)
        XCTAssertDenied(f.authorize([("x-api-key", .binary(Array(try f.key().key.utf8)))]), .unauthenticated, .malformed)
        XCTAssertDenied(f.authorize(f.bearer("abc\u{0}def")), .unauthenticated, .malformed)
        XCTAssertDenied(f.authorize(f.bearer("clé")), .unauthenticated, .malformed)
        XCTAssertDenied(f.authorize([("authorization", .text("Basic YWxhZGRpbjpvcGVuc2VzYW1l"))]), .unauthenticated, .malformed)
    }

    func testTwoCredentialsAreMalformed() throws {
        let f = try AuthFixture()
        let key = try f.key()
        XCTAssertDenied(f.authorize(f.bearer(key.key) + [("x-api-key", .text(key.key))]), .unauthenticated, .malformed)
    }

    func testPublicMethodsNeedNoCredential() throws {
        let f = try AuthFixture()
        XCTAssertEqual(f.authorize("rampart.v1.Health/Check", []).value, .publicMethod)
        XCTAssertEqual(f.authorize("/rampart.v1.Auth/IssueToken", []).value, .publicMethod)
    }
}

import Foundation
import XCTest
@testable import RampartAuthCore

/// Tokens through the engine: exchange, verification, cache, revocation, signing-key rotation.
final class TokenTests: XCTestCase {
    func testIssueTokenExchangesAKeyForAShortLivedScopedToken() throws {
        let f = try AuthFixture()
        let key = try f.key("ops")
        let outcome = f.engine.issueToken(.init(metadata: [(key: "x-api-key", value: .text(key.key))], peer: AuthFixture.alice,
                                                scopes: ["infer"]), now: f.now)
        let issued = try outcome.result.get()
        XCTAssertEqual(issued.claims.subject, "ops")
        XCTAssertEqual(issued.claims.scopes, ["infer"])
        XCTAssertEqual(issued.claims.expiresAt - issued.claims.issuedAt, 900, "15 minutes by default")
        XCTAssertEqual(issued.claims.audience, ["rampart"])
        XCTAssertEqual(issued.claims.issuer, "rampart")
        XCTAssertEqual(issued.claims.apiKeyID, key.info.id)
        XCTAssertFalse(issued.claims.tokenID.isEmpty)
        XCTAssertEqual(issued.kid, f.engine.keyring.activeKey()?.info.kid)
        XCTAssertEqual(outcome.events.map(\.kind), ["token.issue"])
        XCTAssertNoSecrets(outcome, [key.key, issued.token, String(issued.token.split(separator: ".")[2])])

        guard case .success(.allowed(let p)) = f.authorize(f.bearer(issued.token)).result else { return XCTFail() }
        XCTAssertEqual(p.credentialKind, "token")
        XCTAssertEqual(p.scopes, ["infer"])
    }

    func testIssueTokenRefusesScopesTheKeyLacksAndTTLAboveTheMaximum() throws {
        let f = try AuthFixture()
        let key = try f.key()
        let md: [(key: String, value: MetadataValue)] = [(key: "x-api-key", value: .text(key.key))]
        let scope = f.engine.issueToken(.init(metadata: md, peer: AuthFixture.alice, scopes: ["admin"]), now: f.now)
        XCTAssertEqual(scope.denial?.status, .permissionDenied)
        XCTAssertEqual(scope.denial?.message, "permission denied: the credential lacks scope \"admin\"")
        let ttl = f.engine.issueToken(.init(metadata: md, peer: AuthFixture.alice, ttlSeconds: 3601), now: f.now)
        XCTAssertEqual(ttl.denial?.status, .invalidArgument)
        XCTAssertNotNil(f.engine.issueToken(.init(metadata: md, peer: AuthFixture.alice, ttlSeconds: 3600), now: f.now).value)
    }

    func testIssueTokenNeedsAKeyOrATrustedPeerNotAToken() throws {
        let f = try AuthFixture { $0.trustedPeers = [.init(uid: 1001, principal: "other")] }
        let token = try f.token(for: f.key())
        let viaToken = f.engine.issueToken(.init(metadata: f.bearer(token.token).map { (key: $0.0, value: $0.1) }, peer: AuthFixture.alice), now: f.now)
        XCTAssertDenied(viaToken, .unauthenticated, .malformed)
        XCTAssertDenied(f.engine.issueToken(.init(metadata: [], peer: AuthFixture.alice), now: f.now), .unauthenticated, .missingCredentials)
        let peer = try f.engine.issueToken(.init(metadata: [], peer: AuthFixture.bob), now: f.now).result.get()
        XCTAssertEqual(peer.claims.subject, "other")
        XCTAssertEqual(peer.claims.peerUID, 1001, "a peer token is bound to that uid")
        XCTAssertDenied(f.authorize(f.bearer(peer.token), peer: AuthFixture.alice), .unauthenticated, .wrongPeer)
    }

    func testExpiredTokenEvenWhenCached() throws {
        let f = try AuthFixture()
        let token = try f.token(for: f.key(), ttl: 60)
        XCTAssertNotNil(f.authorize(f.bearer(token.token)).value)
        XCTAssertEqual(f.engine.cache.count, 1)
        f.now += 60 + 30
        XCTAssertDenied(f.authorize(f.bearer(token.token)), .unauthenticated, .expired)
    }

    func testNotYetValidToken() throws {
        let f = try AuthFixture()
        let token = try f.token(for: f.key())
        f.now -= 120  // the sidecar's clock is behind the issuer's
        XCTAssertDenied(f.authorize(f.bearer(token.token)), .unauthenticated, .notYetValid)
    }

    func testWrongAudienceOrIssuerFromAnotherSidecar() throws {
        let f = try AuthFixture()
        let key = try f.key()
        // A second sidecar sharing the signing keys but with another audience / issuer.
        var other = f.config
        other.audience = "another-sidecar"
        let b = try AuthEngine(config: other, now: f.now)
        let token = try b.issueToken(.init(metadata: [(key: "x-api-key", value: .text(key.key))], peer: AuthFixture.alice), now: f.now).result.get()
        XCTAssertDenied(f.authorize(f.bearer(token.token)), .unauthenticated, .wrongAudience)
        other.audience = "rampart"
        other.issuer = "someone-else"
        let c = try AuthEngine(config: other, now: f.now)
        let token2 = try c.issueToken(.init(metadata: [(key: "x-api-key", value: .text(key.key))], peer: AuthFixture.alice), now: f.now).result.get()
        XCTAssertDenied(f.authorize(f.bearer(token2.token)), .unauthenticated, .wrongIssuer)
    }

    func testMalformedAndBadSignatureTokens() throws {
        let f = try AuthFixture()
        let token = try f.token(for: f.key()).token
        XCTAssertDenied(f.authorize(f.bearer("eyJ.not.a-token!")), .unauthenticated, .malformed)
        XCTAssertDenied(f.authorize(f.bearer(String(token.dropLast(2)) + (token.hasSuffix("AA") ? "BA" : "AA"))),
                        .unauthenticated, .badSignature)
    }

    func testAlgNoneAndAlgorithmSwitchThroughTheEngine() throws {
        let f = try AuthFixture()
        let token = try f.token(for: f.key()).token
        let parts = token.split(separator: ".").map(String.init)
        let kid = try XCTUnwrap(f.engine.keyring.activeKey()?.info.kid)
        let none = Base64URL.encode(Array("{\"alg\":\"none\",\"kid\":\"\(kid)\"}".utf8)) + "." + parts[1] + "."
        XCTAssertDenied(f.authorize(f.bearer(none)), .unauthenticated, .unsupportedAlgorithm)
        let hsHeader = Base64URL.encode(Array("{\"alg\":\"HS256\",\"kid\":\"\(kid)\"}".utf8))
        let input = hsHeader + "." + parts[1]
        let publicKey = try XCTUnwrap(f.engine.keyring.activeKey()?.key.publicKey)
        let forged = input + "." + Base64URL.encode(HMAC.mac(.sha256, key: publicKey, message: Array(input.utf8)))
        XCTAssertDenied(f.authorize(f.bearer(forged)), .unauthenticated, .unsupportedAlgorithm)
    }

    func testUnknownKid() throws {
        let f = try AuthFixture()
        let stranger = try Ed25519Key.generate()
        let claims = TokenClaims(issuer: "rampart", subject: "app", audience: ["rampart"], expiresAt: Int64(f.now) + 60,
                                 notBefore: nil, issuedAt: Int64(f.now), tokenID: "t", scopes: ["infer"])
        let token = try JWS.sign(payload: claims.json(), kid: "ed25519-00000000deadbeef", key: stranger)
        XCTAssertDenied(f.authorize(f.bearer(token)), .unauthenticated, .unknownKid)
    }

    func testRevocationByPrincipalTakesEffectImmediatelyEvenForCachedTokens() throws {
        let f = try AuthFixture()
        let key = try f.key()
        let token = try f.token(for: key)
        XCTAssertNotNil(f.authorize(f.bearer(token.token)).value)
        XCTAssertNotNil(f.engine.revokeTokens(principalID: "app", keyID: nil, actor: "ops", now: f.now + 0.5).value)
        XCTAssertDenied(f.authorize(f.bearer(token.token)), .unauthenticated, .revoked)
        XCTAssertNotNil(f.authorize(f.bearer(key.key)).value, "the key itself still works")
        f.now += 2
        let fresh = try f.token(for: key)
        XCTAssertNotNil(f.authorize(f.bearer(fresh.token)).value, "tokens issued after the revocation work")
    }

    func testRevocationByKeyFamily() throws {
        let f = try AuthFixture()
        let key1 = try f.key(), key2 = try f.key()
        let t1 = try f.token(for: key1), t2 = try f.token(for: key2)
        XCTAssertNotNil(f.engine.revokeTokens(principalID: nil, keyID: key1.info.id, actor: "ops", now: f.now).value)
        XCTAssertDenied(f.authorize(f.bearer(t1.token)), .unauthenticated, .revoked)
        XCTAssertNotNil(f.authorize(f.bearer(t2.token)).value, "another key's tokens are unaffected")
    }

    func testRevokingAKeyKillsItsTokens() throws {
        let f = try AuthFixture()
        let key = try f.key()
        let token = try f.token(for: key)
        _ = f.engine.revokeKey(key.info.id, actor: "ops", now: f.now)
        XCTAssertDenied(f.authorize(f.bearer(token.token)), .unauthenticated, .revoked)
    }

    func testTokenOfAKeyBoundToAUIDIsBoundToo() throws {
        let f = try AuthFixture()
        let token = try f.token(for: f.key(uid: 1000))
        XCTAssertEqual(token.claims.peerUID, 1000)
        XCTAssertNotNil(f.authorize(f.bearer(token.token), peer: AuthFixture.alice).value)
        XCTAssertDenied(f.authorize(f.bearer(token.token), peer: AuthFixture.bob), .unauthenticated, .wrongPeer)
    }

    func testSigningKeyRotationOverlapsThenRetires() throws {
        let f = try AuthFixture { $0.signingKeyOverlapSeconds = 600 }
        let key = try f.key()
        let old = try f.token(for: key, ttl: 3600)
        let newKid = try XCTUnwrap(f.engine.rotateSigningKey(actor: "ops", now: f.now).value)
        XCTAssertNotEqual(newKid, old.kid)
        let fresh = try f.token(for: key)
        XCTAssertEqual(fresh.kid, newKid, "the new key signs")
        XCTAssertNotNil(f.authorize(f.bearer(old.token)).value, "the old key still verifies during the overlap")
        f.now += 600
        XCTAssertDenied(f.authorize(f.bearer(old.token)), .unauthenticated, .unknownKid)
        XCTAssertNotNil(f.authorize(f.bearer(fresh.token)).value)
        XCTAssertEqual(try f.engine.store.signingKeys().count, 2)
    }

    func testAForeignTokenSignedWithRampartsKeyIsAccepted() throws {
        // What PyJWT does in the shell tier: mint with the PEM from the key directory.
        let f = try AuthFixture()
        let kid = try XCTUnwrap(f.engine.keyring.activeKey()?.info.kid)
        let pem = try XCTUnwrap(FileManager.default.contents(atPath: f.config.signingKeyDir + "/\(kid).pem"))
        let key = try Ed25519Key(privatePEM: Array(pem))
        let header = Base64URL.encode(Array("{\"typ\":\"JWT\",\"alg\":\"EdDSA\",\"kid\":\"\(kid)\"}".utf8))
        let payload = Base64URL.encode(Array("{\"sub\":\"app\",\"iss\":\"rampart\",\"aud\":[\"rampart\"],\"iat\":\(Int(f.now)),\"exp\":\(Int(f.now) + 300),\"scope\":\"infer\"}".utf8))
        let token = header + "." + payload + "." + Base64URL.encode(try key.sign(Array((header + "." + payload).utf8)))
        XCTAssertNotNil(f.authorize(f.bearer(token)).value)
    }
}

import Foundation
import XCTest
@testable import RampartAuthCore

/// RFC 7515/7519/8725 parsing and verification rules on hand-built tokens.
final class TokenVerifierTests: XCTestCase {
    let key = try! Ed25519Key.generate()
    let verifier = TokenVerifier(issuer: "rampart", audience: "sidecar", leewaySeconds: 30, maxLifetimeSeconds: 3600)
    let now: Double = 1_700_000_000

    func claims(_ overrides: [String: Any] = [:], removing: [String] = []) -> [String: Any] {
        var object: [String: Any] = ["iss": "rampart", "sub": "app", "aud": "sidecar", "iat": Int(now), "nbf": Int(now),
                                     "exp": Int(now) + 900, "jti": "j1", "scope": "infer"]
        for (k, v) in overrides { object[k] = v }
        for k in removing { object[k] = nil }
        return object
    }

    func json(_ object: Any) -> String {
        Base64URL.encode(Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])))
    }

    func token(header: [String: Any] = ["alg": "EdDSA", "kid": "k1", "typ": "JWT"], claims: [String: Any]? = nil, signer: Ed25519Key? = nil) -> String {
        let input = json(header) + "." + json(claims ?? self.claims())
        return input + "." + Base64URL.encode(try! (signer ?? key).sign(Array(input.utf8)))
    }

    func verify(_ token: String, at time: Double? = nil) -> Result<VerifiedToken, ReasonClass> {
        verifier.verify(Array(token.utf8), now: time ?? now) { $0 == "k1" ? self.key : nil }
    }

    func assertRefused(_ token: String, _ reason: ReasonClass, at time: Double? = nil, file: StaticString = #filePath, line: UInt = #line) {
        switch verify(token, at: time) {
        case .success: XCTFail("accepted", file: file, line: line)
        case .failure(let got): XCTAssertEqual(got, reason, file: file, line: line)
        }
    }

    func testAValidTokenVerifies() throws {
        let verified = try verify(token()).get()
        XCTAssertEqual(verified.claims.subject, "app")
        XCTAssertEqual(verified.claims.scopes, ["infer"])
        XCTAssertEqual(verified.kid, "k1")
    }

    func testSignedByJWSSignMatchesTheParser() throws {
        let payload = TokenClaims(issuer: "rampart", subject: "app", audience: ["sidecar"], expiresAt: Int64(now) + 60, notBefore: nil,
                                  issuedAt: Int64(now), tokenID: "x", scopes: ["infer", "admin"], apiKeyID: "0123456789ab", peerUID: 1000)
        let token = try JWS.sign(payload: payload.json(), kid: "k1", key: key)
        XCTAssertEqual(try verify(token).get().claims, payload)
    }

    func testAlgNoneIsRefused() {
        let unsigned = json(["alg": "none", "kid": "k1"]) + "." + json(claims()) + "."
        assertRefused(unsigned, .unsupportedAlgorithm)
    }

    func testAlgorithmSwitchToHS256WithThePublicKeyAsSecretIsRefused() {
        // The classic confusion attack: HMAC "signed" with the (public) verification key.
        let input = json(["alg": "HS256", "kid": "k1"]) + "." + json(claims())
        let mac = HMAC.mac(.sha256, key: key.publicKey, message: Array(input.utf8))
        assertRefused(input + "." + Base64URL.encode(mac), .unsupportedAlgorithm)
    }

    func testRS256AndCaseVariantsOfEdDSAAreRefused() {
        assertRefused(token(header: ["alg": "RS256", "kid": "k1"]), .unsupportedAlgorithm)
        assertRefused(token(header: ["alg": "eddsa", "kid": "k1"]), .unsupportedAlgorithm)
        assertRefused(token(header: ["alg": "Ed25519", "kid": "k1"]), .unsupportedAlgorithm)
    }

    func testMalformedTokens() {
        let good = token()
        let parts = good.split(separator: ".").map(String.init)
        assertRefused("", .malformed)
        assertRefused("abc", .malformed)
        assertRefused(parts[0] + "." + parts[1], .malformed)
        assertRefused(good + ".x", .malformed)
        assertRefused(parts[0] + "=." + parts[1] + "." + parts[2], .malformed)  // padding
        assertRefused("e30." + parts[1] + "." + parts[2], .malformed)  // {} header: no alg
        assertRefused(json(["EdDSA"]) + "." + parts[1] + "." + parts[2], .malformed)  // header is an array
        assertRefused(Base64URL.encode(Array("not json".utf8)) + "." + parts[1] + "." + parts[2], .malformed)
        assertRefused(token(header: ["alg": "EdDSA"]), .malformed)  // no kid
        assertRefused(token(header: ["alg": "EdDSA", "kid": "k1", "crit": ["exp"]]), .malformed)
        assertRefused(token(header: ["alg": "EdDSA", "kid": "k1", "jwk": ["kty": "OKP"]]), .malformed)  // embedded key
        assertRefused(token(header: ["alg": "EdDSA", "kid": "k1", "typ": "JOSE+JSON"]), .malformed)
        assertRefused(String(repeating: "a", count: 9000), .malformed)
    }

    func testClaimsWithWrongTypesOrMissingFieldsAreMalformed() {
        assertRefused(token(claims: claims(["exp": "\(Int(now) + 900)"])), .malformed)
        assertRefused(token(claims: claims(["exp": true])), .malformed)
        assertRefused(token(claims: claims(removing: ["exp"])), .malformed)
        assertRefused(token(claims: claims(removing: ["iat"])), .malformed)
        assertRefused(token(claims: claims(removing: ["sub"])), .malformed)
        assertRefused(token(claims: claims(["aud": 5])), .malformed)
        assertRefused(token(claims: claims(["scope": ["infer"]])), .malformed)
        assertRefused(token(claims: claims(["exp": Int(now) + 7200])), .malformed)  // lifetime above the maximum
    }

    func testBadSignature() {
        var token = Array(token().utf8)
        token[token.count - 5] = token[token.count - 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        assertRefused(String(decoding: token, as: UTF8.self), .badSignature)
        assertRefused(self.token(signer: try! Ed25519Key.generate()), .badSignature)  // right kid, another key
        let parts = self.token().split(separator: ".").map(String.init)
        assertRefused(parts[0] + "." + json(claims(["scope": "infer admin"])) + "." + parts[2], .badSignature)  // claims swapped
        assertRefused(parts[0] + "." + parts[1] + "." + Base64URL.encode([1, 2, 3]), .badSignature)  // short signature
    }

    func testExpiredAndLeeway() {
        let t = token(claims: claims(["exp": Int(now) + 60]))
        XCTAssertNoThrow(try verify(t, at: now + 60 + 29).get(), "inside the leeway")
        assertRefused(t, .expired, at: now + 60 + 30)
    }

    func testNotYetValid() {
        assertRefused(token(claims: claims(["nbf": Int(now) + 120, "iat": Int(now), "exp": Int(now) + 900])), .notYetValid)
        assertRefused(token(claims: claims(["iat": Int(now) + 120, "nbf": Int(now) + 120, "exp": Int(now) + 900])), .notYetValid)
        XCTAssertNoThrow(try verify(token(claims: claims(["nbf": Int(now) + 20])), at: now).get(), "inside the leeway")
    }

    func testWrongAudienceAndIssuer() {
        assertRefused(token(claims: claims(["aud": "another-service"])), .wrongAudience)
        assertRefused(token(claims: claims(["aud": ["a", "b"]])), .wrongAudience)
        XCTAssertNoThrow(try verify(token(claims: claims(["aud": ["a", "sidecar"]]))).get(), "an audience array naming us")
        assertRefused(token(claims: claims(["iss": "evil"])), .wrongIssuer)
    }

    func testUnknownKid() {
        assertRefused(token(header: ["alg": "EdDSA", "kid": "k2"]), .unknownKid)
    }
}

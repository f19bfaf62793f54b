import XCTest
@testable import RampartAuthCore

/// Standard test vectors: RFC 8037 A.4 (Ed25519 JWS), RFC 6238 App. B and RFC 4226 App. D
/// (TOTP/HOTP SHA-1), RFC 4231 (HMAC-SHA256), RFC 4648 (base32/base64url).
final class CryptoVectorTests: XCTestCase {
    // RFC 8037 Appendix A.1 key; A.4 signing input and signature.
    let d = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
    let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    let signature = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

    func testRFC8037A4SignatureIsExact() throws {
        let key = try Ed25519Key(privateSeed: XCTUnwrap(Base64URL.decode(Array(d.utf8))))
        XCTAssertEqual(Base64URL.encode(key.publicKey), x, "A.1: the public key derived from d")
        XCTAssertEqual(Base64URL.encode(try key.sign(Array(input.utf8))), signature, "A.4: Ed25519 is deterministic")
    }

    func testRFC8037A4VerifiesWithThePublicKeyAndTamperingFails() throws {
        let key = try Ed25519Key(publicKey: XCTUnwrap(Base64URL.decode(Array(x.utf8))))
        let sig = try XCTUnwrap(Base64URL.decode(Array(signature.utf8)))
        XCTAssertTrue(key.verify(signature: sig, message: Array(input.utf8)))
        var tampered = sig
        tampered[10] ^= 1
        XCTAssertFalse(key.verify(signature: tampered, message: Array(input.utf8)))
        XCTAssertFalse(key.verify(signature: sig, message: Array((input + "x").utf8)))
        XCTAssertThrowsError(try key.sign([1, 2, 3]), "a public key cannot sign")
    }

    func testRFC8037A4ParsesAsAJWSButIsRefusedWithoutKid() {
        // The RFC's header is {"alg":"EdDSA"}: structurally fine, but Rampart requires a kid.
        guard case .failure(let reason) = JWS.parse(Array((input + "." + signature).utf8)) else { return XCTFail("accepted") }
        XCTAssertEqual(reason, .malformed)
    }

    func testPEMRoundTrip() throws {
        let key = try Ed25519Key.generate()
        let pem = try key.privatePEM()
        XCTAssertTrue(String(decoding: pem, as: UTF8.self).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let again = try Ed25519Key(privatePEM: pem)
        XCTAssertEqual(again.publicKey, key.publicKey)
        XCTAssertThrowsError(try Ed25519Key(privatePEM: Array("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8)))
        XCTAssertThrowsError(try Ed25519Key(privateSeed: [1, 2, 3]))
    }

    func testRFC6238AppendixBSHA1Vectors() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8), digits: 8)
        let vectors: [(Int64, String)] = [
            (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
        ]
        for (time, code) in vectors {
            XCTAssertEqual(totp.code(at: time), code, "T = \(time)")
            XCTAssertEqual(totp.matchingStep(code, at: time), time / 30)
        }
    }

    func testRFC4226AppendixDHOTPVectors() {
        let hotp = TOTP(secret: Array("12345678901234567890".utf8))
        let codes = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
        for (counter, code) in codes.enumerated() { XCTAssertEqual(hotp.hotp(counter: UInt64(counter)), code) }
    }

    func testTOTPWindowIsPlusMinusOneStep() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let now: Int64 = 1_700_000_000
        XCTAssertNotNil(totp.matchingStep(totp.code(at: now - 30), at: now))
        XCTAssertNotNil(totp.matchingStep(totp.code(at: now + 30), at: now))
        XCTAssertNil(totp.matchingStep(totp.code(at: now - 60), at: now), "two steps ago")
        XCTAssertNil(totp.matchingStep(totp.code(at: now + 60), at: now))
        XCTAssertNil(totp.matchingStep("12345", at: now))
        XCTAssertNil(totp.matchingStep("12a456", at: now))
        XCTAssertNil(totp.matchingStep("", at: now))
    }

    func testOTPAuthURI() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        XCTAssertEqual(totp.provisioningURI(account: "ops@acme", issuer: "Rampart"),
                       "otpauth://totp/Rampart:ops%40acme?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Rampart&algorithm=SHA1&digits=6&period=30")
    }

    func testRFC4231HMACSHA256TestCase2() {
        XCTAssertEqual(hexOf(HMAC.mac(.sha256, key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testRFC4648Vectors() {
        let cases: [(String, String, String)] = [
            ("", "", ""), ("f", "MY", "Zg"), ("fo", "MZXQ", "Zm8"), ("foo", "MZXW6", "Zm9v"),
            ("foob", "MZXW6YQ", "Zm9vYg"), ("fooba", "MZXW6YTB", "Zm9vYmE"), ("foobar", "MZXW6YTBOI", "Zm9vYmFy"),
        ]
        for (plain, b32, b64) in cases {
            XCTAssertEqual(Base32.encode(Array(plain.utf8)), b32)
            XCTAssertEqual(Base32.decode(b32), Array(plain.utf8))
            XCTAssertEqual(Base64URL.encode(Array(plain.utf8)), b64)
            XCTAssertEqual(Base64URL.decode(Array(b64.utf8)), Array(plain.utf8))
        }
        XCTAssertEqual(Base32.decode("mzxw6ytboi======"), Array("foobar".utf8), "lower case and padding from apps")
        XCTAssertNil(Base32.decode("MZ1W"), "1 is not base32")
    }

    func testBase64URLIsStrict() {
        XCTAssertNil(Base64URL.decode(Array("Zg==".utf8)), "padding")
        XCTAssertNil(Base64URL.decode(Array("Zm+v".utf8)), "standard alphabet")
        XCTAssertNil(Base64URL.decode(Array("Zm9 v".utf8)), "whitespace")
        XCTAssertNil(Base64URL.decode(Array("Z".utf8)), "impossible length")
        XCTAssertNil(Base64URL.decode(Array("Zh".utf8)), "non-canonical trailing bits")
        XCTAssertEqual(Base64URL.decode(Array("_-8".utf8)), [0xFF, 0xEF])
    }

    func testConstantTimeEqual() {
        XCTAssertTrue(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEqual([1, 2, 3], [1, 2]))
        XCTAssertTrue(constantTimeEqual([], []))
    }

    func testSecretBoxSealsAndBindsTheContext() throws {
        let box = SecretBox(storeSecret: Array(repeating: 7, count: 32))
        let sealed = try box.seal(Array("seed".utf8), context: "totp:a")
        XCTAssertEqual(try box.open(sealed, context: "totp:a"), Array("seed".utf8))
        XCTAssertThrowsError(try box.open(sealed, context: "totp:b"), "moved to another principal")
        XCTAssertThrowsError(try SecretBox(storeSecret: Array(repeating: 8, count: 32)).open(sealed, context: "totp:a"), "another store")
        var tampered = sealed
        tampered[14] ^= 1
        XCTAssertThrowsError(try box.open(tampered, context: "totp:a"))
    }

    func hexOf(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

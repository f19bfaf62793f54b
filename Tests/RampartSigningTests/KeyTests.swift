import Foundation
import XCTest
@testable import RampartSigning

final class KeyTests: XCTestCase {
    /// `openssl ecparam -name prime256v1 -genkey -noout` (SEC1 "EC PRIVATE KEY").
    static let sec1PrivateKey = """
        -----BEGIN EC PRIVATE KEY-----
        MHcCAQEEIIg71enGKs73DArUziRvlAyPu1a9+o/r/ezPIqohSQkhoAoGCCqGSM49
        AwEHoUQDQgAEg6kB1o6YcVMkBjEDSodDtqvWdRrbV9QBp40Zap8PISI5YmMlQblP
        0/wok+QJ7RMBVslBjWgPsLlV1rlPq/hxng==
        -----END EC PRIVATE KEY-----

        """
    /// Its public key, as `openssl ec -pubout` writes it.
    static let sec1PublicKey = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEg6kB1o6YcVMkBjEDSodDtqvWdRrb
        V9QBp40Zap8PISI5YmMlQblP0/wok+QJ7RMBVslBjWgPsLlV1rlPq/hxng==
        -----END PUBLIC KEY-----

        """
    static let secp256k1PublicKey = """
        -----BEGIN PUBLIC KEY-----
        MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEshOlrqqht/1HUvdQasu9hBoiX5w2npb3
        8RMCGyMhk4AAF+AVRsU96JHWEfzbFxBx+uAni2fpsm8mDhEmvIPzlw==
        -----END PUBLIC KEY-----

        """
    static let rsaPublicKey = """
        -----BEGIN PUBLIC KEY-----
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDZzO6ljftR4DHJmAfbBXU65oIL
        ygXWYSNl19/rvjwCBePvIRMFdB/GZCPsSnLUpPZVkkXEqvyNhyT5i74B/co+xh/J
        1+QFgOqAWovkA0ecOL8dFczL7w+EV3nyK7POOV9GThYU9lkuZxKutg2rNmf3xYNg
        z56IAf1dW3wpmVg/OwIDAQAB
        -----END PUBLIC KEY-----

        """
    static let ed25519PublicKey = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEAUyejOV+muKLUSoLWiZ0ci75Wq4vMxGiRb/1qHg6/JGA=
        -----END PUBLIC KEY-----

        """
    static let encryptedPrivateKey = """
        -----BEGIN ENCRYPTED PRIVATE KEY-----
        MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgg71FKeVEGAAICCAAw
        DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEK15U8mSGbX5S1Eejn9vylgEgZDK
        5L8zEsJqE4RlbDmrfQ8+wdFO7/zPMcibmTCPTf+Cq34X5BnEvW5w03SuIo7Fz5x1
        mk6Sj62QBcaWMamKiKJi128wkbrWwl8vRt6YbXZRgKjhGkuxa4LiLXmxGfMPSWT7
        zdFm0oZaId5Vq2/tywRlzateIIjy38GeBMdmxayclQPxlvMReV7gR14ct4Fmwdg=
        -----END ENCRYPTED PRIVATE KEY-----

        """

    func testGenerateAndPEMRoundTrip() throws {
        for curve in Curve.allCases {
            let key = try SigningKey.generate(curve: curve)
            let pem = try key.pemRepresentation()
            XCTAssertTrue(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8 expected")
            let reloaded = try SigningKey(pemRepresentation: pem)
            XCTAssertEqual(reloaded.curve, curve)
            XCTAssertEqual(reloaded.verifyingKey, key.verifyingKey)
            let publicKey = try VerifyingKey(pemRepresentation: key.verifyingKey.pemRepresentation)
            XCTAssertEqual(publicKey.hint, key.verifyingKey.hint)
            XCTAssertEqual(publicKey.curve, curve)
            XCTAssertTrue(publicKey.pemRepresentation.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
            XCTAssertTrue(publicKey.pemRepresentation.hasSuffix("-----END PUBLIC KEY-----\n"))
        }
    }

    func testSignAndVerifyPrimitive() throws {
        let key = try SigningKey.generate(curve: .p384)
        let message = Array("hello".utf8)
        let signature = try key.sign(message)
        XCTAssertEqual(signature.first, 0x30, "DER SEQUENCE")
        XCTAssertTrue(key.verifyingKey.isValidSignature(signature, for: message))
        XCTAssertFalse(key.verifyingKey.isValidSignature(signature, for: Array("hellO".utf8)))
        XCTAssertFalse(key.verifyingKey.isValidSignature([], for: message))
        XCTAssertFalse(key.verifyingKey.isValidSignature([UInt8](repeating: 0x30, count: 300), for: message))
        XCTAssertFalse(try SigningKey.generate(curve: .p384).verifyingKey.isValidSignature(signature, for: message))
    }

    func testSEC1KeyAsOpenSSLWritesIt() throws {
        let key = try SigningKey(pemRepresentation: Self.sec1PrivateKey)
        XCTAssertEqual(key.curve, .p256)
        XCTAssertEqual(key.verifyingKey.pemRepresentation, Self.sec1PublicKey)
        XCTAssertEqual(try VerifyingKey(pemRepresentation: Self.sec1PublicKey).hint, sha256Hex(Array(Self.sec1PublicKey.utf8)))
    }

    func testPrivateKeyFileIs0600AndNotOverwritten() throws {
        let tmp = try TemporaryDirectory()
        let key = try SigningKey.generate()
        let path = tmp.sub("k.key")
        let oldMask = umask(0)  // even a permissive umask must not widen the mode
        defer { umask(oldMask) }
        try key.write(toPEMFile: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertThrowsSigningError(.fileExists(path: path)) { try key.write(toPEMFile: path) }
        let other = try SigningKey.generate()
        try other.write(toPEMFile: path, overwrite: true)
        XCTAssertEqual(try SigningKey(pemFile: path).verifyingKey, other.verifyingKey)
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue, 0o600)

        try key.verifyingKey.write(toPEMFile: tmp.sub("k.pub"))
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: tmp.sub("k.pub"))[.posixPermissions] as? NSNumber)?.intValue, 0o644)
        XCTAssertEqual(try VerifyingKey(pemFile: tmp.sub("k.pub")), key.verifyingKey)
        // No temporary files are left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp.path).sorted(), ["k.key", "k.pub"])
    }

    func testUnsupportedKeys() {
        XCTAssertThrowsSigningError({ try VerifyingKey(pemRepresentation: Self.rsaPublicKey) }) {
            if case .unsupportedKey(_, let reason) = $0 { return reason.contains("elliptic-curve") }
            return false
        }
        XCTAssertThrowsSigningError({ try VerifyingKey(pemRepresentation: Self.ed25519PublicKey) }) {
            if case .unsupportedKey = $0 { return true }
            return false
        }
        XCTAssertThrowsSigningError({ try VerifyingKey(pemRepresentation: Self.secp256k1PublicKey) }) {
            if case .unsupportedKey(_, let reason) = $0 { return reason.contains("secp256k1") }
            return false
        }
        XCTAssertThrowsSigningError({ try SigningKey(pemRepresentation: Self.encryptedPrivateKey) }) {
            if case .invalidKey(_, let reason) = $0 { return reason.contains("encrypted") }
            return false
        }
        XCTAssertThrowsSigningError({ try VerifyingKey(pemRepresentation: Self.sec1PrivateKey) }) {
            if case .invalidKey(_, let reason) = $0 { return reason.contains("private key") }
            return false
        }
        XCTAssertThrowsSigningError({ try SigningKey(pemRepresentation: Self.sec1PublicKey) }) {
            if case .invalidKey = $0 { return true }
            return false
        }
        XCTAssertThrowsSigningError({ try VerifyingKey(pemRepresentation: "garbage") }) {
            if case .invalidKey = $0 { return true }
            return false
        }
        XCTAssertThrowsSigningError({ try VerifyingKey(pemFile: "/nonexistent/key.pub") }) {
            if case .invalidKey(let source, let reason) = $0 { return source == "/nonexistent/key.pub" && reason == "no such file" }
            return false
        }
    }

    func testKeyFileSizeCap() throws {
        let tmp = try TemporaryDirectory()
        try write(tmp.sub("huge.pub"), String(repeating: "A", count: 100_000))
        XCTAssertThrowsSigningError({ try VerifyingKey(pemFile: tmp.sub("huge.pub")) }) {
            if case .invalidKey(_, let reason) = $0 { return reason.contains("too large") }
            return false
        }
    }
}

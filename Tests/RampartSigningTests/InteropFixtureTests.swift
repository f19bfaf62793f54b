import Foundation
import XCTest
@testable import RampartSigning

/// Fixed test vectors signed by the reference tool (PyPI `model-signing` 1.1.1):
///
///     python -m model_signing sign key --private_key KEY.pem \
///         --signature Fixtures/python-p256/model/model.sig Fixtures/python-p256/model
///
/// Only the public keys are committed. These tests check interop without Python at test time;
/// Tests/interop/model-signing.sh checks it live in both directions.
final class InteropFixtureTests: XCTestCase {
    static let p256Files: [(String, String)] = [
        (".hidden", "e084a3683ef795d1cdbf5e9b253f2ca1f783ae0d0d6e47e419acbbc4fc80bbfa"),
        ("Z-upper", "f58e04e9e139773f19ed0cd4f9128a005d155f40e5eee33a6d7ebd78c20ef6c3"),
        ("a/x.txt", "172427db4c50ae0e3e1a9ba0d219132ddef3999d94869b4f4c395666580689c1"),
        ("a-b/z", "f8359416cedbf4b44bd1cab71b791b4121e3b33748187c530e70207af87c3f39"),
        ("a.b", "a9b70abed18e00d83b689f3b1a7264d8f8168dfc42cbeabcf979ad46c48929d7"),
        ("config.json", "863050488399daa94f619c3f65b9a9d5bee6be1b6347d785b86e8d4733920fa5"),
        ("empty.txt", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("nested/deep/er/file", "64896f89fd11190013b70103e603a1c5826e56b7fb7d2197ab279b0690043599"),
        ("weights/a.bin", "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9"),
        ("ä.txt", "eefeabce9a2687ecae740bf791ad4e768b642ec837cc05e9677b25de098e2547"),
    ]
    static let p256Root = "b24ecb911b43c42210e5f95738b2873c9fb25005ea756f756ca36580007f046a"
    static let p384Root = "01b9143febd853941c6a7ca3a179586df4211f8b7a30cdca43d50417fe0c9bb1"

    private func fixture(_ name: String) -> (model: String, key: String) {
        (fixturesDirectory + "/\(name)/model", fixturesDirectory + "/\(name)/key.pub")
    }

    func testVerifiesPythonSignedP256() throws {
        let (model, keyPath) = fixture("python-p256")
        let key = try VerifyingKey(pemFile: keyPath)
        XCTAssertEqual(key.curve, .p256)
        let verified = try ModelVerifier.verify(directory: model, trustedKeys: [key])
        XCTAssertEqual(verified.rootDigest, Self.p256Root)
        XCTAssertEqual(verified.modelName, "model")
        XCTAssertEqual(verified.files.map(\.path), Self.p256Files.map(\.0))
        XCTAssertEqual(verified.files.map(\.sha256), Self.p256Files.map(\.1))
        XCTAssertEqual(Set(verified.ignorePaths), [".git", ".gitattributes", ".github", ".gitignore", "model.sig"])
    }

    func testVerifiesPythonSignedP384() throws {
        let (model, keyPath) = fixture("python-p384")
        let key = try VerifyingKey(pemFile: keyPath)
        XCTAssertEqual(key.curve, .p384)
        let verified = try ModelVerifier.verify(directory: model, trustedKeys: [key])
        XCTAssertEqual(verified.rootDigest, Self.p384Root)
        XCTAssertEqual(verified.files.map(\.path), ["tokenizer.txt", "w/0.bin"])
    }

    func testHintIsComputedLikeTheReferenceTool() throws {
        for name in ["python-p256", "python-p384"] {
            let (model, keyPath) = fixture(name)
            let bundle = try loadBundleJSON(model + "/model.sig")
            let hint = ((bundle["verificationMaterial"] as? [String: Any])?["publicKey"] as? [String: Any])?["hint"] as? String
            XCTAssertEqual(try VerifyingKey(pemFile: keyPath).hint, hint)
        }
    }

    func testPythonFixtureWithTheWrongKeyFails() throws {
        let (model, _) = fixture("python-p256")
        let p384 = try VerifyingKey(pemFile: fixture("python-p384").key)
        XCTAssertThrowsSigningError({ try ModelVerifier.verify(directory: model, trustedKeys: [p384]) }) {
            if case .keyHintMismatch = $0 { return true }
            return false
        }
    }

    func testTamperedCopyOfPythonFixtureFails() throws {
        let tmp = try TemporaryDirectory()
        let (model, keyPath) = fixture("python-p256")
        let copy = tmp.sub("model")
        try FileManager.default.copyItem(atPath: model, toPath: copy)
        let key = try VerifyingKey(pemFile: keyPath)
        XCTAssertNoThrow(try ModelVerifier.verify(directory: copy, trustedKeys: [key]))
        try write(copy + "/nested/deep/er/file", "tampered\n")
        XCTAssertThrowsSigningError(.manifestMismatch([
            .modified(path: "nested/deep/er/file", expected: "64896f89fd11190013b70103e603a1c5826e56b7fb7d2197ab279b0690043599",
                      actual: hexDigest("tampered\n")),
        ])) { try ModelVerifier.verify(directory: copy, trustedKeys: [key]) }
    }

    /// Rampart's serializer produces the reference tool's manifest for the same directory:
    /// same files, same order, same digests, same root.
    func testRampartManifestEqualsReferenceManifest() throws {
        let tmp = try TemporaryDirectory()
        let copy = tmp.sub("model")
        try FileManager.default.copyItem(atPath: fixture("python-p256").model, toPath: copy)
        let key = try SigningKey.generate()
        let bundle = try ModelSigner.sign(directory: copy, key: key)
        XCTAssertEqual(bundle.rootDigest, Self.p256Root)
        XCTAssertEqual(bundle.files.map(\.path), Self.p256Files.map(\.0))
        XCTAssertEqual(bundle.files.map(\.sha256), Self.p256Files.map(\.1))
    }
}

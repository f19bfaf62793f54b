import Foundation
import XCTest
@testable import RampartSigning

final class SignVerifyTests: XCTestCase {
    private func roundTrip(curve: Curve) throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("llm", sampleFiles)
        let key = try SigningKey.generate(curve: curve)
        XCTAssertEqual(key.curve, curve)

        let bundle = try ModelSigner.sign(directory: model, key: key)
        try bundle.write(to: model + "/model.sig")
        XCTAssertEqual(bundle.files.count, sampleFiles.count)
        XCTAssertEqual(bundle.modelName, "llm")
        XCTAssertEqual(bundle.keyHint, key.verifyingKey.hint)

        let verified = try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey])
        XCTAssertEqual(verified.rootDigest, bundle.rootDigest)
        XCTAssertEqual(verified.files, bundle.files)
        XCTAssertEqual(verified.key, key.verifyingKey)
        XCTAssertEqual(verified.modelName, "llm")
        XCTAssertEqual(Set(verified.ignorePaths), [".git", ".gitattributes", ".github", ".gitignore", "model.sig"])

        // Per-file digests are plain SHA-256 of the contents.
        let config = try XCTUnwrap(verified.files.first { $0.path == "config.json" })
        XCTAssertEqual(config.sha256, hexDigest("{\"layers\": 2}\n"))
    }

    func testRoundTripP256() throws { try roundTrip(curve: .p256) }
    func testRoundTripP384() throws { try roundTrip(curve: .p384) }
    func testRoundTripP521() throws { try roundTrip(curve: .p521) }

    func testBundleShapeMatchesTheFormat() throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("m", ["f": "x"])
        let key = try SigningKey.generate()
        try ModelSigner.sign(directory: model, key: key).write(to: model + "/model.sig")

        let bundle = try loadBundleJSON(model + "/model.sig")
        XCTAssertEqual(bundle["mediaType"] as? String, "application/vnd.dev.sigstore.bundle.v0.3+json")
        let material = try XCTUnwrap(bundle["verificationMaterial"] as? [String: Any])
        XCTAssertEqual((material["publicKey"] as? [String: Any])?["hint"] as? String, key.verifyingKey.hint)
        XCTAssertEqual((material["tlogEntries"] as? [Any])?.count, 0)
        let envelope = try XCTUnwrap(bundle["dsseEnvelope"] as? [String: Any])
        XCTAssertEqual(envelope["payloadType"] as? String, "application/vnd.in-toto+json")
        let signatures = try XCTUnwrap(envelope["signatures"] as? [[String: Any]])
        XCTAssertEqual(signatures.count, 1)
        XCTAssertEqual(signatures[0]["keyid"] as? String, "")

        let statement = try statementJSON(model + "/model.sig")
        XCTAssertEqual(statement["_type"] as? String, "https://in-toto.io/Statement/v1")
        XCTAssertEqual(statement["predicateType"] as? String, "https://model_signing/signature/v1.0")
        let subject = try XCTUnwrap((statement["subject"] as? [[String: Any]])?.first)
        XCTAssertEqual(subject["name"] as? String, "m")
        let fileDigest = hexDigest("x")
        // root = sha256(raw digest bytes of the resources, in order)
        XCTAssertEqual((subject["digest"] as? [String: String])?["sha256"], hexDigest(bytes: parseHex(fileDigest, byteCount: 32) ?? []))
        let predicate = try XCTUnwrap(statement["predicate"] as? [String: Any])
        let serialization = try XCTUnwrap(predicate["serialization"] as? [String: Any])
        XCTAssertEqual(serialization["method"] as? String, "files")
        XCTAssertEqual(serialization["hash_type"] as? String, "sha256")
        XCTAssertEqual(serialization["allow_symlinks"] as? Bool, false)
        let resources = try XCTUnwrap(predicate["resources"] as? [[String: String]])
        XCTAssertEqual(resources, [["name": "f", "algorithm": "sha256", "digest": fileDigest]])
    }

    func testPathlibOrderingAndNesting() throws {
        let tmp = try TemporaryDirectory()
        // As strings "a.b" < "a/x" and "a-b/z" < "a/x"; pathlib compares component-wise, so a/x first.
        let model = try tmp.makeModel("m", [
            "a.b": "1", "a/x": "2", "a-b/z": "3", "a/b/c/d/e": "4", "B": "5", "b": "6", ".hidden": "7",
            "ä.txt": "8", "z": "9", "a/b/c.d": "10", "a/b/c/d.e": "11",
        ])
        try FileManager.default.createDirectory(atPath: model + "/empty/dir", withIntermediateDirectories: true)
        let key = try SigningKey.generate()
        let bundle = try ModelSigner.sign(directory: model, key: key)
        XCTAssertEqual(bundle.files.map(\.path), [
            ".hidden", "B", "a/b/c/d/e", "a/b/c/d.e", "a/b/c.d", "a/x", "a-b/z", "a.b", "b", "z", "ä.txt",
        ])
        try bundle.write(to: model + "/model.sig")
        XCTAssertNoThrow(try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey]))
    }

    func testManifestPathOrderingMatchesPathlib() {
        func path(_ s: String) -> ManifestPath { ManifestPath(canonical: s)! }
        XCTAssertLessThan(path("a/x"), path("a.b"))
        XCTAssertLessThan(path("a"), path("a/b"))
        XCTAssertLessThan(path("A"), path("a"))
        XCTAssertLessThan(path("z"), path("é"))
        // Code point order, not Unicode canonical equivalence: NFC and NFD are different names.
        XCTAssertNotEqual(path("\u{E9}"), path("e\u{301}"))
        XCTAssertLessThan(path("e\u{301}"), path("\u{E9}"))
        XCTAssertNil(ManifestPath(canonical: "a//b"))
        XCTAssertNil(ManifestPath(canonical: "./a"))
        XCTAssertNil(ManifestPath(canonical: "a/../b"))
        XCTAssertNil(ManifestPath(canonical: "/a"))
        XCTAssertNil(ManifestPath(canonical: "a/"))
        XCTAssertEqual(ManifestPath(normalizing: "./.git/")?.string, ".git")
        XCTAssertNil(ManifestPath(normalizing: "."))
        XCTAssertNil(ManifestPath(normalizing: "../x"))
        XCTAssertNil(ManifestPath(normalizing: "/etc"))
    }

    func testUnicodeNormalizationVariantsAreDistinctFiles() throws {
        let tmp = try TemporaryDirectory()
        // (Not a dictionary literal: Swift's String equality would call these two keys equal.)
        let model = try tmp.makeModel("m", [:])
        try write(model + "/\u{E9}.txt", "nfc")
        try write(model + "/e\u{301}.txt", "nfd")
        let entries = try FileManager.default.contentsOfDirectory(atPath: model)
        try XCTSkipUnless(entries.count == 2, "the file system normalizes names")
        let key = try SigningKey.generate()
        let bundle = try ModelSigner.sign(directory: model, key: key)
        XCTAssertEqual(bundle.files.count, 2)
        try bundle.write(to: model + "/model.sig")
        XCTAssertNoThrow(try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey]))

        // Swapping the contents of the two look-alike names is detected.
        try write(model + "/\u{E9}.txt", "nfd")
        try write(model + "/e\u{301}.txt", "nfc")
        XCTAssertThrowsSigningError({ try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey]) }) {
            if case .manifestMismatch(let d) = $0 { return d.count == 2 }
            return false
        }
    }

    func testGitPathsAreIgnoredAtTopLevelOnly() throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("m", [
            "weights.bin": "w", ".git/HEAD": "ref", ".gitattributes": "*.bin lfs", ".gitignore": "x",
            ".github/workflows/ci.yml": "ci", "sub/.git/x": "nested git is not ignored", "sub/.gitignore": "kept",
        ])
        let key = try SigningKey.generate()
        let bundle = try ModelSigner.sign(directory: model, key: key)
        XCTAssertEqual(bundle.files.map(\.path), ["sub/.git/x", "sub/.gitignore", "weights.bin"])
        XCTAssertEqual(bundle.ignorePaths, [".git", ".gitattributes", ".github", ".gitignore", "model.sig"])
        try bundle.write(to: model + "/model.sig")

        // Changes under ignored paths do not matter; changes elsewhere do.
        try write(model + "/.git/HEAD", "changed")
        try write(model + "/.github/new", "new")
        XCTAssertNoThrow(try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey]))
        try write(model + "/sub/.git/x", "changed")
        XCTAssertThrowsSigningError({ try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey]) }) {
            return isSingleModification($0, "sub/.git/x")
        }
    }

    func testIgnoredPathsAreNotVisited() throws {
        // Unlike the reference tool, entries under ignored paths are not even looked at, so a
        // symlink or FIFO inside .git does not matter.
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("m", ["f": "x", ".git/HEAD": "ref"])
        try FileManager.default.createSymbolicLink(atPath: model + "/.git/link", withDestinationPath: "/etc/passwd")
        let key = try SigningKey.generate()
        let bundle = try ModelSigner.sign(directory: model, key: key)
        XCTAssertEqual(bundle.files.map(\.path), ["f"])
        try bundle.write(to: model + "/model.sig")
        XCTAssertNoThrow(try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey]))
    }

    func testCustomIgnorePathsAndGitPathsOptional() throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("m", ["w.bin": "w", "cache/a": "a", "cache/b/c": "c", "notes.txt": "n", ".gitignore": "g"])
        let key = try SigningKey.generate()
        let options = SigningOptions(ignorePaths: ["cache/", "./notes.txt"], ignoreGitPaths: false)
        let bundle = try ModelSigner.sign(directory: model, key: key, options: options)
        XCTAssertEqual(bundle.files.map(\.path), [".gitignore", "w.bin"])
        XCTAssertEqual(bundle.ignorePaths, ["cache", "model.sig", "notes.txt"])
        try bundle.write(to: model + "/model.sig")
        try write(model + "/cache/new", "new")
        let verified = try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey])
        XCTAssertEqual(verified.files.count, 2)

        // The verifier ignores exactly what the statement lists: .gitignore is covered here.
        try write(model + "/.gitignore", "changed")
        XCTAssertThrowsSigningError({ try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey]) }) {
            return isSingleModification($0, ".gitignore")
        }

        XCTAssertThrowsSigningError(.invalidIgnorePath("../x")) {
            try ModelSigner.sign(directory: model, key: key, options: SigningOptions(ignorePaths: ["../x"]))
        }
        XCTAssertThrowsSigningError(.invalidIgnorePath("/abs")) {
            try ModelSigner.sign(directory: model, key: key, options: SigningOptions(ignorePaths: ["/abs"]))
        }
    }

    func testSignatureOutsideTheDirectory() throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("m", ["f": "x"])
        let key = try SigningKey.generate()
        let sigPath = tmp.sub("elsewhere.sig")
        let bundle = try ModelSigner.sign(directory: model, key: key, signatureName: sigPath)
        XCTAssertEqual(bundle.ignorePaths, [".git", ".gitattributes", ".github", ".gitignore"])
        try bundle.write(to: sigPath)
        let verified = try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey], signaturePath: sigPath)
        XCTAssertEqual(verified.files.map(\.path), ["f"])
        // Without --signature the default <dir>/model.sig is looked for.
        XCTAssertThrowsSigningError(.signatureFileMissing(path: model + "/model.sig")) {
            try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey])
        }
    }

    func testSignatureInANestedLocationIsIgnored() throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("m", ["f": "x", "sigs/readme": "r"])
        let key = try SigningKey.generate()
        let bundle = try ModelSigner.sign(directory: model, key: key, signatureName: "sigs/model.sig")
        XCTAssertTrue(bundle.ignorePaths.contains("sigs/model.sig"))
        try bundle.write(to: model + "/sigs/model.sig")
        XCTAssertNoThrow(try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey],
                                                  signaturePath: model + "/sigs/model.sig"))
    }

    func testTrailingSlashAndDotDirectory() throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("named", ["f": "x"])
        let key = try SigningKey.generate()
        let bundle = try ModelSigner.sign(directory: model + "/", key: key)
        XCTAssertEqual(bundle.modelName, "named")
        XCTAssertEqual(bundle.ignorePaths.last, "model.sig")
        try bundle.write(to: model + "/model.sig")
        XCTAssertNoThrow(try ModelVerifier.verify(directory: model + "/.", trustedKeys: [key.verifyingKey]))
        XCTAssertEqual(ModelSigner.modelName(of: model + "/."), "named")
    }

    func testSeveralTrustedKeys() throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("m", sampleFiles)
        let signer = try SigningKey.generate(curve: .p384)
        let others = try (0..<3).map { _ in try SigningKey.generate().verifyingKey }
        try ModelSigner.sign(directory: model, key: signer).write(to: model + "/model.sig")
        let verified = try ModelVerifier.verify(directory: model, trustedKeys: others + [signer.verifyingKey])
        XCTAssertEqual(verified.key, signer.verifyingKey)

        // Without a hint every trusted key is tried.
        var bundle = try loadBundleJSON(model + "/model.sig")
        bundle["verificationMaterial"] = ["publicKey": [String: Any](), "tlogEntries": [Any]()]
        try saveBundleJSON(bundle, model + "/model.sig")
        let again = try ModelVerifier.verify(directory: model, trustedKeys: others + [signer.verifyingKey])
        XCTAssertEqual(again.key, signer.verifyingKey)
    }

    func testEmptyDirectorySignsToEmptyManifest() throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("m", [:])
        let key = try SigningKey.generate()
        let bundle = try ModelSigner.sign(directory: model, key: key)
        XCTAssertEqual(bundle.files, [])
        XCTAssertEqual(bundle.rootDigest, hexDigest(""))
        try bundle.write(to: model + "/model.sig")
        XCTAssertEqual(try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey]).files, [])
    }

    func testLargeFileIsStreamed() throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("m", [:])
        // 5 MiB + 3 bytes: several 1 MiB chunks and a partial one.
        var data = Data(count: 5 * 1024 * 1024 + 3)
        data.withUnsafeMutableBytes { raw in for i in 0..<raw.count { raw[i] = UInt8(truncatingIfNeeded: i &* 31) } }
        try write(model + "/big.bin", data)
        let key = try SigningKey.generate()
        let bundle = try ModelSigner.sign(directory: model, key: key)
        XCTAssertEqual(bundle.files.first?.sha256, hexDigest(bytes: [UInt8](data)))
    }

    func testNotADirectory() throws {
        let tmp = try TemporaryDirectory()
        try write(tmp.sub("file"), "x")
        let key = try SigningKey.generate()
        XCTAssertThrowsSigningError(.notADirectory(path: tmp.sub("file"))) {
            try ModelSigner.sign(directory: tmp.sub("file"), key: key)
        }
        XCTAssertThrowsSigningError({ try ModelSigner.sign(directory: tmp.sub("missing"), key: key) }) {
            if case .io(let path, _) = $0 { return path == tmp.sub("missing") }
            return false
        }
    }

    func testSymlinkedRootIsRefused() throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("m", ["f": "x"])
        try FileManager.default.createSymbolicLink(atPath: tmp.sub("link"), withDestinationPath: model)
        let key = try SigningKey.generate()
        XCTAssertThrowsSigningError(.symlinkRefused(path: tmp.sub("link"))) {
            try ModelSigner.sign(directory: tmp.sub("link"), key: key)
        }
    }

    func testAllowSymlinksWhenSignerAndVerifierAgree() throws {
        let tmp = try TemporaryDirectory()
        let model = try tmp.makeModel("m", ["real.bin": "data"])
        try write(tmp.sub("outside.bin"), "outside")
        try FileManager.default.createSymbolicLink(atPath: model + "/link.bin", withDestinationPath: tmp.sub("outside.bin"))
        let key = try SigningKey.generate()
        let bundle = try ModelSigner.sign(directory: model, key: key, options: SigningOptions(allowSymlinks: true))
        XCTAssertEqual(bundle.files.map(\.path), ["link.bin", "real.bin"])
        XCTAssertEqual(bundle.files.first?.sha256, hexDigest("outside"))
        try bundle.write(to: model + "/model.sig")
        // Rampart's default policy refuses symlinks even when the signer allowed them.
        XCTAssertThrowsSigningError(.symlinkRefused(path: "link.bin")) {
            try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey])
        }
        XCTAssertNoThrow(try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey],
                                                  options: VerificationOptions(permitSymlinks: true)))
    }

    func testPAE() {
        let pae = ModelSigningFormat.pae(payloadType: "application/vnd.in-toto+json", payload: Array("{}".utf8))
        XCTAssertEqual(String(decoding: pae, as: UTF8.self), "DSSEv1 28 application/vnd.in-toto+json 2 {}")
    }
}

func hexDigest(_ text: String) -> String { sha256Hex(Array(text.utf8)) }

func hexDigest(bytes: [UInt8]) -> String { sha256Hex(bytes) }

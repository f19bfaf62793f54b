import Foundation
import XCTest
@testable import RampartSigning

/// Every way a signed directory or its signature can be tampered with must fail with a precise,
/// typed error.
final class TamperTests: XCTestCase {
    private var tmp: TemporaryDirectory!
    private var model: String!
    private var key: SigningKey!
    private var sigPath: String { model + "/model.sig" }

    override func setUpWithError() throws {
        tmp = try TemporaryDirectory()
        model = try tmp.makeModel("m", sampleFiles)
        key = try SigningKey.generate()
        try ModelSigner.sign(directory: model, key: key).write(to: sigPath)
        XCTAssertNoThrow(try verify())
    }

    override func tearDown() { tmp = nil }

    @discardableResult
    private func verify(_ keys: [VerifyingKey]? = nil) throws -> VerifiedManifest {
        try ModelVerifier.verify(directory: model, trustedKeys: keys ?? [key.verifyingKey])
    }

    private func mutateBundle(_ change: (inout [String: Any]) -> Void) throws {
        var bundle = try loadBundleJSON(sigPath)
        change(&bundle)
        try saveBundleJSON(bundle, sigPath)
    }

    private func mutateEnvelope(_ change: (inout [String: Any]) -> Void) throws {
        try mutateBundle { bundle in
            var envelope = bundle["dsseEnvelope"] as? [String: Any] ?? [:]
            change(&envelope)
            bundle["dsseEnvelope"] = envelope
        }
    }

    /// Re-signs a modified statement with the trusted key (a validly signed but wrong statement).
    private func resignStatement(_ change: (inout [String: Any]) -> Void) throws {
        var statement = try statementJSON(sigPath)
        change(&statement)
        let payload = try JSONSerialization.data(withJSONObject: statement)
        try writeSignedStatement([UInt8](payload), key: key, to: sigPath)
    }

    // MARK: files

    func testModifiedFile() throws {
        let expected = hexDigest("w1")
        try write(model + "/weights/shard-1.bin", "w1 tampered")
        XCTAssertThrowsSigningError(.manifestMismatch([
            .modified(path: "weights/shard-1.bin", expected: expected, actual: hexDigest("w1 tampered")),
        ])) { try verify() }
        let error = SigningError.manifestMismatch([.modified(path: "weights/shard-1.bin", expected: expected, actual: hexDigest("w1 tampered"))])
        XCTAssertTrue(error.description.contains("weights/shard-1.bin"))
        XCTAssertTrue(error.description.contains(expected))
    }

    func testSameSizeModification() throws {
        try write(model + "/weights/shard-1.bin", "w2")
        XCTAssertThrowsSigningError({ try verify() }) {
            return isSingleModification($0, "weights/shard-1.bin")
        }
    }

    func testAddedFile() throws {
        try write(model + "/weights/shard-2.bin", "extra")
        XCTAssertThrowsSigningError(.manifestMismatch([.unexpected(path: "weights/shard-2.bin")])) { try verify() }
    }

    func testAddedHiddenFileAndEmptyFile() throws {
        try write(model + "/.hidden", "")
        XCTAssertThrowsSigningError(.manifestMismatch([.unexpected(path: ".hidden")])) { try verify() }
    }

    func testAddedEmptyDirectoryIsHarmless() throws {
        try FileManager.default.createDirectory(atPath: model + "/new/empty", withIntermediateDirectories: true)
        XCTAssertNoThrow(try verify())
    }

    func testRemovedFile() throws {
        try FileManager.default.removeItem(atPath: model + "/README.md")
        XCTAssertThrowsSigningError(.manifestMismatch([.missing(path: "README.md")])) { try verify() }
    }

    func testRenamedFile() throws {
        try FileManager.default.moveItem(atPath: model + "/config.json", toPath: model + "/config2.json")
        XCTAssertThrowsSigningError(.manifestMismatch([.missing(path: "config.json"), .unexpected(path: "config2.json")])) {
            try verify()
        }
    }

    func testMovedIntoSubdirectory() throws {
        try FileManager.default.moveItem(atPath: model + "/config.json", toPath: model + "/weights/config.json")
        XCTAssertThrowsSigningError(.manifestMismatch([.missing(path: "config.json"), .unexpected(path: "weights/config.json")])) {
            try verify()
        }
    }

    func testSymlinkAdded() throws {
        try FileManager.default.createSymbolicLink(atPath: model + "/weights/link.bin", withDestinationPath: "shard-1.bin")
        XCTAssertThrowsSigningError(.symlinkRefused(path: "weights/link.bin")) { try verify() }
    }

    func testFileReplacedBySymlinkWithSameContent() throws {
        try write(tmp.sub("copy.bin"), "w1")
        try FileManager.default.removeItem(atPath: model + "/weights/shard-1.bin")
        try FileManager.default.createSymbolicLink(atPath: model + "/weights/shard-1.bin", withDestinationPath: tmp.sub("copy.bin"))
        XCTAssertThrowsSigningError(.symlinkRefused(path: "weights/shard-1.bin")) { try verify() }
    }

    func testDirectoryReplacedBySymlink() throws {
        try FileManager.default.moveItem(atPath: model + "/weights", toPath: tmp.sub("weights"))
        try FileManager.default.createSymbolicLink(atPath: model + "/weights", withDestinationPath: tmp.sub("weights"))
        XCTAssertThrowsSigningError(.symlinkRefused(path: "weights")) { try verify() }
    }

    func testFIFOIsRefusedWithoutBlocking() throws {
        guard mkfifo(model + "/pipe", 0o600) == 0 else { throw XCTSkip("mkfifo unavailable") }
        XCTAssertThrowsSigningError(.unsupportedFileType(path: "pipe", kind: "FIFO")) { try verify() }
    }

    // MARK: keys and signatures

    func testSignatureFromUntrustedKey() throws {
        let other = try SigningKey.generate()
        XCTAssertThrowsSigningError(.keyHintMismatch(hint: key.verifyingKey.hint, trustedHints: [other.verifyingKey.hint])) {
            try verify([other.verifyingKey])
        }
        // An attacker re-signs the (tampered) model with their own key: still refused.
        try write(model + "/config.json", "evil")
        let attacker = try SigningKey.generate()
        try ModelSigner.sign(directory: model, key: attacker).write(to: sigPath)
        XCTAssertThrowsSigningError(.keyHintMismatch(hint: attacker.verifyingKey.hint, trustedHints: [key.verifyingKey.hint])) {
            try verify()
        }
        // ... and forging the hint to name the trusted key does not help.
        try mutateBundle { $0["verificationMaterial"] = ["publicKey": ["hint": self.key.verifyingKey.hint], "tlogEntries": [Any]()] }
        XCTAssertThrowsSigningError(.signatureInvalid(triedKeys: [key.verifyingKey.hint])) { try verify() }
        // ... nor does dropping the hint.
        try mutateBundle { $0["verificationMaterial"] = ["publicKey": [String: Any](), "tlogEntries": [Any]()] }
        XCTAssertThrowsSigningError(.signatureInvalid(triedKeys: [key.verifyingKey.hint])) { try verify() }
    }

    func testHintMismatch() throws {
        let bogus = String(repeating: "ab", count: 32)
        try mutateBundle { $0["verificationMaterial"] = ["publicKey": ["hint": bogus], "tlogEntries": [Any]()] }
        XCTAssertThrowsSigningError(.keyHintMismatch(hint: bogus, trustedHints: [key.verifyingKey.hint])) { try verify() }
    }

    func testPayloadAltered() throws {
        var statement = try statementJSON(sigPath)
        statement["subject"] = [["name": "m", "digest": ["sha256": String(repeating: "0", count: 64)]]]
        let payload = try JSONSerialization.data(withJSONObject: statement).base64EncodedString()
        try mutateEnvelope { $0["payload"] = payload }
        XCTAssertThrowsSigningError(.signatureInvalid(triedKeys: [key.verifyingKey.hint])) { try verify() }
    }

    func testPayloadOneByteAltered() throws {
        var bytes = try readBytes(sigPath)
        // Flip a character inside the base64 payload (keeping it valid base64).
        let text = String(decoding: bytes, as: UTF8.self)
        let range = try XCTUnwrap(text.range(of: "\"payload\":\""))
        let offset = text.utf8.distance(from: text.utf8.startIndex, to: range.upperBound) + 40
        bytes[offset] = bytes[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try write(sigPath, Data(bytes))
        XCTAssertThrowsSigningError({ try verify() }) {
            switch $0 {
            case .signatureInvalid, .malformedBundle: return true
            default: return false
            }
        }
    }

    func testSignatureBytesAltered() throws {
        try mutateEnvelope { envelope in
            var signatures = envelope["signatures"] as? [[String: Any]] ?? []
            var sig = Data(base64Encoded: signatures[0]["sig"] as? String ?? "") ?? Data()
            sig[sig.count - 1] ^= 0x01
            signatures[0]["sig"] = sig.base64EncodedString()
            envelope["signatures"] = signatures
        }
        XCTAssertThrowsSigningError(.signatureInvalid(triedKeys: [key.verifyingKey.hint])) { try verify() }
    }

    func testPayloadTypeAltered() throws {
        try mutateEnvelope { $0["payloadType"] = "application/json" }
        XCTAssertThrowsSigningError(.unsupportedPayloadType("application/json")) { try verify() }
    }

    func testPayloadTypeAlteredAndSignedOverIsStillRefused() throws {
        // Even a signature whose PAE covers a different payload type is refused.
        let statement = try statementJSON(sigPath)
        let payload = try JSONSerialization.data(withJSONObject: statement)
        try writeSignedStatement([UInt8](payload), key: key, to: sigPath, payloadType: "text/plain")
        try mutateEnvelope { $0["payloadType"] = "text/plain" }
        XCTAssertThrowsSigningError(.unsupportedPayloadType("text/plain")) { try verify() }
    }

    func testMediaTypeAltered() throws {
        try mutateBundle { $0["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.2+json" }
        XCTAssertThrowsSigningError(.unsupportedMediaType("application/vnd.dev.sigstore.bundle.v0.2+json")) { try verify() }
    }

    func testNoSignatures() throws {
        try mutateEnvelope { $0["signatures"] = [Any]() }
        XCTAssertThrowsSigningError(.noSignatures) { try verify() }
    }

    func testCertificateMaterialRefused() throws {
        try mutateBundle { $0["verificationMaterial"] = ["certificate": ["rawBytes": "AAAA"], "tlogEntries": [Any]()] }
        XCTAssertThrowsSigningError({ try verify() }) {
            if case .unsupportedVerificationMaterial = $0 { return true }
            return false
        }
    }

    func testUnknownBundleFieldRefused() throws {
        try mutateBundle { $0["extra"] = 1 }
        XCTAssertThrowsSigningError(.malformedBundle("the bundle has an unexpected field 'extra'")) { try verify() }
    }

    // MARK: validly signed but wrong statements

    func testWrongPredicateType() throws {
        try resignStatement { $0["predicateType"] = "https://model_signing/Digests/v0.1" }
        XCTAssertThrowsSigningError(.unsupportedPredicateType("https://model_signing/Digests/v0.1")) { try verify() }
    }

    func testWrongStatementType() throws {
        try resignStatement { $0["_type"] = "https://in-toto.io/Statement/v0.1" }
        XCTAssertThrowsSigningError(.unsupportedStatementType("https://in-toto.io/Statement/v0.1")) { try verify() }
    }

    func testRootDigestAltered() throws {
        let zero = String(repeating: "0", count: 64)
        let real = try ModelVerifier.verify(directory: model, trustedKeys: [key.verifyingKey]).rootDigest
        try resignStatement { $0["subject"] = [["name": "m", "digest": ["sha256": zero]]] }
        XCTAssertThrowsSigningError(.rootDigestMismatch(signed: zero, computed: real)) { try verify() }
    }

    func testResourceDigestAlteredBreaksTheRoot() throws {
        try resignStatement { statement in
            var predicate = statement["predicate"] as? [String: Any] ?? [:]
            var resources = predicate["resources"] as? [[String: Any]] ?? []
            resources[0]["digest"] = String(repeating: "1", count: 64)
            predicate["resources"] = resources
            statement["predicate"] = predicate
        }
        XCTAssertThrowsSigningError({ try verify() }) {
            if case .rootDigestMismatch = $0 { return true }
            return false
        }
    }

    func testShardSerializationUnsupported() throws {
        try resignStatement { statement in
            var predicate = statement["predicate"] as? [String: Any] ?? [:]
            predicate["serialization"] = ["method": "shards", "hash_type": "sha256", "shard_size": 1_000_000, "allow_symlinks": false]
            statement["predicate"] = predicate
        }
        XCTAssertThrowsSigningError(.unsupportedSerialization("method 'shards' (only 'files' is supported)")) { try verify() }
    }

    func testBlake3Unsupported() throws {
        try resignStatement { statement in
            var predicate = statement["predicate"] as? [String: Any] ?? [:]
            predicate["serialization"] = ["method": "files", "hash_type": "blake3", "allow_symlinks": false]
            statement["predicate"] = predicate
        }
        XCTAssertThrowsSigningError(.unsupportedSerialization("hash_type 'blake3' (only 'sha256' is supported)")) { try verify() }
    }

    func testNonCanonicalResourceNameRefused() throws {
        try resignStatement { statement in
            var predicate = statement["predicate"] as? [String: Any] ?? [:]
            var resources = predicate["resources"] as? [[String: Any]] ?? []
            resources[0]["name"] = "../escape"
            predicate["resources"] = resources
            statement["predicate"] = predicate
        }
        XCTAssertThrowsSigningError(.malformedStatement("predicate.resources[0].name '../escape' is not a canonical relative POSIX path")) {
            try verify()
        }
    }

    func testStatementIgnoringEverythingRefused() throws {
        try resignStatement { statement in
            var predicate = statement["predicate"] as? [String: Any] ?? [:]
            predicate["serialization"] = ["method": "files", "hash_type": "sha256", "allow_symlinks": false, "ignore_paths": ["."]]
            statement["predicate"] = predicate
        }
        XCTAssertThrowsSigningError({ try verify() }) {
            if case .malformedStatement(let m) = $0 { return m.contains("ignore_paths[0]") }
            return false
        }
    }

    func testSignedStatementWithFewerFilesDetectsExtras() throws {
        // A validly signed statement that omits a file: the extra file on disk is reported.
        try resignStatement { statement in
            var predicate = statement["predicate"] as? [String: Any] ?? [:]
            var resources = predicate["resources"] as? [[String: Any]] ?? []
            resources.removeAll { $0["name"] as? String == "README.md" }
            predicate["resources"] = resources
            statement["predicate"] = predicate
            var digests = Data()
            for resource in resources {
                digests.append(contentsOf: parseHex(resource["digest"] as? String ?? "", byteCount: 32) ?? [])
            }
            statement["subject"] = [["name": "m", "digest": ["sha256": hexDigest(bytes: [UInt8](digests))]]]
        }
        XCTAssertThrowsSigningError(.manifestMismatch([.unexpected(path: "README.md")])) { try verify() }
    }

    // MARK: hostile signature files

    func testMissingSignatureFile() throws {
        try FileManager.default.removeItem(atPath: sigPath)
        XCTAssertThrowsSigningError(.signatureFileMissing(path: sigPath)) { try verify() }
    }

    func testTruncatedSignatureFile() throws {
        let bytes = try readBytes(sigPath)
        for length in [0, 1, bytes.count / 3, bytes.count / 2, bytes.count - 1] {
            try write(sigPath, Data(bytes.prefix(length)))
            XCTAssertThrowsSigningError({ try verify() }) {
                if case .malformedBundle = $0 { return true }
                return false
            }
        }
    }

    func testGarbageSignatureFile() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let garbage = (0..<Int.random(in: 1...4096, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try write(sigPath, Data(garbage))
            XCTAssertThrowsSigningError({ try verify() }) {
                if case .malformedBundle = $0 { return true }
                return false
            }
        }
    }

    func testNonUTF8SignatureFile() throws {
        var bytes = try readBytes(sigPath)
        bytes.insert(0xFF, at: 10)
        try write(sigPath, Data(bytes))
        XCTAssertThrowsSigningError({ try verify() }) {
            if case .malformedBundle(let m) = $0 { return m.contains("UTF-8") }
            return false
        }
    }

    func testOversizedSignatureFile() throws {
        // A sparse 100 MB file: refused from its size, never read.
        let fd = open(sigPath, O_WRONLY | O_TRUNC)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(ftruncate(fd, 100_000_000), 0)
        close(fd)
        XCTAssertThrowsSigningError(.signatureFileTooLarge(path: sigPath, size: 100_000_000, limit: 16 * 1024 * 1024)) {
            try verify()
        }
    }

    func testDeeplyNestedSignatureFile() throws {
        let depth = 100_000
        let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        try write(sigPath, nested)
        XCTAssertThrowsSigningError({ try verify() }) {
            if case .malformedBundle(let m) = $0 { return m.contains("nesting") }
            return false
        }
        try write(sigPath, "{\"mediaType\":" + String(repeating: "{\"a\":", count: depth))
        XCTAssertThrowsSigningError({ try verify() }) {
            if case .malformedBundle = $0 { return true }
            return false
        }
    }

    func testBadBase64() throws {
        for bad in ["not base64!", "abc", "ab==cd==", "YWJj\nZGVm", "YWJjZA", "-_-_"] {
            try mutateEnvelope { $0["payload"] = bad }
            XCTAssertThrowsSigningError(.malformedBundle("dsseEnvelope.payload is not valid base64")) { try verify() }
        }
    }

    func testWrongTypes() throws {
        try mutateEnvelope { $0["payload"] = 42 }
        XCTAssertThrowsSigningError(.malformedBundle("dsseEnvelope.payload must be a string, found a number")) { try verify() }
        try mutateEnvelope { $0["payload"] = "e30=" ; $0["signatures"] = "sig" }
        XCTAssertThrowsSigningError(.malformedBundle("dsseEnvelope.signatures must be an array")) { try verify() }
        try mutateEnvelope { $0["signatures"] = [["sig": [1, 2]]] }
        XCTAssertThrowsSigningError(.malformedBundle("dsseEnvelope.signatures[0].sig must be a string, found an array")) { try verify() }
        try write(sigPath, "[]")
        XCTAssertThrowsSigningError(.malformedBundle("the bundle must be an object, found an array")) { try verify() }
        try write(sigPath, "null")
        XCTAssertThrowsSigningError(.malformedBundle("the bundle must be an object, found null")) { try verify() }
    }

    func testDuplicateKeysRefused() throws {
        var text = String(decoding: try readBytes(sigPath), as: UTF8.self)
        text = String(text.dropLast()) + ",\"mediaType\":\"x\"}"
        try write(sigPath, text)
        XCTAssertThrowsSigningError({ try verify() }) {
            if case .malformedBundle(let m) = $0 { return m.contains("duplicate object key") }
            return false
        }
    }

    func testSignatureFileIsAFIFO() throws {
        try FileManager.default.removeItem(atPath: sigPath)
        guard mkfifo(sigPath, 0o600) == 0 else { throw XCTSkip("mkfifo unavailable") }
        XCTAssertThrowsSigningError(.io(path: sigPath, reason: "the signature is a FIFO, not a regular file")) { try verify() }
    }

    func testRandomMutationsNeverCrash() throws {
        let original = try readBytes(sigPath)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var accepted = 0
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + next() % 3) {
                let index = next() % bytes.count
                switch next() % 3 {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: next())
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8(truncatingIfNeeded: next()), at: index)
                }
            }
            try write(sigPath, Data(bytes))
            do {
                // A mutation may be harmless (e.g. only base64 padding bits); it must never crash.
                let verified = try verify()
                XCTAssertEqual(verified.files.count, sampleFiles.count)
                accepted += 1
            } catch is SigningError {
            }
        }
        XCTAssertLessThan(accepted, 30)
    }

    func testNoTrustedKeys() throws {
        XCTAssertThrowsSigningError(.noTrustedKeys) { try verify([]) }
    }
}

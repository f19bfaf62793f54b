import Foundation
import RampartSigning
import XCTest

@testable import RampartSanitizerCore

/// The artifact is signed; loading fails closed on any mismatch.
final class InjectionArtifactTests: XCTestCase {
    private func load(_ directory: URL, key: String = InjectionModelKey.publicKeyPEM) throws -> InjectionDetector {
        try InjectionDetector(artifactDirectory: directory, publicKeyPEM: key)
    }

    private func assertRefused(
        _ directory: URL, key: String = InjectionModelKey.publicKeyPEM, file: StaticString = #filePath, line: UInt = #line,
        _ check: (InjectionDetectorError) -> Bool
    ) {
        XCTAssertThrowsError(try load(directory, key: key), file: file, line: line) { error in
            guard let error = error as? InjectionDetectorError else {
                return XCTFail("unexpected error type \(error)", file: file, line: line)
            }
            XCTAssertTrue(check(error), "unexpected error \(error)", file: file, line: line)
        }
    }

    func testCommittedArtifactVerifiesAndLoads() throws {
        let detector = try load(InjectionTestSupport.artifactDirectory)
        XCTAssertEqual(detector.artifactDigest.count, 64)
        XCTAssertGreaterThan(detector.thresholds.fpr01Percent, detector.thresholds.fpr1Percent - 1e-12)
        XCTAssertFalse(detector.rules.isEmpty)
    }

    func testTamperedWeightByteIsRefused() throws {
        let copy = try InjectionTestSupport.copyOfArtifact()
        let weights = copy.appendingPathComponent("weights.f32")
        var bytes = try Data(contentsOf: weights)
        bytes[1000] ^= 0x01
        try bytes.write(to: weights)
        assertRefused(copy) {
            if case .signatureInvalid(.manifestMismatch) = $0 { return true }
            return false
        }
    }

    func testTamperedRuleFileIsRefused() throws {
        let copy = try InjectionTestSupport.copyOfArtifact()
        let rules = copy.appendingPathComponent("rules.json")
        var text = try String(contentsOf: rules, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"weight\": 3.0", with: "\"weight\": 0.0")
        try text.write(to: rules, atomically: true, encoding: .utf8)
        assertRefused(copy) {
            if case .signatureInvalid = $0 { return true }
            return false
        }
    }

    func testMissingSignatureIsRefused() throws {
        let copy = try InjectionTestSupport.copyOfArtifact()
        try FileManager.default.removeItem(at: copy.appendingPathComponent("model.sig"))
        assertRefused(copy) {
            if case .signatureInvalid = $0 { return true }
            return false
        }
    }

    func testExtraFileIsRefused() throws {
        let copy = try InjectionTestSupport.copyOfArtifact()
        try Data("x".utf8).write(to: copy.appendingPathComponent("extra.bin"))
        assertRefused(copy) {
            if case .signatureInvalid(.manifestMismatch) = $0 { return true }
            return false
        }
    }

    func testSignatureByAnotherKeyIsRefused() throws {
        let other = try SigningKey.generate(curve: .p256)
        assertRefused(InjectionTestSupport.artifactDirectory, key: other.verifyingKey.pemRepresentation) {
            if case .signatureInvalid = $0 { return true }
            return false
        }
    }

    func testReSignedTamperedArtifactIsRefusedUnderTheShippedKey() throws {
        // An attacker who edits the weights and re-signs with their own key still fails.
        let copy = try InjectionTestSupport.copyOfArtifact()
        let weights = copy.appendingPathComponent("weights.f32")
        var bytes = try Data(contentsOf: weights)
        bytes[4] ^= 0x40
        try bytes.write(to: weights)
        let attacker = try SigningKey.generate(curve: .p256)
        try ModelSigner.sign(directory: copy.path, key: attacker).write(to: copy.appendingPathComponent("model.sig").path)
        assertRefused(copy) {
            if case .signatureInvalid = $0 { return true }
            return false
        }
        // ... and loads under the attacker's key (the check is the key, not the bytes).
        XCTAssertNoThrow(try load(copy, key: attacker.verifyingKey.pemRepresentation))
    }

    func testGarbagePublicKeyIsRefused() {
        assertRefused(InjectionTestSupport.artifactDirectory, key: "not a key") {
            if case .invalidPublicKey = $0 { return true }
            return false
        }
    }

    func testMissingDirectoryIsRefused() {
        assertRefused(URL(fileURLWithPath: "/nonexistent/injection-model")) {
            if case .signatureInvalid = $0 { return true }
            return false
        }
    }

    func testCompiledInKeyMatchesCommittedPublicKeyFile() throws {
        let file = InjectionTestSupport.repositoryRoot.appendingPathComponent("Plugins/Sanitizer/injection-model.pub")
        let committed = try VerifyingKey(pemFile: file.path)
        let compiled = try VerifyingKey(pemRepresentation: InjectionModelKey.publicKeyPEM)
        XCTAssertEqual(committed.hint, compiled.hint)
    }

    func testBundledArtifactLoadsWithLoadDefaultWhenPresent() throws {
        guard InjectionDetector.bundledArtifactDirectory != nil else {
            throw XCTSkip("the SwiftPM resource bundle is not next to the test executable")
        }
        let detector = try InjectionDetector.loadDefault()
        XCTAssertEqual(detector.artifactDigest, try load(InjectionTestSupport.artifactDirectory).artifactDigest)
    }

    /// Edits config.json of a copy, re-signs it with a throwaway key and loads it under that key:
    /// the signature verifies, so only the loader's own checks can refuse it.
    private func reSignedCopy(editing config: (inout [String: Any]) -> Void) throws -> (URL, String) {
        try InjectionTestSupport.reSignedCopy(editing: config)
    }

    private func isMalformedConfig(_ error: InjectionDetectorError) -> Bool {
        if case .malformedArtifact(file: "config.json", _) = error { return true }
        return false
    }

    func testCommittedArtifactIsTheHiddenLayerModel() throws {
        let artifact = try InjectionArtifact(directory: InjectionTestSupport.artifactDirectory, publicKeyPEM: InjectionModelKey.publicKeyPEM)
        XCTAssertEqual(artifact.config.weights.row, HashedModel.hiddenRow)
        XCTAssertEqual(artifact.config.weights.hiddenBias.count, HashedModel.hiddenRow - 1)
        XCTAssertEqual(artifact.config.weights.hiddenOut.count, HashedModel.hiddenRow - 1)
        XCTAssertEqual(artifact.weights.count, HashedModel.hiddenRow << artifact.config.weights.bucketsLog2)
        XCTAssertEqual(artifact.config.features.shape, "v5")
    }

    func testSignedConfigWithAMissingHiddenUnitIsRefused() throws {
        let (copy, key) = try reSignedCopy { json in
            var weights = json["weights"] as? [String: Any] ?? [:]
            weights["hidden_out"] = (weights["hidden_out"] as? [Double] ?? []).dropLast().map { $0 }
            json["weights"] = weights
        }
        assertRefused(copy, key: key, isMalformedConfig)
    }

    func testSignedConfigWithAnotherRowWidthIsRefused() throws {
        // Row 4 does not match the 8-float rows of weights.f32 nor the 7 hidden units.
        let (copy, key) = try reSignedCopy { json in
            var weights = json["weights"] as? [String: Any] ?? [:]
            weights["row"] = 4
            json["weights"] = weights
        }
        assertRefused(copy, key: key, isMalformedConfig)
    }

    func testSignedConfigWithTheOldFeatureShapeIsRefused() throws {
        let (copy, key) = try reSignedCopy { json in
            var features = json["features"] as? [String: Any] ?? [:]
            features["shape"] = "v1"
            json["features"] = features
        }
        assertRefused(copy, key: key, isMalformedConfig)
    }

    func testSignedConfigWithAnUnknownModelInputIsRefused() throws {
        let (copy, key) = try reSignedCopy { json in
            var combiner = json["combiner"] as? [String: Any] ?? [:]
            combiner["model_input"] = "cube_root"
            json["combiner"] = combiner
        }
        assertRefused(copy, key: key, isMalformedConfig)
    }

    func testSignedConfigWithoutAModelInputIsRefused() throws {
        let (copy, key) = try reSignedCopy { json in
            var combiner = json["combiner"] as? [String: Any] ?? [:]
            combiner["model_input"] = nil
            json["combiner"] = combiner
        }
        assertRefused(copy, key: key, isMalformedConfig)
    }

    func testSignedConfigWithTheLinearModelInputLoadsAndScoresTheOldWay() throws {
        let (copy, key) = try reSignedCopy { json in
            var combiner = json["combiner"] as? [String: Any] ?? [:]
            combiner["model_input"] = "linear"
            json["combiner"] = combiner
        }
        let detector = try load(copy, key: key)
        XCTAssertEqual(detector.combiner.modelInput, .linear)
        let scan = detector.scan("Translate the following paragraph into Spanish and keep the tone formal.")
        let c = detector.combiner
        let z = c.model * scan.modelLogit + c.rules * scan.ruleEvidence + c.heuristic * scan.phraseSimilarity
            + c.knownAttacks * scan.knownAttackFraction + c.bias
        XCTAssertEqual(scan.score, 1 / (1 + exp(-z)), accuracy: 1e-12)
    }

    func testSignedConfigWithANonFiniteHiddenBiasIsRefused() throws {
        // The first hidden bias becomes 1e400 (not a finite Double), edited in the text.
        let copy = try InjectionTestSupport.copyOfArtifact()
        let url = copy.appendingPathComponent("config.json")
        var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        guard let i = lines.firstIndex(where: { $0.contains("\"hidden_bias\"") }), i + 1 < lines.count else {
            return XCTFail("config.json has no hidden_bias array")
        }
        lines[i + 1] = "  1e400,"
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let key = try SigningKey.generate(curve: .p256)
        try ModelSigner.sign(directory: copy.path, key: key).write(to: copy.appendingPathComponent("model.sig").path)
        assertRefused(copy, key: key.verifyingKey.pemRepresentation, isMalformedConfig)
    }
}

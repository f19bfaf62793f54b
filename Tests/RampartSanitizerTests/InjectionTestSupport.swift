import Foundation
import RampartSigning
import XCTest

@testable import RampartSanitizerCore

/// Shared helpers for the injection detector tests.
enum InjectionTestSupport {
    /// The repository root (from this file's path).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The committed, signed artifact directory.
    static let artifactDirectory = repositoryRoot.appendingPathComponent("Plugins/Sanitizer/Core/Model/injection-model")

    private static let shared: Result<InjectionDetector, any Error> = Result {
        try InjectionDetector(artifactDirectory: artifactDirectory, publicKeyPEM: InjectionModelKey.publicKeyPEM)
    }

    /// One detector for all tests (loading verifies the signature and compiles the rules).
    static func detector() throws -> InjectionDetector { try shared.get() }

    /// `text` as invisible Unicode tag characters (ASCII smuggling).
    static func tagSmuggled(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.compactMap { Unicode.Scalar(0xE0000 + $0.value) }))
    }

    /// A copy of the artifact directory in a fresh temporary directory.
    static func copyOfArtifact() throws -> URL {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rampart-injection-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let copy = base.appendingPathComponent("injection-model")
        try FileManager.default.copyItem(at: artifactDirectory, to: copy)
        return copy
    }

    /// A copy of the artifact with config.json edited (as JSON) and, optionally, one other file's
    /// bytes replaced, re-signed with a throwaway key: returns the copy and that key's PEM. The
    /// signature verifies under that key, so only the loader's own checks can refuse the copy.
    static func reSignedCopy(
        editing config: (inout [String: Any]) -> Void, file: String? = nil, bytes: ((Data) -> Data)? = nil
    ) throws -> (URL, String) {
        let copy = try copyOfArtifact()
        let url = copy.appendingPathComponent("config.json")
        guard var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw XCTSkip("config.json is not an object")
        }
        config(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        if let file, let bytes {
            let target = copy.appendingPathComponent(file)
            try bytes(Data(contentsOf: target)).write(to: target)
        }
        let key = try SigningKey.generate(curve: .p256)
        try ModelSigner.sign(directory: copy.path, key: key).write(to: copy.appendingPathComponent("model.sig").path)
        return (copy, key.verifyingKey.pemRepresentation)
    }
}

/// A deterministic generator (SplitMix64) for the sanitizer's randomized tests, so failures
/// reproduce from the seed.
struct TestGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Asserts that a scan taken by a fast path equals the general path's scan of the same text
/// (every reported field; the fast path may scan fewer bytes, never more).
func assertSameScan(_ fast: InjectionScan, _ reference: InjectionScan, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
    let label = String(text.prefix(80))
    XCTAssertEqual(fast.score, reference.score, label, file: file, line: line)
    XCTAssertEqual(fast.matches, reference.matches, label, file: file, line: line)
    XCTAssertEqual(fast.modelLogit, reference.modelLogit, label, file: file, line: line)
    XCTAssertEqual(fast.ruleEvidence, reference.ruleEvidence, label, file: file, line: line)
    XCTAssertEqual(fast.phraseSimilarity, reference.phraseSimilarity, label, file: file, line: line)
    XCTAssertEqual(fast.knownAttackFraction, reference.knownAttackFraction, label, file: file, line: line)
    XCTAssertEqual(fast.decodedPayloads, reference.decodedPayloads, label, file: file, line: line)
    XCTAssertEqual(fast.modelFeatures, reference.modelFeatures, label, file: file, line: line)
    XCTAssertEqual(fast.tagCharacters, reference.tagCharacters, label, file: file, line: line)
    XCTAssertEqual(fast.invisibleCharacters, reference.invisibleCharacters, label, file: file, line: line)
    XCTAssertLessThanOrEqual(fast.scannedBytes, reference.scannedBytes, label, file: file, line: line)
}

import Foundation
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
}

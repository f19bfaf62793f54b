import Foundation
import RampartCore
import XCTest

@testable import RampartBuiltinModel

final class ArtifactTests: XCTestCase {
    func testPristineCopyLoads() throws {
        let copy = try ArtifactCopy()
        let model = try BuiltinModel.load(directory: copy.path)
        XCTAssertEqual(model.model, try loadModel().model)
    }

    func testFlippedByteIsADigestMismatch() throws {
        let copy = try ArtifactCopy()
        var weights = try copy.read("weights.bin")
        weights[weights.count / 2] ^= 0x01
        try copy.write("weights.bin", weights)
        assertLoadFails(copy.path) {
            if case .digestMismatch(let file, let expected, let actual) = $0 {
                return file == "weights.bin" && expected != actual && actual.count == 64
            }
            return false
        }
    }

    func testFlippedByteInTokenizerIsADigestMismatch() throws {
        let copy = try ArtifactCopy()
        var bytes = try copy.read("tokenizer.json")
        bytes[100] ^= 0x20
        try copy.write("tokenizer.json", bytes)
        assertLoadFails(copy.path) {
            if case .digestMismatch(file: "tokenizer.json", _, _) = $0 { return true }
            return false
        }
    }

    func testTruncatedWeightsIsASizeMismatch() throws {
        let copy = try ArtifactCopy()
        let weights = try copy.read("weights.bin")
        try copy.write("weights.bin", Array(weights.dropLast(10)))
        assertLoadFails(copy.path) {
            $0 == .sizeMismatch(file: "weights.bin", expected: weights.count, actual: weights.count - 10)
        }
    }

    func testTruncatedWeightsWithMatchingManifestIsAFormatError() throws {
        let copy = try ArtifactCopy()
        let weights = try copy.read("weights.bin")
        try copy.write("weights.bin", Array(weights.dropLast(10)))
        try copy.refreshManifest()
        assertLoadFails(copy.path) {
            if case .invalidWeights(let message) = $0 {
                return message.hasPrefix("weights.bin: truncated: depth 3 entry weights needs")
                    && message.hasSuffix("the file has \(weights.count - 10) bytes")
            }
            return false
        }
    }

    func testMissingFile() throws {
        let copy = try ArtifactCopy()
        try FileManager.default.removeItem(at: copy.file("tokenizer.json"))
        assertLoadFails(copy.path) { $0 == .missingFile("tokenizer.json") }
    }

    func testMissingManifest() throws {
        let copy = try ArtifactCopy()
        try FileManager.default.removeItem(at: copy.file("manifest.json"))
        assertLoadFails(copy.path) { $0 == .missingFile("manifest.json") }
    }

    func testExtraFile() throws {
        let copy = try ArtifactCopy()
        try copy.write("extra.txt", Array("surprise".utf8))
        assertLoadFails(copy.path) { $0 == .unexpectedFile("extra.txt") }
    }

    func testMissingDirectory() {
        assertLoadFails("/nonexistent/rampart-tiny") { $0 == .artifactNotFound(path: "/nonexistent/rampart-tiny") }
    }

    func testMalformedManifest() throws {
        let copy = try ArtifactCopy()
        try copy.write("manifest.json", Array("{\"format\": 3}".utf8))
        assertLoadFails(copy.path) {
            if case .invalidManifest = $0 { return true }
            return false
        }
    }

    func testManifestWithPathTraversal() throws {
        let copy = try ArtifactCopy()
        var manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: copy.file("manifest.json")))
        manifest.files[0].path = "../etc/passwd"
        try JSONEncoder().encode(manifest).write(to: copy.file("manifest.json"))
        assertLoadFails(copy.path) { $0 == .invalidManifest("bad file name \"../etc/passwd\"") }
    }

    func testInconsistentConfigIsRejected() throws {
        let copy = try ArtifactCopy()
        let config = String(decoding: try copy.read("config.json"), as: UTF8.self)
        try copy.write("config.json", Array(config.replacingOccurrences(of: "\"vocab_size\": 8192", with: "\"vocab_size\": 8000").utf8))
        try copy.refreshManifest()
        assertLoadFails(copy.path) {
            if case .invalidTokenizer(let message) = $0 { return message.contains("!= vocab_size 8000") }
            return false
        }
    }

    // MARK: - weights.bin parser

    func parse(_ bytes: [UInt8]) throws -> NGramModel {
        try NGramModel.parse(bytes, fileName: "weights.bin", expectedOrder: 4, expectedVocabularySize: 8192, neverGenerated: 1...5)
    }

    func bundledWeights() throws -> [UInt8] {
        let path = try XCTUnwrap(BuiltinModel.bundledArtifactPath)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path).appendingPathComponent("weights.bin")))
    }

    func testEveryTruncationIsATypedError() throws {
        let weights = try bundledWeights()
        var lengths = Array(0..<80) + [weights.count - 1, weights.count - 2, 32_800, 32_812]
        var rng = Xoshiro256StarStar(seed: 1)
        for _ in 0..<60 { lengths.append(Int(rng.next() % UInt64(weights.count))) }
        for length in lengths {
            XCTAssertThrowsError(try parse(Array(weights.prefix(length))), "length \(length)") { error in
                guard case .invalidWeights(let message) = error as? BuiltinModelError else {
                    return XCTFail("unexpected \(error)")
                }
                XCTAssertTrue(message.contains("truncated"), message)
            }
        }
    }

    func testTrailingBytesAndHeaderCorruption() throws {
        let weights = try bundledWeights()
        func expectError(_ bytes: [UInt8], _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try parse(bytes), line: line) { error in
                guard case .invalidWeights(let message) = error as? BuiltinModelError else {
                    return XCTFail("unexpected \(error)", line: line)
                }
                XCTAssertTrue(message.contains(fragment), message, line: line)
            }
        }
        expectError(weights + [0], "1 unexpected trailing bytes")
        var bad = weights
        bad[0] = 0x58
        expectError(bad, "bad magic")
        bad = weights
        bad[8] = 9
        expectError(bad, "format version 9")
        bad = weights
        bad[12] = 3
        expectError(bad, "order 3, config.json says 4")
        bad = weights
        bad[50] = 0x7F  // the entry count of the deepest level grows by millions
        expectError(bad, "truncated")
        bad = weights
        bad[52 + 4 * 300 + 3] = 0x7F  // a unigram probability becomes NaN
        expectError(bad, "unigram probability of token 300")
    }

    func testRandomByteFlipsNeverCrash() throws {
        let weights = try bundledWeights()
        var rng = Xoshiro256StarStar(seed: 99)
        var failures = 0
        for _ in 0..<25 {
            var bytes = weights
            let position = Int(rng.next() % UInt64(bytes.count))
            bytes[position] ^= UInt8(1 + rng.next() % 255)
            do {
                _ = try parse(bytes)
            } catch let error as BuiltinModelError {
                guard case .invalidWeights = error else { return XCTFail("unexpected \(error)") }
                failures += 1
            }
        }
        // Most flips hit quantised weights, which stay valid; some must be caught.
        print("random flips rejected: \(failures)/25")
    }

    func testReservedTokensMustHaveZeroProbability() throws {
        var weights = try bundledWeights()
        // unigram[1] (<system>) gets probability 2^-126 > 0
        let offset = 52 + 4 * 1
        weights[offset + 2] = 0x80
        XCTAssertThrowsError(try parse(weights)) { error in
            XCTAssertEqual(error as? BuiltinModelError, .invalidWeights("weights.bin: unigram probability of reserved token 1 is 1.1754944e-38, expected 0"))
        }
    }
}

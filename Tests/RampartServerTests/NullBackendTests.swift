import RampartCore
import XCTest

/// The null backend's fast piece count (16 bytes at a time) against its own piece splitter.
final class NullBackendTests: XCTestCase {
    /// What the slow path reports: with max_tokens 0 every piece is split out and counted.
    private func splitCount(_ text: String) throws -> Int {
        let request = GenerationRequest(input: .raw(text), sampling: SamplingOptions(maxTokens: 0))
        return try NullBackend().generate(request) { _ in true }.promptTokens
    }

    func testFastCountAgreesWithTheSplitterOnEdgeCases() throws {
        let cases = ["", " ", "a", "a b", " a", "a ", "  a  b  ", "abcdefg h", "abcdefgh ijklmnop",
                     String(repeating: " ", count: 17), String(repeating: "x ", count: 40), "日本 語 テキスト  é",
                     "1234567 9", "1234567  9abcdef ghi"]
        for text in cases {
            XCTAssertEqual(NullBackend().countPromptTokens(.raw(text)), try splitCount(text), "\"\(text)\"")
        }
    }

    func testFastCountAgreesWithTheSplitterOnRandomText() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = [" ", " ", "a", "b", "é", "\t", "x"]
        for round in 0..<300 {
            // Mostly short texts (the scalar tail), some longer than the 255-vector lane flush.
            let length = round % 20 == 0 ? Int.random(in: 4_000...9_000, using: &generator) : Int.random(in: 0...70, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator) ?? " " })
            XCTAssertEqual(NullBackend().countPromptTokens(.raw(text)), try splitCount(text), "\"\(text)\"")
        }
    }
}

final class RequestIDGeneratorTests: XCTestCase {
    func testIDsAreThePrefixAndTheCounterInNineBase32Digits() throws {
        let ids = RequestIDGenerator()
        let first = ids.next()
        XCTAssertEqual(first.utf8.count, 15, first)
        XCTAssertTrue(first.hasPrefix("r"))
        let prefix = String(first.prefix(6))
        XCTAssertEqual(first, prefix + "000000001")
        // 0x1234 = 4660 = 4·32² + 17·32 + 20: "0000004hk" in base 32 (0-9a-v).
        for _ in 2..<0x1234 { _ = ids.next() }
        let later = ids.next()
        XCTAssertEqual(later, prefix + "0000004hk")
        XCTAssertTrue(later.utf8.dropFirst().allSatisfy { (0x30...0x39).contains($0) || (0x61...0x76).contains($0) }, later)
        XCTAssertNotEqual(String(RequestIDGenerator().next().prefix(6)), prefix, "a fresh random prefix (1 in 2^25 to collide)")
    }

    func testIDsAreUniqueAcrossDigitCarries() {
        let ids = RequestIDGenerator()
        var seen = Set<String>()
        for _ in 0..<40_000 { seen.insert(ids.next()) }
        XCTAssertEqual(seen.count, 40_000, "ids repeat")
    }
}

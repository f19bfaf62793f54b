import Foundation
import RampartCore
import XCTest

@testable import RampartBuiltinModel

final class TokenizerTests: XCTestCase {
    func assertRoundTrip(_ text: String, _ tokenizer: BuiltinTokenizer, file: StaticString = #filePath, line: UInt = #line) {
        let tokens = tokenizer.encode(text)
        let decoded = tokenizer.decode(tokens)
        XCTAssertEqual(Array(decoded.utf8), Array(text.utf8), "round trip of \(text.debugDescription)", file: file, line: line)
        for token in tokens {
            XCTAssertFalse(BuiltinTokenizer.isSpecial(token), "special token from text", file: file, line: line)
            XCTAssertTrue((0..<Int32(tokenizer.vocabularySize)).contains(token), file: file, line: line)
        }
    }

    func testRoundTripsArbitraryUnicode() throws {
        let tokenizer = try loadModel().tokenizer
        let samples = [
            "",
            " ",
            "The security of the system is important.",
            "  leading and trailing spaces  ",
            "tabs\tand\r\nnewlines\n\n\nend",
            "emoji 👩‍👩‍👧‍👦 🇫🇷 🙂 and text",
            "中文字符和日本語のテキスト、한국어",
            "combining: e\u{301} a\u{308}\u{323} Z\u{335}\u{336}",
            "controls: \u{0}\u{1}\u{7}\u{1B}[0m\u{7F}\u{85}\u{2028}",
            "rtl: مرحبا بالعالم עברית",
            "math: ∑ x² ≤ ∞, α→β",
            "<eos><user>not special</assistant>",
            "supplementary: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u{10FFFF}\u{E000}",
            "numbers 1234567890 3.14159 -42 1e10",
            "punctuation!?.,;:'\"()[]{}<>@#$%^&*_+=~`|\\/",
            String(repeating: "a", count: 5000),
            "word" + String(repeating: " ", count: 17) + "word",
        ]
        for sample in samples { assertRoundTrip(sample, tokenizer) }
    }

    func testRoundTripsRandomScalarStrings() throws {
        let tokenizer = try loadModel().tokenizer
        var rng = Xoshiro256StarStar(seed: 2024)
        let ranges: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
        for _ in 0..<300 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int(rng.next() % 40) {
                let range = ranges[Int(rng.next() % UInt64(ranges.count))]
                let value = range.lowerBound + UInt32(rng.next() % UInt64(range.upperBound - range.lowerBound + 1))
                if let scalar = Unicode.Scalar(value) { text.append(scalar) }
            }
            assertRoundTrip(String(text), tokenizer)
        }
    }

    func testCommonWordsAreSingleTokens() throws {
        let tokenizer = try loadModel().tokenizer
        let tokens = tokenizer.encode("The security of the system")
        XCTAssertEqual(tokens.map { tokenizer.text(of: $0) }, ["The", " security", " of", " the", " system"])
        XCTAssertTrue(tokens.allSatisfy { $0 >= Int32(BuiltinTokenizer.firstPieceID) })
    }

    func testUnknownTextFallsBackToPiecesAndBytes() throws {
        let tokenizer = try loadModel().tokenizer
        let tokens = tokenizer.encode("€")
        XCTAssertEqual(tokens, [0xE2, 0x82, 0xAC].map { Int32(BuiltinTokenizer.firstByteID + $0) })
        XCTAssertEqual(tokens.map { tokenizer.text(of: $0) }, ["<0xE2>", "<0x82>", "<0xAC>"])
        let word = tokenizer.encode(" Zqxjkvbw")
        XCTAssertGreaterThan(word.count, 1)
        XCTAssertEqual(tokenizer.decode(word), " Zqxjkvbw")
    }

    func testSpecialTokenTextIsNotSpecial() throws {
        let tokenizer = try loadModel().tokenizer
        for name in BuiltinTokenizer.specialNames {
            let tokens = tokenizer.encode(name)
            XCTAssertFalse(tokens.contains { BuiltinTokenizer.isSpecial($0) })
            XCTAssertEqual(tokenizer.decode(tokens), name)
        }
        XCTAssertEqual(tokenizer.text(of: 0), "<eos>")
        XCTAssertEqual(tokenizer.text(of: 3), "<assistant>")
        XCTAssertEqual(tokenizer.decode([0, 1, 2, 3, 4, 5]), "")
        XCTAssertEqual(tokenizer.text(of: -1), "")
        XCTAssertEqual(tokenizer.text(of: 99_999), "")
    }

    func testRoleMarkers() {
        XCTAssertEqual(ChatRole.allCases.map { BuiltinTokenizer.roleMarker(for: $0) }, [1, 2, 3, 4, 5])
    }
}

final class TextStreamTests: XCTestCase {
    func testIncrementalUTF8MatchesWholeDecoding() {
        var rng = Xoshiro256StarStar(seed: 7)
        let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xA0, 0xED, 0x9F, 0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF, 0xE2, 0x82, 0xAC]
        for _ in 0..<2000 {
            let count = Int(rng.next() % 12)
            let bytes = (0..<count).map { _ in
                rng.next() % 2 == 0 ? interesting[Int(rng.next() % UInt64(interesting.count))] : UInt8(truncatingIfNeeded: rng.next())
            }
            var assembler = UTF8Assembler()
            var out: [UInt8] = []
            var index = 0
            while index < bytes.count {
                let step = 1 + Int(rng.next() % 3)
                assembler.push(bytes[index..<min(bytes.count, index + step)], into: &out)
                XCTAssertEqual(Array(String(decoding: out, as: UTF8.self).utf8), out, "output must stay valid UTF-8")
                index += step
            }
            assembler.flush(into: &out)
            XCTAssertEqual(out, Array(String(decoding: bytes, as: UTF8.self).utf8), "bytes \(bytes)")
        }
    }

    func testStopMatcherHoldsPossiblePrefixes() {
        var matcher = StopMatcher(["END", "", "xyz"])
        var out: [UInt8] = []
        XCTAssertFalse(matcher.push(Array("abc E".utf8), final: false, into: &out))
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "abc ")
        XCTAssertFalse(matcher.push(Array("N".utf8), final: false, into: &out))
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "abc ")
        XCTAssertTrue(matcher.push(Array("D and more".utf8), final: false, into: &out))
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "abc ")

        var other = StopMatcher(["END"])
        out = []
        XCTAssertFalse(other.push(Array("E".utf8), final: false, into: &out))
        XCTAssertFalse(other.push(Array("x".utf8), final: false, into: &out))
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "Ex")
        XCTAssertFalse(other.push(Array("EN".utf8), final: true, into: &out))
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "ExEN")

        var none = StopMatcher([])
        out = []
        XCTAssertFalse(none.push(Array("anything".utf8), final: false, into: &out))
        XCTAssertEqual(out.count, 8)
    }
}

final class SamplerTests: XCTestCase {
    /// Reference: sort by (logit desc, id asc).
    func ranked(_ logits: [Float]) -> [Int32] {
        logits.indices.map(Int32.init).sorted { logits[Int($0)] > logits[Int($1)] || (logits[Int($0)] == logits[Int($1)] && $0 < $1) }
    }

    func randomLogits(_ rng: inout Xoshiro256StarStar, count: Int) -> [Float] {
        // few distinct values, so that ties are common
        (0..<count).map { _ in Float(Int(rng.next() % 12)) * 0.5 - 3 }
    }

    func testSelectBestMatchesSorting() {
        var rng = Xoshiro256StarStar(seed: 5)
        for _ in 0..<300 {
            let count = 1 + Int(rng.next() % 60)
            let logits = randomLogits(&rng, count: count)
            let k = 1 + Int(rng.next() % UInt64(count))
            var candidates = (0..<count).map(Int32.init)
            logits.withUnsafeBufferPointer { l in
                candidates.withUnsafeMutableBufferPointer { Sampler.selectBest(k, of: count, $0, l) }
            }
            XCTAssertEqual(Set(candidates.prefix(k)), Set(ranked(logits).prefix(k)))
        }
    }

    func testSelectNucleusMatchesSorting() {
        var rng = Xoshiro256StarStar(seed: 6)
        for _ in 0..<300 {
            let count = 1 + Int(rng.next() % 60)
            let logits = randomLogits(&rng, count: count)
            let p = Double(rng.next() % 1000) / 1000 + 0.0005
            let maxLogit = logits.max() ?? 0
            var candidates = (0..<count).map(Int32.init)
            var weights = candidates.map { exp(logits[Int($0)] - maxLogit) }
            let total = weights.reduce(0.0) { $0 + Double($1) }
            // reference: smallest sorted prefix reaching p * total
            var expected = 0
            var cumulative = 0.0
            for id in ranked(logits) {
                cumulative += Double(exp(logits[Int(id)] - maxLogit))
                expected += 1
                if cumulative >= p * total { break }
            }
            let size = logits.withUnsafeBufferPointer { l in
                candidates.withUnsafeMutableBufferPointer { c in
                    weights.withUnsafeMutableBufferPointer { w in Sampler.selectNucleus(mass: p * total, of: count, c, w, l) }
                }
            }
            XCTAssertEqual(size, expected)
            XCTAssertEqual(Set(candidates.prefix(size)), Set(ranked(logits).prefix(expected)))
            for j in 0..<count { XCTAssertEqual(weights[j], exp(logits[Int(candidates[j])] - maxLogit)) }
        }
    }

    func testSeededGeneratorIsReproducible() {
        var a = Xoshiro256StarStar(seed: 123)
        var b = Xoshiro256StarStar(seed: 123)
        var c = Xoshiro256StarStar(seed: 124)
        let first = (0..<8).map { _ in a.next() }
        XCTAssertEqual(first, (0..<8).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<8).map { _ in c.next() })
        for _ in 0..<1000 {
            let u = a.nextUnit()
            XCTAssertTrue(u >= 0 && u < 1)
        }
    }
}

import Foundation
import XCTest
@testable import RampartSanitizerCore

/// The gated pattern set must report exactly what one database over all expressions reports.
final class GatedPatternSetTests: XCTestCase {
    struct Match: Hashable, Comparable {
        let id: UInt32, from: Int, to: Int
        static func < (a: Match, b: Match) -> Bool { (a.id, a.from, a.to) < (b.id, b.from, b.to) }
    }

    static let specs: [PatternSpec] = (PIIRules.all + SecretRules.all).enumerated().map { index, rule in
        PatternSpec(rule.expression, id: UInt32(index), caseless: rule.caseless)
    }
    static let reference = Result { () throws(PatternError) in try PatternDatabase(specs) }
    static let gated = Result { () throws(PatternError) in try GatedPatternSet(specs) }

    func matches(_ text: [UInt8], reference: PatternDatabase) throws -> [Match] {
        var out: [Match] = []
        try text.withUnsafeBytes { raw in
            try reference.scan(raw) { id, from, to in
                out.append(Match(id: id, from: from, to: to))
                return true
            }
        }
        return out.sorted()
    }

    func matches(_ text: [UInt8], gated: GatedPatternSet) throws -> [Match] {
        var out: [Match] = []
        try text.withUnsafeBytes { raw in
            try gated.scan(raw) { id, from, to in
                out.append(Match(id: id, from: from, to: to))
                return true
            }
        }
        return out.sorted()
    }

    /// The gated set's packed matches (``GatedPatternSet/collect(_:into:)``), in report order.
    func collected(_ text: [UInt8], gated: GatedPatternSet, limit: Int = .max) throws -> PackedMatches {
        var out = PackedMatches(limit: limit)
        try text.withUnsafeBytes { raw in try gated.collect(raw, into: &out) }
        return out
    }

    /// The gated set's closure scan, packed, in report order.
    func packedScan(_ text: [UInt8], gated: GatedPatternSet) throws -> [UInt64] {
        var out: [UInt64] = []
        try text.withUnsafeBytes { raw in
            try gated.scan(raw) { id, from, to in
                out.append(PackedMatches.pack(id: id, from: from, to: to))
                return true
            }
        }
        return out
    }

    /// The gated scan equals one database over all expressions; its packed collection equals the
    /// gated scan value for value, in the same order.
    func assertSame(_ text: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try Self.reference.get(), gated = try Self.gated.get()
        let expected = try matches(text, reference: reference), actual = try matches(text, gated: gated)
        let label = "on \(String(decoding: text.prefix(200), as: UTF8.self))"
        XCTAssertEqual(actual, expected, label, file: file, line: line)
        let packed = try collected(text, gated: gated)
        XCTAssertFalse(packed.overflowed, label, file: file, line: line)
        XCTAssertEqual(packed.values, try packedScan(text, gated: gated), label, file: file, line: line)
    }

    /// A collection with a limit keeps exactly the first `limit` matches of the scan's order and
    /// says that it overflowed; one with room for all of them does not.
    func testCollectStopsAtItsLimit() throws {
        let gated = try Self.gated.get()
        let text = Array("mail a@example.com and b@example.com, call 415-555-0132 or 415-555-0133, card 4111 1111 1111 1111".utf8)
        let all = try packedScan(text, gated: gated)
        XCTAssertGreaterThan(all.count, 3)
        for limit in 0..<all.count {
            let packed = try collected(text, gated: gated, limit: limit)
            XCTAssertTrue(packed.overflowed, "limit \(limit)")
            XCTAssertEqual(packed.values, Array(all.prefix(limit)), "limit \(limit)")
        }
        let full = try collected(text, gated: gated, limit: all.count)
        XCTAssertFalse(full.overflowed)
        XCTAssertEqual(full.values, all)
    }

    /// A window's artificial edges: a database collecting one window drops the matches that start
    /// at its first byte or end at its last (unless those are the input's own edges), and reports
    /// offsets in the whole input.
    func testCollectWindowDropsEdgeMatchesAndShiftsOffsets() throws {
        let database = try PatternDatabase([PatternSpec("[0-9]+", id: 7)])
        let text = Array("ab 123 cd 4567 ef".utf8)
        func collect(_ window: Range<Int>?) throws -> [UInt64] {
            var out = PackedMatches(limit: 100)
            try text.withUnsafeBytes { raw in try database.collect(raw, window: window, into: &out) }
            return out.values.sorted()
        }
        func expected(_ ranges: [(Int, Int)]) -> [UInt64] {
            ranges.map { PackedMatches.pack(id: 7, from: $0.0, to: $0.1) }.sorted()
        }
        // Whole input: every end of every leftmost match ("[0-9]+" reports each prefix end).
        XCTAssertEqual(try collect(nil), expected([(3, 4), (3, 5), (3, 6), (10, 11), (10, 12), (10, 13), (10, 14)]))
        // A window starting inside "123" (at "2") drops what starts there; one ending inside
        // "4567" drops what ends there.
        XCTAssertEqual(try collect(4..<12), expected([(10, 11)]))
        // A window from the input's start to its end keeps its edge matches.
        XCTAssertEqual(try collect(0..<text.count), try collect(nil))
    }

    func testShapeReadsDigitsAndWordRuns() {
        XCTAssertTrue(PatternShape(#"\b[0-9]{11}\b"#).requiresDigit)
        XCTAssertTrue(PatternShape(#"\b[STFGM][0-9]{7}[A-Z]\b"#).requiresDigit)
        XCTAssertTrue(PatternShape(#"\b(bc1[02-9ac-hj-np-z]{25,87}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b"#).requiresDigit)
        XCTAssertTrue(PatternShape(#"(\+63|\b0)[ \-]?\(?9[0-9]{2}"#).requiresDigit)
        XCTAssertFalse(PatternShape(#"[0-9]?x"#).requiresDigit, "an optional digit is not required")
        XCTAssertFalse(PatternShape(#"a|[0-9]"#).requiresDigit, "one branch has no digit")
        XCTAssertFalse(PatternShape(#"x[0-9]{0,3}"#).requiresDigit, "zero repeats allowed")
        XCTAssertFalse(PatternShape(#"[0-9A]"#).requiresDigit, "a class with a letter")
        XCTAssertFalse(PatternShape(#"[^a-z]"#).requiresDigit, "negated classes are not analysed")
        XCTAssertFalse(PatternShape(#"(?i)[0-9]"#).requiresDigit, "(?…) is not analysed")
        XCTAssertFalse(PatternShape(#"[0-9"#).requiresDigit, "malformed")
        XCTAssertFalse(PatternShape(#"\x30"#).requiresDigit, "unknown escapes are not analysed")
        XCTAssertTrue(PatternShape(#"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z]\b"#).wordBytesOnly)
        XCTAssertFalse(PatternShape(#"\b[A-Z]{6}[ \-][0-9]"#).wordBytesOnly)
        XCTAssertFalse(PatternShape(#"\b[A-Z]{6}.\b"#).wordBytesOnly)
    }

    func testShapeCountsTheFewestDigits() {
        XCTAssertEqual(PatternShape(#"\b[0-9]{11}\b"#).minDigits, 11)
        XCTAssertEqual(PatternShape(#"\b[0-9]{3}-?[0-9]{2}-?[0-9]{4}\b"#).minDigits, 9)
        XCTAssertEqual(PatternShape(#"(\+63|\b0)[ \-]?\(?9[0-9]{2}"#).minDigits, 4, "the branch with fewest digits (0) + 9 + two")
        XCTAssertEqual(PatternShape(#"\b[0-9]([ \-]?[0-9]){12,18}\b"#).minDigits, 13)
        XCTAssertEqual(PatternShape(#"\b[A-Z]{2}[0-9]{2}([ \-]?[A-Z0-9]){11,30}\b"#).minDigits, 2, "[A-Z0-9] need not be a digit")
        XCTAssertEqual(PatternShape(#"\d{4}|x[0-9]"#).minDigits, 1)
        XCTAssertEqual(PatternShape(#"[0-9]{0,3}x"#).minDigits, 0)
        XCTAssertEqual(PatternShape(#"[^a-z]{5}"#).minDigits, 0, "not analysed")
        XCTAssertEqual(PatternShape(#"([0-9]{1000}){1000}"#).minDigits, 1 << 16, "capped, no overflow")
    }

    /// The runs kept for a group of `count` digits within `span` bytes are those from whose first
    /// digit `count` digits fit in `span` bytes (checked against counting digit by digit).
    func testRunsHoldingDigitsMatchACount() {
        var state: UInt64 = 7
        for _ in 0..<300 {
            var bytes: [UInt8] = []
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(state >> 33) % 200
            for _ in 0..<length {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(Int(state >> 33) % 6 == 0 ? UInt8(ascii: "5") : UInt8(ascii: "x"))
            }
            let runs = bytes.withUnsafeBytes { GatedPatternSet.digitRuns($0) }
            let digits = bytes.indices.filter { bytes[$0] == UInt8(ascii: "5") }
            for count in [1, 2, 3, 5, 9] {
                for span in [1, 4, 12, 30] {
                    let expected = runs.filter { run in
                        guard count > 1 else { return true }
                        guard let first = digits.firstIndex(of: run.lowerBound), first + count - 1 < digits.count else { return false }
                        return digits[first + count - 1] - run.lowerBound <= span - 1
                    }
                    XCTAssertEqual(GatedPatternSet.runs(runs, holding: count, within: span), expected, "count \(count) span \(span)")
                }
            }
        }
    }

    func testPlacement() throws {
        let gated = try Self.gated.get()
        let rules = PIIRules.all + SecretRules.all
        func placement(_ type: String) -> [GatedPatternSet.Placement] {
            rules.indices.filter { rules[$0].type == type }.map { gated.placements[$0] }
        }
        XCTAssertEqual(placement("IT_FISCAL_CODE"), [.wordRun])
        XCTAssertEqual(placement("SG_NRIC_FIN"), [.digitNarrow])
        XCTAssertEqual(placement("CRYPTO"), [.digitWide])
        XCTAssertEqual(placement("EMAIL_ADDRESS"), [.main])
        XCTAssertEqual(placement("HIGH_ENTROPY_SECRET"), [.classRun])
        // A class without vowels: gated on runs of eight.
        XCTAssertEqual(placement("DE_ID_CARD"), [.classRun])
        XCTAssertEqual(placement("DE_PASSPORT"), [.classRun])
        XCTAssertTrue(gated.placements.contains(.main) && gated.placements.contains(.digitNarrow))
    }

    func testDigitRunsMatchAScalarScan() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for length in [0, 1, 15, 16, 17, 31, 33, 100, 1000] {
            var bytes: [UInt8] = []
            for _ in 0..<length {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let r = Int(state >> 33) % 10
                bytes.append(r < 2 ? UInt8(0x30 + (state >> 40) % 10) : UInt8(ascii: "a") + UInt8((state >> 40) % 26))
            }
            var expected: [Range<Int>] = []
            var i = 0
            while i < bytes.count {
                guard bytes[i] >= 0x30 && bytes[i] <= 0x39 else { i += 1; continue }
                let start = i
                while i < bytes.count, bytes[i] >= 0x30 && bytes[i] <= 0x39 { i += 1 }
                expected.append(start..<i)
            }
            let runs = bytes.withUnsafeBytes { GatedPatternSet.digitRuns($0) }
            XCTAssertEqual(runs, expected, "length \(length)")
        }
    }

    /// A reproducible random text of up to `maxLength - 1` bytes: from `inside` mostly, from
    /// `outside` about one byte in `outsideShare` (an LCG, so failures replay).
    static func randomText(_ state: inout UInt64, maxLength: Int, inside: [UInt8], outside: [UInt8],
                           outsideShare: Int) -> [UInt8] {
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        return (0..<(next() % maxLength)).map { _ in
            let r = next()
            return r % outsideShare == 0 ? outside[(r >> 8) % outside.count] : inside[(r >> 8) % inside.count]
        }
    }

    /// The word-run gate's ends (found from aligned eight-byte blocks) are exactly those a plain
    /// byte-by-byte scan finds: every maximal run of `[A-Za-z0-9_]` at least `minimum` long, as
    /// the range of offsets where `minimum` word bytes end.
    func testWordRunEndsMatchAByteScan() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for round in 0..<600 {
            // Few separators in most rounds, so that long runs occur.
            let bytes = Self.randomText(&state, maxLength: 160, inside: Array("aZ09_".utf8), outside: Array(" -.é".utf8),
                                        outsideShare: round % 3 == 0 ? 2 : 24)
            let length = bytes.count
            for minimum in [1, 8, 15, 16, 17, 31] {
                var expected: [Range<Int>] = []
                var i = 0
                while i < bytes.count {
                    guard GatedPatternSet.isWordByte(bytes[i]) else { i += 1; continue }
                    let start = i
                    while i < bytes.count, GatedPatternSet.isWordByte(bytes[i]) { i += 1 }
                    if i - start >= minimum { expected.append((start + minimum)..<i) }
                }
                let ends = bytes.withUnsafeBytes { GatedPatternSet.wordRunEnds($0, minimum: minimum) }
                XCTAssertEqual(ends, expected, "length \(length) minimum \(minimum)")
            }
        }
        XCTAssertTrue(GatedPatternSet.isWordByte(UInt8(ascii: "_")) && GatedPatternSet.isWordByte(UInt8(ascii: "Q")))
        XCTAssertFalse(GatedPatternSet.isWordByte(UInt8(ascii: "@")) || GatedPatternSet.isWordByte(UInt8(ascii: "[")))
        XCTAssertFalse(GatedPatternSet.isWordByte(UInt8(ascii: "`")) || GatedPatternSet.isWordByte(UInt8(ascii: "{")))
        XCTAssertFalse(GatedPatternSet.isWordByte(0xC3) || GatedPatternSet.isWordByte(0x80))
    }

    func testShapeReadsRequiredClassRuns() {
        let quoted = PatternShape(#"["'][A-Za-z0-9+/=_\-]{32,256}["']"#)
        XCTAssertEqual(quoted.requiredRun?.minimum, 32)
        XCTAssertEqual(quoted.requiredRun?.members, Array("+-/0123456789=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz".utf8))
        XCTAssertTrue(quoted.startsWithClass)
        XCTAssertEqual(PatternShape(#"x([a-f]{8}-?){2}"#).requiredRun?.minimum, 8, "a repeated group is not one run")
        XCTAssertEqual(PatternShape(#"[ab]{3}c[de]{40,}"#).requiredRun?.minimum, 40, "the longest run")
        XCTAssertNil(PatternShape(#"[ab]{40}|c"#).requiredRun, "alternation")
        XCTAssertNil(PatternShape(#"([ab]{40})?c"#).requiredRun, "optional group")
        XCTAssertNil(PatternShape(#"[ab]{0,40}c"#).requiredRun, "zero repeats allowed")
        XCTAssertFalse(PatternShape(#"key[a-z]{40}"#).startsWithClass)
        XCTAssertTrue(PatternShape(#"\b[a-z]{40}"#).startsWithClass)
    }

    /// Class runs found by probing one offset in `minimum` are those a byte-by-byte scan finds.
    func testClassRunsMatchAByteScan() {
        var table = [Bool](repeating: false, count: 256)
        for b in Array("abc+/=".utf8) { table[Int(b)] = true }
        var state: UInt64 = 0x5851_F42D_4C95_7F2D
        for round in 0..<600 {
            let bytes = Self.randomText(&state, maxLength: 200, inside: Array("abc+/=".utf8), outside: Array(" \"'-é".utf8),
                                        outsideShare: round % 3 == 0 ? 2 : 40)
            let length = bytes.count
            for minimum in [1, 2, 7, 32, 33] {
                var expected: [Range<Int>] = []
                var i = 0
                while i < bytes.count {
                    guard table[Int(bytes[i])] else { i += 1; continue }
                    let start = i
                    while i < bytes.count, table[Int(bytes[i])] { i += 1 }
                    if i - start >= minimum { expected.append(start..<i) }
                }
                let runs = bytes.withUnsafeBytes { GatedPatternSet.classRuns($0, table: table, minimum: minimum) }
                XCTAssertEqual(runs, expected, "length \(length) minimum \(minimum)")
            }
        }
    }

    /// The vowel test of the short class-run gate.
    func testSparseClasses() {
        func table(_ members: String) -> [Bool] {
            var table = [Bool](repeating: false, count: 256)
            for b in members.utf8 { table[Int(b)] = true }
            return table
        }
        XCTAssertTrue(GatedPatternSet.isSparseInProse(table("CFGHJKLMNPRTVWXYZcfghjklmnprtvwxyz0123456789")))
        XCTAssertFalse(GatedPatternSet.isSparseInProse(table("ABCabc")))
        XCTAssertFalse(GatedPatternSet.isSparseInProse(table("BCD ")))
        XCTAssertFalse(GatedPatternSet.isSparseInProse(table("xyzU")))
    }

    /// German document serials (the short class-run group) at every offset and amid prose.
    func testSameMatchesAroundConsonantRuns() throws {
        for serial in ["L01X00T47", "T22000129", "CFGHJKLMN", "C01X00T478", "LZ6311T47", "rhythms", "L01X00T4"] {
            for lead in 0..<10 {
                let prose = String(repeating: "ab ", count: lead / 3) + String(repeating: "k", count: lead % 3)
                for tail in ["", " ", "x", "5", ". and more words", "Z"] {
                    try assertSame(Array((prose + serial + tail).utf8))
                    try assertSame(Array((serial + tail + " " + prose).utf8))
                    try assertSame(Array((prose + serial.lowercased() + tail).utf8))
                }
            }
        }
    }

    /// Quoted high-entropy strings (the class-run group) at the text's edges and amid prose.
    func testSameMatchesAroundQuotedRuns() throws {
        let value = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRkdISUpL"
        for lead in [0, 1, 2, 5, 31, 32, 33, 300] {
            let prose = String(repeating: "it's ", count: lead / 5) + String(repeating: "a", count: lead % 5)
            for (open, close) in [("\"", "\""), ("'", "'"), ("'", "\""), ("", "'")] {
                for cut in [0, 1, 20, value.count - 32, value.count] {
                    let text = prose + open + String(value.dropLast(cut)) + close
                    try assertSame(Array(text.utf8))
                    try assertSame(Array((text + " and \"x\" then " + prose).utf8))
                }
            }
        }
        try assertSame(Array(("'" + String(repeating: "A1", count: 200) + "'").utf8))
        try assertSame(Array(("\"" + String(repeating: "ab-c", count: 30) + "\" '" + String(repeating: "z/+", count: 20) + "'").utf8))
    }

    /// Long word runs at every offset from the text's start and end (the block scan's alignment).
    func testSameMatchesAroundWordRunsAtEveryOffset() throws {
        let code = "RSSMRA85T10A562S"
        for lead in 0..<17 {
            for trail in 0..<3 {
                try assertSame(Array((String(repeating: "a", count: lead) + " " + code + String(repeating: ".", count: trail)).utf8))
                try assertSame(Array((String(repeating: "x", count: lead) + code + String(repeating: "y", count: trail)).utf8))
                try assertSame(Array((String(repeating: "_", count: lead) + code).utf8))
            }
        }
    }

    /// Window edges: matches right at the start/end of the text, runs longer than any window,
    /// patterns without a leading `\b`, digits far apart and close together.
    func testSameMatchesAtEdgesAndLongRuns() throws {
        let cases = [
            "12345678901", "x 12345678901", "123456789", String(repeating: "7", count: 400), "S1234567D",
            "ab S1234567D cd", String(repeating: "A", count: 40) + "1" + String(repeating: "B", count: 40),
            "RSSMRA85T10A562S", "code RSSMRA85T10A562S.", String(repeating: "RSSMRA85T10A562S ", count: 30),
            String(repeating: "word ", count: 50) + "ES12 3456 7890 1234 5678 9012" + String(repeating: " word", count: 50),
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq and 1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
            "4111 1111 1111 1111", "4111-1111-1111-1111x", "+44 20 7946 0958, (415) 555-0132", "A-B 1", "HRB 12345",
            "2001:db8::1 and 192.168.0.1", "éé123456789éé", "a1", "1", "\n1\n",
        ]
        for text in cases { try assertSame(Array(text.utf8)) }
    }

    /// Random texts over an alphabet rich in what the expressions look for.
    func testSameMatchesOnRandomTexts() throws {
        let pieces = ["1", "23", "456", "7890", "0", " ", "-", ".", "/", ":", "+", "(", ")", "A", "b", "DE", "GB", "S", "X",
                      "RSSMRA", "T", "bc1", "sk-", "@", "x", "_", "  ", "\n", "é", "the ", "AKIA", "9",
                      "\"", "'", "Zm9vYmFy+/", "=", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo", "CFGH", "L01X", "t22", "rhythm", "K"]
        var state: UInt64 = 42
        for _ in 0..<400 {
            var text = ""
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let count = Int(state >> 33) % 120
            for _ in 0..<count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                text += pieces[Int(state >> 33) % pieces.count]
            }
            try assertSame(Array(text.utf8))
        }
    }

    /// Every line of the development file, when it is present (it is not part of the repository).
    func testSameMatchesOnDevelopmentData() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.deletingLastPathComponent().appendingPathComponent("shared/data/pii-dev.jsonl").path
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else { throw XCTSkip("no development data at \(path)") }
        var lines = 0
        for line in contents.split(separator: "\n") where !line.isEmpty {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let text = object["text"] as? String else { continue }
            try assertSame(Array(text.utf8))
            lines += 1
        }
        XCTAssertGreaterThan(lines, 0)
    }

    func testStopsWhenAsked() throws {
        let gated = try Self.gated.get()
        var calls = 0
        let text = Array("mail a@example.com and b@example.com, call 415-555-0132 or 415-555-0133".utf8)
        try text.withUnsafeBytes { raw in
            try gated.scan(raw) { _, _, _ in
                calls += 1
                return false
            }
        }
        XCTAssertEqual(calls, 1)
    }
}

@testable import RampartSanitizerCore
import XCTest

/// The word-at-a-time plain-ASCII check agrees with the byte-by-byte definition everywhere: at
/// every position of an 8-byte word and in the tail.
final class ASCIIFastPathTests: XCTestCase {
    private func reference(_ text: String) -> Int? {
        var visible = 0
        for byte in text.utf8 {
            if (0x21..<0x7F).contains(byte) { visible += 1 } else if ![0x20, 0x0A, 0x09, 0x0D].contains(byte) { return nil }
        }
        return visible
    }

    func testEveryByteClassAtEveryPositionAndLength() {
        let base = Array("The quick brown fox\tjumps over\r\nthe lazy dog 0123456789 ~!".utf8)
        // Bytes of each class: allowed whitespace, visible edges, control bytes, DEL, and a
        // multi-byte character (non-ASCII).
        let probes: [[UInt8]] = [[0x20], [0x0A], [0x09], [0x0D], [0x21], [0x7E], [0x00], [0x0B], [0x1F], [0x7F],
                                 Array("é".utf8), Array("\u{200B}".utf8)]
        for length in [0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 60] {
            let text = Array(base.prefix(length))
            XCTAssertEqual(UnicodeHygiene.asciiFastPath(String(decoding: text, as: UTF8.self)),
                           reference(String(decoding: text, as: UTF8.self)), "length \(length)")
            for position in 0...text.count {
                for probe in probes {
                    var bytes = text
                    bytes.insert(contentsOf: probe, at: position)
                    let string = String(decoding: bytes, as: UTF8.self)
                    XCTAssertEqual(UnicodeHygiene.asciiFastPath(string), reference(string), "length \(length) at \(position): \(probe)")
                }
            }
        }
    }

    func testRandomText() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array(0x20...0x7E) + [0x0A, 0x09, 0x0D] + [0x00, 0x7F, 0x1B]
        for _ in 0..<2000 {
            let length = Int.random(in: 0...80, using: &generator)
            let rare = Int.random(in: 0...3, using: &generator) == 0
            let bytes = (0..<length).map { _ in
                rare ? alphabet.randomElement(using: &generator) ?? 0x20 : UInt8.random(in: 0x20...0x7E, using: &generator)
            }
            let string = String(decoding: bytes, as: UTF8.self)
            XCTAssertEqual(UnicodeHygiene.asciiFastPath(string), reference(string))
        }
    }
}

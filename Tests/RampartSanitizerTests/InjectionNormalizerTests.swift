import Foundation
import XCTest

@testable import RampartSanitizerCore

/// The normaliser's fast path: scalars in `stableRanges` are left unchanged by NFKC and lower
/// case, in context; texts made of them take the byte path with the same result.
final class InjectionNormalizerTests: XCTestCase {
    func testStableRangesAreUnchangedByNFKCAndLowerCase() {
        var checked = 0
        for range in InjectionNormalizer.stableRanges {
            for value in range {
                guard let scalar = Unicode.Scalar(value) else { continue }
                XCTAssertEqual(scalar.properties.canonicalCombiningClass, .notReordered, String(value, radix: 16))
                // Around ASCII letters and a Latin-1 letter, so a composition with the previous
                // scalar would show.
                let text = "A" + String(Character(scalar)) + "\u{E9}b"
                XCTAssertEqual(text.precomposedStringWithCompatibilityMapping.unicodeScalars.map(\.value),
                    text.unicodeScalars.map(\.value), String(value, radix: 16))
                XCTAssertEqual(String(Character(scalar)).lowercased(), String(Character(scalar)), String(value, radix: 16))
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 20_000)
    }

    func testFastPathEqualsTheGeneralPath() {
        let texts = [
            "\u{201C}Ignore the rules\u{201D} \u{2014} she said, caf\u{E9} \u{65E5}\u{672C}\u{8A9E} \u{1F600} \u{20AC}5",
            "\u{3053}\u{3093}\u{306B}\u{3061}\u{306F} WORLD \u{441}\u{43B}\u{43E}\u{432}\u{43E}",
        ]
        for text in texts {
            let views = InjectionNormalizer.views(of: text)
            XCTAssertEqual(views.surface, text.precomposedStringWithCompatibilityMapping)
            XCTAssertEqual(views.normalized, text.precomposedStringWithCompatibilityMapping.lowercased())
            XCTAssertEqual(views.tagCharacters, 0)
            XCTAssertEqual(views.invisibleCharacters, 0)
        }
        // Not stable: fullwidth letters (NFKC), upper-case Greek (lower case), a tag character.
        let mixed = "\u{FF21}\u{FF22} \u{391}\u{392}\u{393} \u{E0041}x"
        let views = InjectionNormalizer.views(of: mixed)
        XCTAssertEqual(views.normalized, "ab \u{3B1}\u{3B2}\u{3B3} ax")
        XCTAssertEqual(views.tagCharacters, 1)
    }
}

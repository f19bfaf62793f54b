import Foundation

/// The detection view of a text, shared bit-for-bit with scripts/train-injection-model.py.
///
/// 1. Tag characters U+E0020–E007E are decoded to the ASCII they smuggle ("ASCII smuggling");
///    the other tag characters (U+E0000–E001F, U+E007F) are removed.
/// 2. Invisible characters are removed: soft hyphen, CGJ, ALM, Hangul fillers, Khmer and
///    Mongolian invisibles, U+200B–200F, bidi embeddings/overrides/isolates, U+2060–206F,
///    variation selectors (U+FE00–FE0F, U+E0100–E01EF), BOM, shorthand format controls.
/// 3. NFKC. This is the *surface* text (case kept: base64 is case-sensitive).
/// 4. Lower case (full Unicode mapping). This is the *normalised* text that rules, phrase
///    similarity and the model read.
///
/// This is deliberately small: the sanitizer's Unicode hygiene stage (confusables, reporting,
/// strip/deny policy) runs before the detector; this keeps the detector robust on its own.
struct InjectionNormalizer: Sendable {
    /// The result of normalising one text.
    struct Views: Sendable {
        var surface: String
        var normalized: String
        /// Tag characters found (decoded or removed).
        var tagCharacters: Int
        /// Invisible characters removed.
        var invisibleCharacters: Int
    }

    static let invisibleRanges: [ClosedRange<UInt32>] = [
        0x00AD...0x00AD, 0x034F...0x034F, 0x061C...0x061C, 0x115F...0x1160, 0x17B4...0x17B5,
        0x180B...0x180F, 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x206F, 0x3164...0x3164,
        0xFE00...0xFE0F, 0xFEFF...0xFEFF, 0xFFA0...0xFFA0, 0x1BCA0...0x1BCA3, 0xE0100...0xE01EF,
    ]

    @inline(__always)
    static func isInvisible(_ value: UInt32) -> Bool {
        if value < 0xAD { return false }
        for range in invisibleRanges where range.contains(value) { return true }
        return false
    }

    /// ASCII lower case of an ASCII string (a byte map).
    static func asciiLowered(_ text: String) -> String {
        String(unsafeUninitializedCapacity: text.utf8.count) { buffer in
            var index = 0
            for byte in text.utf8 {
                buffer[index] = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
                index += 1
            }
            return index
        }
    }

    @inline(__always)
    static func isASCII(_ text: String) -> Bool {
        for byte in text.utf8 where byte >= 0x80 { return false }
        return true
    }

    static func views(of text: String) -> Views {
        if isASCII(text) {
            // NFKC is the identity on ASCII, and ASCII lower-casing is a byte map.
            return Views(surface: text, normalized: asciiLowered(text), tagCharacters: 0, invisibleCharacters: 0)
        }
        // Rebuild the text (as UTF-8 bytes) only if it has tag or invisible characters.
        var source = text
        var tags = 0
        var invisible = 0
        var removable = false
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value >= 0xAD && ((value >= 0xE0000 && value <= 0xE007F) || isInvisible(value)) {
                removable = true
                break
            }
        }
        if removable {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.utf8.count)
            for scalar in text.unicodeScalars {
                let value = scalar.value
                if value >= 0xE0000 && value <= 0xE007F {
                    tags += 1
                    if value >= 0xE0020 && value <= 0xE007E { bytes.append(UInt8(truncatingIfNeeded: value - 0xE0000)) }
                    continue
                }
                if isInvisible(value) {
                    invisible += 1
                    continue
                }
                UTF8.encode(scalar) { bytes.append($0) }
            }
            source = String(decoding: bytes, as: UTF8.self)
        }
        let surface = source.precomposedStringWithCompatibilityMapping
        let normalized = isASCII(surface) ? asciiLowered(surface) : surface.lowercased()
        return Views(surface: surface, normalized: normalized, tagCharacters: tags, invisibleCharacters: invisible)
    }
}

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
        /// True only if `normalized` is all ASCII (false when not known).
        var asciiNormalized = false
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

    /// The text with its ASCII letters lower-cased (a byte map; other bytes are copied).
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

    /// Scalars that NFKC and lower-casing leave unchanged in any context: assigned, canonical
    /// combining class 0, no compatibility or canonical decomposition, never the second half of a
    /// canonical composition, no lower-case mapping (derived with Python `unicodedata` over
    /// common blocks: Latin-1, Greek and Cyrillic lower case, punctuation, currency, arrows and
    /// symbols, CJK punctuation, kana, CJK ideographs, emoji; InjectionNormalizerTests re-checks
    /// every scalar against Foundation). A text made of ASCII and these needs neither step.
    static let stableRanges: [ClosedRange<UInt32>] = [
        0xA1...0xA7, 0xA9...0xA9, 0xAB...0xAC, 0xAE...0xAE, 0xB0...0xB1, 0xB6...0xB7, 0xBB...0xBB, 0xBF...0xBF,
        0xD7...0xD7, 0xDF...0xFF, 0x3AC...0x3CE, 0x430...0x45F, 0x2010...0x2010, 0x2012...0x2016, 0x2018...0x2023,
        0x2027...0x2029, 0x2030...0x2032, 0x2035...0x2035, 0x2038...0x203B, 0x203D...0x203D, 0x203F...0x2046,
        0x204A...0x2056, 0x2058...0x205E, 0x20A0...0x20A7, 0x20A9...0x20C0, 0x2190...0x222B, 0x222E...0x222E,
        0x2231...0x2328, 0x232B...0x2426, 0x2440...0x244A, 0x24EB...0x27BF, 0x3001...0x3029, 0x3030...0x3035,
        0x3037...0x3037, 0x303B...0x303F, 0x3041...0x3096, 0x309D...0x309E, 0x30A0...0x30FE, 0x4E00...0x9FFF,
        0x1F300...0x1F64F, 0x1F680...0x1F6FF, 0x1F900...0x1F9FF,
    ]

    /// True if `value` lies in ``stableRanges`` (binary search).
    @inline(__always)
    static func isStable(_ value: UInt32) -> Bool {
        var low = 0
        var high = stableRanges.count
        while low < high {
            let mid = (low + high) >> 1
            let range = stableRanges[mid]
            if value < range.lowerBound {
                high = mid
            } else if value > range.upperBound {
                low = mid + 1
            } else {
                return true
            }
        }
        return false
    }

    @inline(__always)
    static func isASCII(_ text: String) -> Bool {
        for byte in text.utf8 where byte >= 0x80 { return false }
        return true
    }

    /// The lower-cased copy of `text` (ASCII letters mapped, other bytes copied) and whether
    /// every byte was ASCII, in one pass over the contiguous UTF-8, eight bytes at a time.
    static func lowered(_ text: String) -> (lowered: String, ascii: Bool) {
        var text = text
        return text.withUTF8 { source -> (String, Bool) in
            var high: UInt64 = 0
            let lowered = String(unsafeUninitializedCapacity: source.count) { buffer in
                guard let out = buffer.baseAddress, let input = source.baseAddress else { return 0 }
                high = lowerASCII(UnsafeRawPointer(input), into: UnsafeMutableRawPointer(out), count: source.count)
                return source.count
            }
            return (lowered, high & 0x8080_8080_8080_8080 == 0)
        }
    }

    /// Copies `count` bytes from `input` to `output` with ASCII `A`–`Z` mapped to `a`–`z`; returns
    /// the OR of all input bytes (in some byte of a word: its 0x80 bits say whether a byte was
    /// non-ASCII). Per 8-byte word: `h` = the low 7 bits of each byte; `h + 0x3F` has bit 7 set
    /// iff `h >= 0x41`, `h + 0x25` iff `h >= 0x5B` (no carry leaves a byte: `h <= 0x7F`); an
    /// ASCII byte in [0x41, 0x5A] gets 0x20 (its bit 7 shifted right by 2).
    @inline(__always)
    static func lowerASCII(_ input: UnsafeRawPointer, into output: UnsafeMutableRawPointer, count: Int) -> UInt64 {
        var high: UInt64 = 0
        var i = 0
        while i + 8 <= count {
            let x = input.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            high |= x
            let h = x & 0x7F7F_7F7F_7F7F_7F7F
            let upper = (h &+ 0x3F3F_3F3F_3F3F_3F3F) & ~(h &+ 0x2525_2525_2525_2525) & ~x & 0x8080_8080_8080_8080
            output.storeBytes(of: x | (upper >> 2), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            let byte = input.load(fromByteOffset: i, as: UInt8.self)
            high |= UInt64(byte)
            output.storeBytes(of: (byte &- 0x41) < 26 ? byte | 0x20 : byte, toByteOffset: i, as: UInt8.self)
            i += 1
        }
        return high
    }

    /// The views of `text`. Fast path (same result as ``generalViews(of:)``, tested): text made
    /// of ASCII and ``stableRanges`` scalars is its own surface, and its normalised text is the
    /// ASCII lower-casing, computed in one pass over the bytes.
    static func views(of text: String) -> Views {
        let (lowered, ascii) = lowered(text)
        if ascii {
            // NFKC is the identity on ASCII, and ASCII lower-casing is a byte map.
            return Views(surface: text, normalized: lowered, tagCharacters: 0, invisibleCharacters: 0, asciiNormalized: true)
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            guard value >= 0x80 else { continue }
            if !isStable(value) { return generalViews(of: text) }
        }
        // NFKC and lower case are the identity on the non-ASCII scalars: map the ASCII bytes.
        return Views(surface: text, normalized: lowered, tagCharacters: 0, invisibleCharacters: 0)
    }

    /// The views of `text`, by the general path (the fast paths of ``views(of:)`` give the same
    /// result on their inputs).
    static func generalViews(of text: String) -> Views {
        if isASCII(text) {
            return Views(surface: text, normalized: asciiLowered(text), tagCharacters: 0, invisibleCharacters: 0, asciiNormalized: true)
        }
        // Rebuild the text (as UTF-8 bytes) only if it has tag or invisible characters.
        var source = text
        var tags = 0
        var invisible = 0
        var removable = false
        var stable = true
        for scalar in text.unicodeScalars {
            let value = scalar.value
            guard value >= 0x80 else { continue }
            if (value >= 0xE0000 && value <= 0xE007F) || isInvisible(value) {
                removable = true
                break
            }
            if stable && !isStable(value) { stable = false }
        }
        if !removable && stable {
            // NFKC and lower case are the identity on the non-ASCII scalars: map the ASCII bytes.
            return Views(surface: text, normalized: asciiLowered(text), tagCharacters: 0, invisibleCharacters: 0)
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

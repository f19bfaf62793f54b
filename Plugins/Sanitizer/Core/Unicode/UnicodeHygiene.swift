import CICUShim
import Synchronization

/// Unicode hygiene: finds, reports and removes invisible, reordering and smuggling code points,
/// and builds the normalised form that detectors match against (algorithms.md §3.4).
///
/// Works on `unicodeScalars` (never `Character`: grapheme clusters hide scalars). Pure ASCII
/// without control characters takes a byte-loop fast path.
public enum UnicodeHygiene {
    // MARK: inspection

    /// Classifies every code point of `text`.
    public static func inspect(_ text: String) -> UnicodeReport {
        if let visible = asciiFastPath(text) {
            var report = UnicodeReport()
            report.visibleScalars = visible
            return report
        }
        return inspectScalars(text)
    }

    /// ``inspect(_:)`` scalar by scalar, without trying the ASCII fast path first (for a caller
    /// that already knows `text` is not plain ASCII).
    static func inspectScalars(_ text: String) -> UnicodeReport {
        var report = UnicodeReport()
        let scalars = Array(text.unicodeScalars)
        let issues = classify(scalars)
        for (scalar, issue) in zip(scalars, issues) {
            guard let issue else {
                if !scalar.properties.isWhitespace { report.visibleScalars += 1 }
                continue
            }
            report.counts[issue, default: 0] += 1
            if issue == .tagCharacters, (0xE0020...0xE007E).contains(scalar.value),
               let ascii = Unicode.Scalar(scalar.value - 0xE0000) {
                report.smuggledText.unicodeScalars.append(ascii)
            }
        }
        return report
    }

    /// `text` without the code points of the given classes (emoji ZWJ sequences, VS16 after an
    /// emoji and flag tag sequences are kept).
    public static func removing(_ remove: Set<UnicodeIssue>, from text: String) -> String {
        guard !remove.isEmpty, asciiFastPath(text) == nil else { return text }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (scalar, issue) in zip(scalars, classify(scalars)) {
            if let issue, remove.contains(issue) { continue }
            out.append(scalar)
        }
        return String(out)
    }

    /// The form detectors match against: tag characters decoded in place (the smuggled text
    /// becomes visible), every other flagged or invisible code point removed, NFKC applied, and
    /// confusable letters mapped to their ASCII prototype (UTS #39 skeleton) inside words that
    /// mix scripts or consist only of lookalikes. "іgnоre" (Cyrillic і, о) and "ig\u{200B}nore"
    /// both become "ignore". Not for display: the original text is what reaches the model.
    public static func detectionForm(_ text: String) -> String {
        if asciiFastPath(text) != nil { return text }
        let scalars = Array(text.unicodeScalars)
        var stripped = String.UnicodeScalarView()
        for (scalar, issue) in zip(scalars, classify(scalars)) {
            if let issue {
                if issue == .tagCharacters, (0xE0020...0xE007E).contains(scalar.value),
                   let ascii = Unicode.Scalar(scalar.value - 0xE0000) {
                    stripped.append(ascii)
                }
                continue
            }
            // Marks RTL text needs stay in the text itself, but not in the detection form.
            if scalar.value == 0x200E || scalar.value == 0x200F || scalar.value == 0x061C { continue }
            stripped.append(scalar)
        }
        let normalized = nfkc(String(stripped))
        return foldConfusables(normalized)
    }

    // MARK: ICU

    /// NFKC normalisation (ICU); the input unchanged if ICU fails.
    public static func nfkc(_ text: String) -> String {
        if asciiFastPath(text) != nil { return text }
        return icuCall(text, rampart_icu_nfkc) ?? text
    }

    /// The UTS #39 skeleton of `text` (ICU `uspoof_getSkeletonUTF8`); nil if ICU fails.
    /// Two strings are confusable when their skeletons are equal.
    public static func skeleton(_ text: String) -> String? {
        icuCall(text, rampart_icu_skeleton)
    }

    private static func icuCall(_ text: String, _ function: (UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<CChar>?, Int32) -> Int32) -> String? {
        let input = Array(text.utf8)
        guard input.count < Int32.max / 8 else { return nil }
        var capacity = input.count * 2 + 16
        for _ in 0..<2 {
            var output = [UInt8](repeating: 0, count: capacity)
            let written = input.withUnsafeBufferPointer { inBuf in
                output.withUnsafeMutableBufferPointer { outBuf in
                    inBuf.withMemoryRebound(to: CChar.self) { i in
                        outBuf.withMemoryRebound(to: CChar.self) { o in
                            function(i.baseAddress, Int32(input.count), o.baseAddress, Int32(capacity))
                        }
                    }
                }
            }
            if written < 0 { return nil }
            if Int(written) <= capacity { return String(decoding: output[..<Int(written)], as: UTF8.self) }
            capacity = Int(written) + 1
        }
        return nil
    }

    private static let skeletonCache = Mutex<[UInt32: String]>([:])

    /// The ASCII prototype of one non-ASCII letter, or nil when it has none.
    static func asciiPrototype(_ scalar: Unicode.Scalar) -> String? {
        if let cached = skeletonCache.withLock({ $0[scalar.value] }) { return cached.isEmpty ? nil : cached }
        var result = ""
        if let skeleton = skeleton(String(Character(scalar))), !skeleton.isEmpty,
           skeleton.utf8.allSatisfy({ $0 < 0x80 && ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }) {
            // Skeletons use "rn" as the prototype of "m"; the detector wants the letter.
            result = skeleton == "rn" ? "m" : skeleton
            // Keep the case of the original where the prototype is one letter.
            if result.count == 1, scalar.properties.isLowercase { result = result.lowercased() }
        }
        skeletonCache.withLock { cache in
            if cache.count < 4096 { cache[scalar.value] = result }
        }
        return result.isEmpty ? nil : result
    }

    /// Maps confusable letters to ASCII inside words that mix ASCII and non-ASCII letters, or
    /// whose non-ASCII letters all have ASCII prototypes.
    static func foldConfusables(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var word: [Unicode.Scalar] = []
        func flush() {
            guard !word.isEmpty else { return }
            defer { word.removeAll(keepingCapacity: true) }
            guard word.contains(where: { $0.value >= 0x80 }) else { out.append(contentsOf: word); return }
            let prototypes = word.map { $0.value >= 0x80 ? asciiPrototype($0) : nil }
            let hasASCII = word.contains { $0.value < 0x80 }
            let allMapped = zip(word, prototypes).allSatisfy { $0.value < 0x80 || $1 != nil }
            guard hasASCII || allMapped else { out.append(contentsOf: word); return }
            for (scalar, prototype) in zip(word, prototypes) {
                if let prototype { out.append(contentsOf: prototype.unicodeScalars) } else { out.append(scalar) }
            }
        }
        for scalar in text.unicodeScalars {
            if scalar.properties.isAlphabetic || (scalar.value < 0x80 && scalar.properties.numericType != nil) {
                word.append(scalar)
            } else {
                flush()
                out.append(scalar)
            }
        }
        flush()
        return String(out)
    }

    // MARK: classification

    /// The number of visible (non-whitespace) bytes when `text` is plain ASCII without control
    /// characters (nothing to report), else nil.
    static func asciiFastPath(_ text: String) -> Int? {
        var copy = text
        return copy.withUTF8 { bytes -> Int? in
            guard let base = bytes.baseAddress else { return 0 }
            var visible = 0
            var offset = 0
            // 8 bytes at a time, in a 64-bit word (SWAR): each byte's high bit of a mask says
            // "visible" or "allowed whitespace"; for bytes under 0x80 none of these sums carries
            // into the next byte, so every lane is exact.
            let high: UInt64 = 0x8080_8080_8080_8080
            let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
            func lanes(_ byte: UInt8) -> UInt64 { UInt64(byte) &* 0x0101_0101_0101_0101 }
            func zeroLanes(_ x: UInt64) -> UInt64 { ~(((x & low7) &+ low7) | x) & high }
            while offset + 8 <= bytes.count {
                let word = UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)
                guard word & high == 0 else { return nil }  // non-ASCII
                let visibleLanes = (word &+ lanes(0x5F)) & ~(word &+ lanes(0x01)) & high  // 0x21 ≤ b < 0x7F
                let spaceLanes = zeroLanes(word ^ lanes(0x20)) | zeroLanes(word ^ lanes(0x0A))
                    | zeroLanes(word ^ lanes(0x09)) | zeroLanes(word ^ lanes(0x0D))
                guard visibleLanes | spaceLanes == high else { return nil }
                visible &+= visibleLanes.nonzeroBitCount
                offset += 8
            }
            for byte in bytes[offset...] {
                if byte >= 0x21 && byte < 0x7F { visible &+= 1; continue }
                if byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D { continue }
                return nil
            }
            return visible
        }
    }

    /// The class of each scalar (nil = fine), with emoji context: ZWJ between emoji, VS15/VS16
    /// after an emoji and emoji flag tag sequences are not flagged.
    static func classify(_ scalars: [Unicode.Scalar]) -> [UnicodeIssue?] {
        var result = [UnicodeIssue?](repeating: nil, count: scalars.count)
        var i = 0
        var previousIsEmoji = false
        while i < scalars.count {
            let scalar = scalars[i]
            let v = scalar.value
            // Emoji flag tag sequence: U+1F3F4, 2–6 tag letters/digits, U+E007F.
            if v == 0x1F3F4 {
                var j = i + 1
                while j < scalars.count, j - i <= 7,
                      (0xE0061...0xE007A).contains(scalars[j].value) || (0xE0030...0xE0039).contains(scalars[j].value) { j += 1 }
                if j < scalars.count, scalars[j].value == 0xE007F, (3...7).contains(j - i) {
                    i = j + 1
                    previousIsEmoji = true
                    continue
                }
            }
            var issue: UnicodeIssue?
            switch v {
            case 0xE0000...0xE007F:
                issue = .tagCharacters
            case 0x202A...0x202E, 0x2066...0x2069:
                issue = .bidiControl
            case 0x200D:
                let nextIsEmoji = i + 1 < scalars.count && isEmojiScalar(scalars[i + 1])
                issue = previousIsEmoji && nextIsEmoji ? nil : .zeroWidth
            case 0x200B, 0x200C, 0x2060, 0xFEFF, 0x00AD, 0x180E, 0x2061...0x2064, 0x034F:
                issue = .zeroWidth
            case 0xFE0E, 0xFE0F:
                issue = previousIsEmoji ? nil : .variationSelector
            case 0xFE00...0xFE0D, 0xE0100...0xE01EF:
                issue = .variationSelector
            case 0xE000...0xF8FF, 0xF0000...0xFFFFD, 0x100000...0x10FFFD:
                issue = .privateUse
            case 0x115F, 0x1160, 0x3164, 0xFFA0:
                issue = .hangulFiller
            case 0x00...0x08, 0x0B, 0x0C, 0x0E...0x1F, 0x7F...0x9F:
                issue = .control
            case 0x200E, 0x200F, 0x061C:
                issue = nil  // LRM/RLM/ALM: needed by RTL text
            default:
                if v < 0x80 { issue = nil; break }
                let properties = scalar.properties
                switch properties.generalCategory {
                case .format: issue = .otherFormat
                case .unassigned: issue = .unassigned
                default: issue = properties.isNoncharacterCodePoint ? .unassigned : nil
                }
            }
            if let issue {
                result[i] = issue
                previousIsEmoji = false
            } else {
                previousIsEmoji = isEmojiScalar(scalar) || (previousIsEmoji && (v == 0xFE0F || v == 0x200D || (0x1F3FB...0x1F3FF).contains(v)))
            }
            i += 1
        }
        return result
    }

    static func isEmojiScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x80 && scalar.properties.isEmoji
    }
}

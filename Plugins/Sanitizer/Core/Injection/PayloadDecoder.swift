/// Finds and decodes encoded segments (base64, base64url, hex, Morse code) and builds the rot13
/// and leetspeak views, so that rules can rescan what an attacker hid. Mirrors `decode_segment`,
/// `decode_morse` and the views in scripts/train-injection-model.py.
///
/// A candidate is a maximal run of at least `minimumRun` bytes from `[A-Za-z0-9+/_-]`, plus up
/// to two `=`. An even-length all-hex run is decoded as hex, anything else as base64 (standard or
/// URL-safe, not both; missing padding is tolerated; a length of 1 mod 4 is refused). A decoding
/// counts only if it is valid UTF-8 of at least 6 scalars, at least 90 % printable (tab, CR, LF,
/// U+0020–007E or ≥ U+00A0), with at least two ASCII letters.
enum PayloadDecoder {
    @inline(__always)
    static func isRunByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2B || b == 0x2F
            || b == 0x5F || b == 0x2D
    }

    /// ``isRunByte(_:)`` as two 64-bit masks (bytes 0–63 and 64–127): one shift and test per
    /// byte instead of a chain of comparisons (InjectionFastPathTests checks all 256 bytes).
    static let runMaskLow: UInt64 = (0x3FF << 0x30) | (1 << 0x2B) | (1 << 0x2D) | (1 << 0x2F)
    static let runMaskHigh: UInt64 = (0x3FF_FFFF << 1) | (1 << 31) | (0x3FF_FFFF << 33)

    @inline(__always)
    static func isRunByteMasked(_ b: UInt8) -> Bool {
        guard b < 0x80 else { return false }
        let mask = b < 0x40 ? runMaskLow : runMaskHigh
        return (mask >> UInt64(b & 63)) & 1 != 0
    }

    /// Candidate segments of `bytes`, in order, as (start, end-without-padding) offsets.
    ///
    /// Fast path (same result as ``candidatesByteByByte(_:minimumRun:)``, tested): a run of at
    /// least `minimumRun` bytes that starts at `index` (the byte before it is not a run byte)
    /// fills the window `index ..< index + minimumRun`; the window is read from its end, and a
    /// non-run byte at `j` moves the next possible start to `j + 1`. Ordinary text, whose words
    /// are shorter than the window, is skipped several bytes per read.
    static func candidates(_ bytes: UnsafeBufferPointer<UInt8>, minimumRun: Int) -> [Range<Int>] {
        guard minimumRun >= 1 else { return candidatesByteByByte(bytes, minimumRun: minimumRun) }
        var result: [Range<Int>] = []
        forEachRun(bytes, minimumRun: minimumRun, of: isRunByteMasked) { result.append($0) }
        return result
    }

    /// Calls `body` with every maximal run of `isRunByte` bytes at least `minimumRun` (≥ 1)
    /// bytes long, in order, reading windows from their end (see ``candidates(_:minimumRun:)``).
    @inline(__always)
    static func forEachRun(
        _ bytes: UnsafeBufferPointer<UInt8>, minimumRun: Int, of isRunByte: (UInt8) -> Bool, _ body: (Range<Int>) -> Void
    ) {
        let n = bytes.count
        // Invariant: `index` is 0 or follows a byte that is not a run byte.
        var index = 0
        while index + minimumRun <= n {
            var j = index + minimumRun - 1
            while j >= index && isRunByte(bytes[j]) { j -= 1 }
            if j >= index {
                index = j + 1
                continue
            }
            var end = index + minimumRun
            while end < n && isRunByte(bytes[end]) { end += 1 }
            body(index..<end)
            // The byte at `end` (if any) is not a run byte: the next start is after it.
            index = end + 1
        }
    }

    /// ``candidates(_:minimumRun:)`` byte by byte: the maximal runs, each followed by up to two
    /// `=` of padding, kept when at least `minimumRun` bytes long.
    static func candidatesByteByByte(_ bytes: UnsafeBufferPointer<UInt8>, minimumRun: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var index = 0
        let n = bytes.count
        while index < n {
            guard isRunByte(bytes[index]) else {
                index += 1
                continue
            }
            let start = index
            while index < n && isRunByte(bytes[index]) { index += 1 }
            let end = index
            var padding = 0
            while padding < 2 && index < n && bytes[index] == 0x3D {
                padding += 1
                index += 1
            }
            if end - start >= minimumRun { result.append(start..<end) }
        }
        return result
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    @inline(__always)
    static func base64Value(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x41...0x5A: b - 0x41
        case 0x61...0x7A: b - 0x61 + 26
        case 0x30...0x39: b - 0x30 + 52
        case 0x2B, 0x2D: 62
        case 0x2F, 0x5F: 63
        default: nil
        }
    }

    /// Decodes one candidate body (no padding). Returns the view it came from (`.hex` or
    /// `.base64`) and the decoded text, or nil.
    static func decode(_ body: UnsafeBufferPointer<UInt8>) -> (InjectionView, String)? {
        var raw: [UInt8] = []
        let encoding: InjectionView
        if body.count % 2 == 0, body.allSatisfy({ hexValue($0) != nil }) {
            encoding = .hex
            raw.reserveCapacity(body.count / 2)
            var i = 0
            while i + 1 < body.count {
                guard let high = hexValue(body[i]), let low = hexValue(body[i + 1]) else { return nil }
                raw.append(high << 4 | low)
                i += 2
            }
        } else {
            encoding = .base64
            let urlSafe = body.contains(0x2D) || body.contains(0x5F)
            let standard = body.contains(0x2B) || body.contains(0x2F)
            if urlSafe && standard { return nil }
            if body.count % 4 == 1 { return nil }
            raw.reserveCapacity(body.count * 3 / 4)
            var accumulator: UInt32 = 0
            var bits = 0
            for byte in body {
                guard let value = base64Value(byte) else { return nil }
                accumulator = (accumulator << 6) | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    raw.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                    accumulator &= (1 << UInt32(bits)) - 1
                }
            }
        }
        guard let text = String(validating: raw, as: UTF8.self) else { return nil }
        var scalars = 0
        var printable = 0
        var letters = 0
        for scalar in text.unicodeScalars {
            let v = scalar.value
            scalars += 1
            if v == 0x09 || v == 0x0A || v == 0x0D || (v >= 0x20 && v < 0x7F) || v >= 0xA0 { printable += 1 }
            if (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) { letters += 1 }
        }
        guard scalars >= 6, printable * 10 >= scalars * 9, letters >= 2 else { return nil }
        return (encoding, text)
    }

    // MARK: Morse code

    /// International Morse (ITU-R M.1677-1): letters, digits and the common punctuation, as
    /// (dots and dashes, character). Mirrors `MORSE` in scripts/train-injection-model.py.
    static let morseCode: [(String, Character)] = [
        (".-", "a"), ("-...", "b"), ("-.-.", "c"), ("-..", "d"), (".", "e"), ("..-.", "f"), ("--.", "g"), ("....", "h"),
        ("..", "i"), (".---", "j"), ("-.-", "k"), (".-..", "l"), ("--", "m"), ("-.", "n"), ("---", "o"), (".--.", "p"),
        ("--.-", "q"), (".-.", "r"), ("...", "s"), ("-", "t"), ("..-", "u"), ("...-", "v"), (".--", "w"), ("-..-", "x"),
        ("-.--", "y"), ("--..", "z"), ("-----", "0"), (".----", "1"), ("..---", "2"), ("...--", "3"), ("....-", "4"),
        (".....", "5"), ("-....", "6"), ("--...", "7"), ("---..", "8"), ("----.", "9"), (".-.-.-", "."), ("--..--", ","),
        ("..--..", "?"), (".----.", "'"), ("-.-.--", "!"), ("-..-.", "/"), ("-.--.", "("), ("-.--.-", ")"), (".-...", "&"),
        ("---...", ":"), ("-.-.-.", ";"), ("-...-", "="), (".-.-.", "+"), ("-....-", "-"), ("..--.-", "_"), (".-..-.", "\""),
        ("...-..-", "$"), (".--.-.", "@"),
    ]

    /// A decoded segment needs at least this many letters (so a run of at least
    /// `2 * morseMinimumLetters - 1` bytes: a symbol per letter and a separator between them).
    static let morseMinimumLetters = 8

    /// The characters by code, 0 for none. A letter's code is 1 followed by its symbols as bits
    /// (dot 0, dash 1): `.-` is 0b101. Letters are at most 7 symbols long, so codes are < 256.
    static let morseTable: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for (symbols, character) in morseCode {
            let code = symbols.utf8.reduce(1) { $0 << 1 | ($1 == 0x2D ? 1 : 0) }
            table[code] = character.asciiValue ?? 0
        }
        return table
    }()

    @inline(__always)
    static func isMorseSymbol(_ b: UInt8) -> Bool { b == 0x2E || b == 0x2D }

    /// `.`, `-`, space, `/` or `|`.
    @inline(__always)
    static func isMorseRunByte(_ b: UInt8) -> Bool { b == 0x2E || b == 0x2D || b == 0x20 || b == 0x2F || b == 0x7C }

    /// Morse candidates of `bytes`, in order: each maximal run of ``isMorseRunByte(_:)`` bytes,
    /// trimmed to start and end with a dot or a dash (the script's
    /// `[.\-](?:[.\- /|]*[.\-])?`). Runs too short to hold ``morseMinimumLetters`` letters are
    /// skipped with the window read of ``candidates(_:minimumRun:)``: prose, whose runs of these
    /// bytes are ". " and " - ", is passed over a window at a time.
    static func morseCandidates(_ bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        forEachRun(bytes, minimumRun: 2 * morseMinimumLetters - 1, of: isMorseRunByte) { run in
            var start = run.lowerBound
            var last = run.upperBound
            while start < last && !isMorseSymbol(bytes[start]) { start += 1 }
            while last > start && !isMorseSymbol(bytes[last - 1]) { last -= 1 }
            if start < last { result.append(start..<last) }
        }
        return result
    }

    /// Decodes one Morse candidate: letters are separated by one space, words by `/`, `|` or two
    /// or more spaces (one space in the output). Nil when a letter is not in the table, when there
    /// are fewer than ``morseMinimumLetters`` letters, or when the output would pass `limit`
    /// bytes (the caller's remaining budget: such a segment is skipped either way).
    static func decodeMorse(_ run: UnsafeBufferPointer<UInt8>, limit: Int) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(min(limit, run.count / 2 + 1))
        var letters = 0
        var i = 0
        let n = run.count
        while i < n {
            var code = 1
            var length = 0
            while i < n && isMorseSymbol(run[i]) {
                code = code << 1 | (run[i] == 0x2D ? 1 : 0)
                length += 1
                i += 1
                if length > 7 { return nil }
            }
            guard length > 0 else { return nil }
            let character = morseTable[code]
            guard character != 0 else { return nil }
            out.append(character)
            letters += 1
            // The separator after the letter (none after the last one: runs end with a symbol).
            var spaces = 0
            var slash = false
            while i < n && !isMorseSymbol(run[i]) {
                if run[i] == 0x20 { spaces += 1 } else { slash = true }
                i += 1
            }
            if i < n && (slash || spaces >= 2) { out.append(0x20) }
            if out.count > limit { return nil }
        }
        guard letters >= morseMinimumLetters else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    /// rot13 of the ASCII letters of a (lower-case) text.
    static func rot13(_ text: String) -> String {
        String(decoding: text.utf8.map { b -> UInt8 in
            if b >= 0x61 && b <= 0x7A { return (b - 0x61 + 13) % 26 + 0x61 }
            return b
        }, as: UTF8.self)
    }

    /// Writes the rot13 view of `bytes` into `out` (at least as long).
    static func rot13(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) {
        for i in 0..<bytes.count {
            let b = bytes[i]
            out[i] = (b >= 0x61 && b <= 0x7A) ? (b &- 0x61 &+ 13) % 26 &+ 0x61 : b
        }
    }

    /// The leetspeak byte map (identity outside 0 1 3 4 5 7 @ $).
    static let leetTable: [UInt8] = (0...255).map { b -> UInt8 in
        switch b {
        case 0x30: 0x6F
        case 0x31: 0x69
        case 0x33: 0x65
        case 0x34: 0x61
        case 0x35: 0x73
        case 0x37: 0x74
        case 0x40: 0x61
        case 0x24: 0x73
        default: UInt8(b)
        }
    }

    /// False only if `bytes` has none of the leetspeak characters `0 1 3 4 5 7 @ $` (the view
    /// would equal the text), eight bytes at a time: per word, a byte in 0x30–0x37 (bit 7 of
    /// `h + 0x50` and not of `h + 0x48`, `h` the low 7 bits, ASCII bytes only), or a zero byte
    /// in `x ^ 0x40…` or `x ^ 0x24…`. True may be a false alarm (`2`, `6`).
    static func mayHaveLeetspeak(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= bytes.count {
            if mayHaveLeetspeak(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return true }
            i += 8
        }
        while i < bytes.count {
            let b = bytes[i]
            if (b >= 0x30 && b <= 0x37) || b == 0x40 || b == 0x24 { return true }
            i += 1
        }
        return false
    }

    /// ``mayHaveLeetspeak(_:)`` for the eight bytes of one word.
    @inline(__always)
    static func mayHaveLeetspeak(_ x: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }
        let h = x & 0x7F7F_7F7F_7F7F_7F7F
        let digit = (h &+ 0x5050_5050_5050_5050) & ~(h &+ 0x4848_4848_4848_4848) & ~x & highs
        return digit != 0 || hasZeroByte(x ^ (0x40 &* ones)) || hasZeroByte(x ^ (0x24 &* ones))
    }

    /// What the leetspeak view changed in a text.
    enum LeetChange: Sendable, Hashable {
        /// The view equals the text.
        case none
        /// Only digits changed (each into a letter: a word byte stays a word byte).
        case digitsOnly
        /// `@` or `$` changed too.
        case symbols
    }

    /// Writes the leetspeak view of `bytes` into `out` (at least as long); false (and `out`
    /// unspecified) when the view equals the text. Eight bytes at a time: a word without any of
    /// the mapped characters (``mayHaveLeetspeak(_:)``, exact when false) is copied whole.
    static func leetspeak(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        leetspeakView(bytes, into: out) != .none
    }

    /// ``leetspeak(_:into:)``, telling whether only digits changed (InjectionDetector then decides
    /// the rules of ``HyperscanRuleSet/digitFreeRules`` on the view first).
    static func leetspeakView(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> LeetChange {
        guard let source = bytes.baseAddress, let target = out.baseAddress, out.count >= bytes.count else {
            return leetspeakByteByByteView(bytes, into: out)
        }
        let n = bytes.count
        var changed = false
        var symbols = false
        leetTable.withUnsafeBufferPointer { table in
            @inline(__always) func map(_ j: Int) {
                let b = source[j]
                let m = table[Int(b)]
                target[j] = m
                if m != b {
                    changed = true
                    if b > 0x39 || b < 0x30 { symbols = true }
                }
            }
            var i = 0
            while i + 8 <= n {
                let x = UnsafeRawPointer(source).loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if mayHaveLeetspeak(x) {
                    for j in i..<(i + 8) { map(j) }
                } else {
                    UnsafeMutableRawPointer(target).storeBytes(of: x, toByteOffset: i, as: UInt64.self)
                }
                i += 8
            }
            while i < n {
                map(i)
                i += 1
            }
        }
        return !changed ? .none : symbols ? .symbols : .digitsOnly
    }

    /// ``leetspeakView(_:into:)`` byte by byte (the reference the tests compare it with).
    static func leetspeakByteByByteView(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> LeetChange {
        var changed = false
        var symbols = false
        leetTable.withUnsafeBufferPointer { table in
            for i in 0..<bytes.count {
                let b = bytes[i]
                let m = table[Int(b)]
                out[i] = m
                if m != b {
                    changed = true
                    if !(0x30...0x39).contains(b) { symbols = true }
                }
            }
        }
        return !changed ? .none : symbols ? .symbols : .digitsOnly
    }

    /// ``leetspeak(_:into:)`` byte by byte (the reference the tests compare it with).
    static func leetspeakByteByByte(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        leetspeakByteByByteView(bytes, into: out) != .none
    }

    /// The leetspeak view (0→o 1→i 3→e 4→a 5→s 7→t @→a $→s), or nil when nothing changes.
    static func leetspeak(_ text: String) -> String? {
        var changed = false
        let mapped = text.utf8.map { b -> UInt8 in
            let out: UInt8
            switch b {
            case 0x30: out = 0x6F
            case 0x31: out = 0x69
            case 0x33: out = 0x65
            case 0x34: out = 0x61
            case 0x35: out = 0x73
            case 0x37: out = 0x74
            case 0x40: out = 0x61
            case 0x24: out = 0x73
            default: out = b
            }
            if out != b { changed = true }
            return out
        }
        return changed ? String(decoding: mapped, as: UTF8.self) : nil
    }
}

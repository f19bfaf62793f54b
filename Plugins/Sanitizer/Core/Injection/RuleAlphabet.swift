/// The bytes a match of a rule expression can consume, read from its syntax (conservatively: a
/// superset; nil when the expression uses a construct this reader does not know).
///
/// A match's bytes all belong to its rule's alphabet, and its assertions (`\b`, `^`, `$`) look at
/// most one byte beyond it. The leetspeak view uses this (``HyperscanRuleSet/digitFreeRules``): a
/// rule whose alphabet holds no digit keeps every match of a text in its leetspeak view when the
/// view changed only digits (digits and the letters they become are both word bytes, so `\b`
/// is unchanged next to them), so such a rule need not be scanned on the text when the view
/// finds nothing.
///
/// Known syntax: literal bytes (a caseless expression adds the other case of ASCII letters),
/// `.`, `[…]` and `[^…]` of ASCII members, ranges and escapes, the escapes `\s \S \d \D \w \W`,
/// `\n \t \r \f \v`, `\xHH`, escaped punctuation, the zero-width `\b \B \A \z \Z ^ $`, groups
/// `(…)` and `(?:…)`, alternation and the quantifiers `? * + {n} {n,} {n,m}` (with a lazy `?`).
/// Anything else (other `(?…)` groups, other letter escapes, POSIX classes, a non-ASCII byte in a
/// class) gives nil: callers then scan the whole view.
typealias RuleAlphabet = Set256

extension Set256 {
    /// The set of `bytes`.
    init<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        self.init()
        for b in bytes { insert(b) }
    }

    /// The alphabet of `expression` (its UTF-8 bytes, Hyperscan/PCRE syntax), nil when unknown.
    /// `caseless`: the expression is compiled with `HS_FLAG_CASELESS`.
    init?(expression: String, caseless: Bool) {
        var reader = Reader(bytes: Array(expression.utf8), caseless: caseless)
        guard let set = reader.read() else { return nil }
        self = set
    }

    /// `\s`: the ASCII white space, with 0x85 and 0xA0 for safety (a superset is harmless).
    static let space = RuleAlphabet([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0])
    static let digit = RuleAlphabet(0x30...0x39)
    static let word = RuleAlphabet(Array(0x30...0x39) + Array(0x41...0x5A) + Array(0x61...0x7A) + [0x5F])

    /// A left-to-right reader of the expression's bytes.
    private struct Reader {
        let bytes: [UInt8]
        let caseless: Bool
        var i = 0

        init(bytes: [UInt8], caseless: Bool) {
            self.bytes = bytes
            self.caseless = caseless
        }

        static func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
        static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

        mutating func add(_ b: UInt8, to set: inout RuleAlphabet) {
            set.insert(b)
            if caseless, Self.isASCIILetter(b) { set.insert(b ^ 0x20) }
        }

        mutating func read() -> RuleAlphabet? {
            var set = RuleAlphabet()
            while i < bytes.count {
                let b = bytes[i]
                switch b {
                case UInt8(ascii: "\\"):
                    guard let escaped = escape(inClass: false) else { return nil }
                    set.formUnion(escaped)
                case UInt8(ascii: "["):
                    i += 1
                    guard let members = bracket() else { return nil }
                    set.formUnion(members)
                case UInt8(ascii: "."):
                    set.formUnion(.all)
                    i += 1
                case UInt8(ascii: "("):
                    i += 1
                    if i < bytes.count, bytes[i] == UInt8(ascii: "?") {
                        // Only the non-capturing group is known.
                        guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: ":") else { return nil }
                        i += 2
                    }
                case UInt8(ascii: ")"), UInt8(ascii: "|"), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "?"),
                     UInt8(ascii: "*"), UInt8(ascii: "+"):
                    i += 1
                case UInt8(ascii: "{"):
                    // A quantifier {n}, {n,} or {n,m}; any other brace is a literal.
                    if let end = quantifierEnd(from: i) {
                        i = end
                    } else {
                        add(b, to: &set)
                        i += 1
                    }
                default:
                    add(b, to: &set)
                    i += 1
                }
            }
            return set
        }

        /// The index after a quantifier `{n}`, `{n,}` or `{n,m}` starting at `start`, or nil.
        func quantifierEnd(from start: Int) -> Int? {
            var j = start + 1
            var digits = 0
            while j < bytes.count, Self.isDigit(bytes[j]) { j += 1; digits += 1 }
            guard digits > 0, j < bytes.count else { return nil }
            if bytes[j] == UInt8(ascii: ",") {
                j += 1
                while j < bytes.count, Self.isDigit(bytes[j]) { j += 1 }
            }
            guard j < bytes.count, bytes[j] == UInt8(ascii: "}") else { return nil }
            return j + 1
        }

        /// The bytes of the escape at `i` (a backslash); advances past it. Zero-width escapes give
        /// the empty set; nil when unknown.
        mutating func escape(inClass: Bool) -> RuleAlphabet? {
            guard i + 1 < bytes.count else { return nil }
            let e = bytes[i + 1]
            i += 2
            var set = RuleAlphabet()
            switch e {
            case UInt8(ascii: "s"): return .space
            case UInt8(ascii: "S"): return RuleAlphabet.space.complement
            case UInt8(ascii: "d"): return .digit
            case UInt8(ascii: "D"): return RuleAlphabet.digit.complement
            case UInt8(ascii: "w"): return .word
            case UInt8(ascii: "W"): return RuleAlphabet.word.complement
            case UInt8(ascii: "b") where !inClass, UInt8(ascii: "B") where !inClass, UInt8(ascii: "A") where !inClass,
                 UInt8(ascii: "z") where !inClass, UInt8(ascii: "Z") where !inClass:
                return set
            case UInt8(ascii: "n"): set.insert(0x0A)
            case UInt8(ascii: "t"): set.insert(0x09)
            case UInt8(ascii: "r"): set.insert(0x0D)
            case UInt8(ascii: "f"): set.insert(0x0C)
            case UInt8(ascii: "v"): set.insert(0x0B)
            case UInt8(ascii: "x"):
                guard i + 1 < bytes.count, let high = PayloadDecoder.hexValue(bytes[i]), let low = PayloadDecoder.hexValue(bytes[i + 1]) else { return nil }
                i += 2
                add(high << 4 | low, to: &set)
            default:
                // Escaped punctuation is the byte itself; letter and digit escapes are unknown.
                guard e < 0x80, !Self.isASCIILetter(e), !Self.isDigit(e) else { return nil }
                set.insert(e)
            }
            return set
        }

        /// The members of a bracket class whose `[` was just read; advances past its `]`. nil on
        /// a non-ASCII member, a POSIX class or an unterminated class.
        mutating func bracket() -> RuleAlphabet? {
            var negated = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "^") {
                negated = true
                i += 1
            }
            var set = RuleAlphabet()
            var first = true
            while i < bytes.count {
                var b = bytes[i]
                if b == UInt8(ascii: "]") && !first {
                    i += 1
                    if caseless {
                        // Other case of every ASCII letter member (before negating).
                        for letter in UInt8(0x41)...UInt8(0x5A) where set.contains(letter) || set.contains(letter | 0x20) {
                            set.insert(letter)
                            set.insert(letter | 0x20)
                        }
                    }
                    return negated ? set.complement : set
                }
                first = false
                if b == UInt8(ascii: "[") && i + 1 < bytes.count && [UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: ".")].contains(bytes[i + 1]) {
                    return nil
                }
                var low: UInt8
                if b == UInt8(ascii: "\\") {
                    guard let escaped = escape(inClass: true) else { return nil }
                    // A single-byte escape can start a range; a class escape cannot.
                    guard escaped.count == 1, let only = (0...255).first(where: { escaped.contains(UInt8($0)) }) else {
                        set.formUnion(escaped)
                        continue
                    }
                    low = UInt8(only)
                } else {
                    guard b < 0x80 else { return nil }
                    low = b
                    i += 1
                }
                // A range low-high (a `-` before `]` is a literal).
                if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "-"), bytes[i + 1] != UInt8(ascii: "]") {
                    i += 1
                    b = bytes[i]
                    var high: UInt8
                    if b == UInt8(ascii: "\\") {
                        guard let escaped = escape(inClass: true), escaped.count == 1,
                              let only = (0...255).first(where: { escaped.contains(UInt8($0)) }) else { return nil }
                        high = UInt8(only)
                    } else {
                        guard b < 0x80 else { return nil }
                        high = b
                        i += 1
                    }
                    guard low <= high else { return nil }
                    for member in low...high { set.insert(member) }
                } else {
                    set.insert(low)
                }
            }
            return nil
        }
    }
}

/// Whether a finding is personal data or a credential.
public enum SensitiveCategory: String, Sendable, Hashable {
    case pii
    case secret
}

/// One detector: a Hyperscan expression that finds candidates and a Swift validator that
/// confirms them (checksums, context words, entropy) and says which bytes to redact.
public struct SensitiveRule: Sendable {
    /// The entity type reported, e.g. `EMAIL_ADDRESS`, `AWS_ACCESS_KEY`.
    public let type: String
    public let category: SensitiveCategory
    /// The candidate expression (bounded repeats only, so matches have a maximum length).
    public let expression: String
    public let caseless: Bool
    /// Higher wins when two findings overlap (then the longer one).
    public let priority: Int
    /// Confirms a candidate: given the whole text, the candidate's byte range and the scan's
    /// ``ScanContext`` (whether the candidate is a whole-field value), returns the range to redact
    /// (often the candidate itself) or nil to drop it.
    public let validate: @Sendable (_ text: [UInt8], _ range: Range<Int>, _ context: ScanContext) -> Range<Int>?

    /// A rule whose validator does not consult the scan context (no whole-field signal).
    public init(_ type: String, _ category: SensitiveCategory, _ expression: String, caseless: Bool = false, priority: Int = 0,
                validate: @escaping @Sendable (_ text: [UInt8], _ range: Range<Int>) -> Range<Int>? = { _, r in r }) {
        self.init(type, category, expression, caseless: caseless, priority: priority, inField: { text, range, _ in validate(text, range) })
    }

    /// A rule whose validator consults the scan context: a rule with a structural check (check
    /// digit or character, code table, fixed layout) that otherwise needs a context word lets a
    /// whole-field value (``ScanContext/isWholeField(_:)``) count as that word.
    public init(_ type: String, _ category: SensitiveCategory, _ expression: String, caseless: Bool = false, priority: Int = 0,
                inField validate: @escaping @Sendable (_ text: [UInt8], _ range: Range<Int>, _ context: ScanContext) -> Range<Int>?) {
        self.type = type
        self.category = category
        self.expression = expression
        self.caseless = caseless
        self.priority = priority
        self.validate = validate
    }
}

/// A confirmed finding: its type and UTF-8 byte range in the scanned text.
///
/// A value can pass the checks of more than one type (ten digits that are both a valid NHS
/// number and a valid Swedish organisation number; nine that pass the ACN and the TFN check).
/// The rule that wins the overlap order gives ``type``; every other type whose rule confirmed
/// exactly the same bytes is an ``alternatives`` entry. Policy treats the
/// value as each of them (fail closed): a `pii.types` list selects it when it names any of its
/// types, and a secret alternative puts it under the secrets action.
public struct SensitiveFinding: Sendable, Equatable, Hashable {
    /// Another type whose rule confirmed exactly the same bytes.
    public struct Alternative: Sendable, Equatable, Hashable {
        public var type: String
        public var category: SensitiveCategory

        public init(type: String, category: SensitiveCategory) {
            self.type = type
            self.category = category
        }
    }

    public var type: String
    public var category: SensitiveCategory
    public var range: Range<Int>
    /// The other types of the same value, in overlap order (empty for most findings).
    public var alternatives: [Alternative]

    public init(type: String, category: SensitiveCategory, range: Range<Int>, alternatives: [Alternative] = []) {
        self.type = type
        self.category = category
        self.range = range
        self.alternatives = alternatives
    }

    /// ``type`` and then every alternative's type.
    public var types: [String] { [type] + alternatives.map(\.type) }

    /// How reports name the finding: ``type``, then each alternative, joined by `|`
    /// (`UK_NHS|SE_ORGANISATIONSNUMMER`); just ``type`` for a value of one type.
    public var label: String { alternatives.isEmpty ? type : types.joined(separator: "|") }

    /// The finding read as one of its types in `category`, preferring ``type``, among the types
    /// `selected` admits; nil when none qualifies.
    public func reading(as category: SensitiveCategory, where selected: (String) -> Bool = { _ in true }) -> SensitiveFinding? {
        if self.category == category, selected(type) { return self }
        guard let other = alternatives.first(where: { $0.category == category && selected($0.type) }) else { return nil }
        return SensitiveFinding(type: other.type, category: other.category, range: range,
                                alternatives: [Alternative(type: type, category: self.category)] + alternatives.filter { $0 != other })
    }
}

/// Helpers shared by validators.
enum Text {
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }
    static func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isUpper(b) || (b >= 0x61 && b <= 0x7A) }
    static func upper(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x7A ? b - 0x20 : b }

    /// Letters in one case: upper case throughout, or lower case throughout (digits and
    /// separators ignored). Mixed case is a word, not a code.
    static func consistentCase(_ text: [UInt8], _ range: Range<Int>) -> Bool {
        let letters = text[range].filter { isAlnum($0) && !isDigit($0) }
        return letters.allSatisfy(isUpper) || letters.allSatisfy { !isUpper($0) }
    }

    /// For layouts printed in capitals (plates, KVNR, licence numbers: the capitals tell them from
    /// words in prose): upper case throughout, or lower case throughout when the value is the whole
    /// field (typed into a form).
    static func printedCase(_ text: [UInt8], _ range: Range<Int>, _ field: ScanContext) -> Bool {
        var upper = false, lower = false
        for i in range {
            if isUpper(text[i]) { upper = true } else if text[i] >= 0x61 && text[i] <= 0x7A { lower = true }
        }
        return !lower || !upper && field.isWholeField(range)
    }

    /// The candidate's bytes.
    static func slice(_ text: [UInt8], _ range: Range<Int>) -> ArraySlice<UInt8> { text[range] }

    /// Letters and digits of the candidate, upper-cased (separators dropped).
    static func compact(_ text: [UInt8], _ range: Range<Int>) -> [UInt8] {
        text[range].filter(isAlnum).map(upper)
    }

    /// Whether one of `words` (lower case) appears within `window` bytes before the range.
    static func hasContext(_ text: [UInt8], _ range: Range<Int>, _ words: [String], window: Int = 64) -> Bool {
        let start = max(0, range.lowerBound - window)
        let before = String(decoding: text[start..<range.lowerBound], as: UTF8.self).lowercased()
        return words.contains { before.contains($0) }
    }

    /// Whether one of `words` (lower case) appears within `window` bytes before or after the range.
    static func hasContextAround(_ text: [UInt8], _ range: Range<Int>, _ words: [String], window: Int = 64) -> Bool {
        if hasContext(text, range, words, window: window) { return true }
        let end = min(text.count, range.upperBound + window)
        let after = String(decoding: text[range.upperBound..<end], as: UTF8.self).lowercased()
        return words.contains { after.contains($0) }
    }

    /// Whether one of `words` (lower case, ASCII) stands as a whole word (no letter right before
    /// or after it) within `window` bytes before the range: short names such as "tin" or "bir"
    /// must not match inside "meeting" or "birthday".
    static func hasContextWord(_ text: [UInt8], _ range: Range<Int>, _ words: [String], window: Int = 64) -> Bool {
        let start = max(0, range.lowerBound - window)
        let before = Array(text[start..<range.lowerBound]).map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        func isLetter(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || b >= 0x80 }
        for word in words {
            let w = Array(word.utf8)
            guard !w.isEmpty, w.count <= before.count else { continue }
            var i = 0
            while i + w.count <= before.count {
                if before[i..<(i + w.count)].elementsEqual(w),
                   i == 0 || !isLetter(before[i - 1]), i + w.count == before.count || !isLetter(before[i + w.count]) { return true }
                i += 1
            }
        }
        return false
    }

    /// Whether one of `words` (lower case, ASCII) stands as a whole word within `window` bytes
    /// before or after the range (``hasContextWord(_:_:_:window:)`` on both sides).
    static func hasContextWordAround(_ text: [UInt8], _ range: Range<Int>, _ words: [String], window: Int = 64) -> Bool {
        if hasContextWord(text, range, words, window: window) { return true }
        let end = min(text.count, range.upperBound + window)
        guard range.upperBound < end else { return false }
        // The text after the value, searched as the text before an empty range at its end.
        let after = Array(text[range.upperBound..<end])
        return hasContextWord(after, after.count..<after.count, words, window: window)
    }

    /// The digits of the range as integers (other bytes skipped).
    static func digitValues(_ text: [UInt8], _ range: Range<Int>) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(range.count)
        for i in range where isDigit(text[i]) { out.append(Int(text[i] - 0x30)) }
        return out
    }

    /// Whether every non-alphanumeric byte in the range is a space or a hyphen, consistently.
    static func groupedBy(_ text: [UInt8], _ range: Range<Int>, _ separators: Set<UInt8>) -> Bool {
        let seps = Set(text[range].filter { !isAlnum($0) })
        return seps.count == 1 && seps.isSubset(of: separators)
    }

    /// Whether the byte before and after the range is not a letter/digit (and, for digit
    /// runs, not a separator followed by a digit: "1-2" continues a number).
    static func isolated(_ text: [UInt8], _ range: Range<Int>) -> Bool {
        if range.lowerBound > 0 {
            let b = text[range.lowerBound - 1]
            if isAlnum(b) { return false }
            if (b == 0x2D || b == 0x2E) && range.lowerBound > 1 && isDigit(text[range.lowerBound - 2]) { return false }
        }
        if range.upperBound < text.count {
            let a = text[range.upperBound]
            if isAlnum(a) { return false }
            if (a == 0x2D || a == 0x2E) && range.upperBound + 1 < text.count && isDigit(text[range.upperBound + 1]) { return false }
        }
        return true
    }

    /// The end of the run of bytes satisfying `allowed` that starts at `start` (at most `limit`).
    static func extendRight(_ text: [UInt8], from start: Int, limit: Int, _ allowed: (UInt8) -> Bool) -> Int {
        var end = start
        while end < text.count, end - start < limit, allowed(text[end]) { end += 1 }
        return end
    }

    /// The start of the run of bytes satisfying `allowed` that ends at `end` (at most `limit`).
    static func extendLeft(_ text: [UInt8], to end: Int, limit: Int, _ allowed: (UInt8) -> Bool) -> Int {
        var start = end
        while start > 0, end - start < limit, allowed(text[start - 1]) { start -= 1 }
        return start
    }

    /// Whether the range is one piece of a longer run of space-separated groups (an IBAN or an
    /// account number printed in blocks of four, a serial): the group just before it has four
    /// letters/digits with a digit among them, or the group just after it has one to four with
    /// a digit, each standing between spaces (or the text's edge). A phone, card or Aadhaar
    /// number cut out of such a run is not one.
    static func inGroupedRun(_ text: [UInt8], _ range: Range<Int>) -> Bool {
        func standalone(_ start: Int, _ end: Int) -> Bool {
            (start == 0 || isSpace(text[start - 1])) && (end == text.count || isSpace(text[end]) || isClosing(text, end))
        }
        if range.lowerBound >= 5, text[range.lowerBound - 1] == 0x20 {
            let end = range.lowerBound - 1
            let start = extendLeft(text, to: end, limit: 5, isAlnum)
            if end - start == 4, standalone(start, end), text[start..<end].contains(where: isDigit) { return true }
        }
        if range.upperBound + 1 < text.count, text[range.upperBound] == 0x20 {
            let start = range.upperBound + 1
            let end = extendRight(text, from: start, limit: 5, isAlnum)
            if (1...4).contains(end - start), standalone(start, end), text[start..<end].contains(where: isDigit) { return true }
        }
        return false
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// A sentence-closing byte (`.`, `,`, `;`, `)`) at `i` that ends the token (nothing
    /// alphanumeric right after it).
    static func isClosing(_ text: [UInt8], _ i: Int) -> Bool {
        guard [0x2E, 0x2C, 0x3B, 0x29].contains(text[i]) else { return false }
        return i + 1 == text.count || !isAlnum(text[i + 1])
    }

    static func isToken(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x5F || b == 0x2D }

    /// Whether all separators (non alphanumerics) in the range are the same byte.
    static func consistentSeparators(_ text: [UInt8], _ range: Range<Int>) -> Bool {
        var separator: UInt8 = 0
        for i in range where !isAlnum(text[i]) {
            if separator == 0 { separator = text[i] } else if separator != text[i] { return false }
        }
        return true
    }
}

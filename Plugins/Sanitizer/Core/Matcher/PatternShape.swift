/// What every match of a Hyperscan expression must contain, read from the expression's syntax
/// (conservatively: any construct it does not know makes both answers `false`).
///
/// Used to scan expensive expressions only near the bytes they cannot match without: an
/// expression whose every match holds a decimal digit need not run over prose without digits.
public struct PatternShape: Sendable, Equatable {
    /// Every match contains at least one byte `0`–`9`.
    public var requiresDigit: Bool { minDigits > 0 }
    /// Every match contains at least this many bytes `0`–`9` (a lower bound; 0 when unknown).
    public var minDigits: Int
    /// Every byte of every match is a word byte (`A–Z a–z 0–9 _`), so a match lies inside one run
    /// of word bytes.
    public var wordBytesOnly: Bool
    /// The longest run every match holds of one `[…]` class repeated at least `minimum` times
    /// (read from the top-level sequence and plain groups in it; nil when there is none or the
    /// expression has a top-level alternation). `members` are the class's bytes as written:
    /// a caseless expression also matches their other case.
    public var requiredRun: (members: [UInt8], minimum: Int)?
    /// The expression starts with a class, an escape or a dot (no literal byte first): Hyperscan
    /// starts a candidate wherever that class occurs instead of at a literal.
    public var startsWithClass: Bool

    /// The shape of `expression` (case-insensitivity changes neither answer).
    public init(_ expression: String) {
        let bytes = Array(expression.utf8)
        var parser = ShapeParser(bytes)
        if let node = parser.parseAlternation(), parser.atEnd {
            minDigits = node.minDigits
            wordBytesOnly = node.wordOnly
            requiredRun = node.run.map { ($0.members, $0.minimum) }
        } else {
            minDigits = 0
            wordBytesOnly = false
            requiredRun = nil
        }
        var first = 0
        if bytes.starts(with: Array(#"\b"#.utf8)) { first = 2 }
        startsWithClass = first < bytes.count && [UInt8(ascii: "["), UInt8(ascii: "\\"), UInt8(ascii: ".")].contains(bytes[first])
    }

    public static func == (a: PatternShape, b: PatternShape) -> Bool {
        a.minDigits == b.minDigits && a.wordBytesOnly == b.wordBytesOnly && a.startsWithClass == b.startsWithClass
            && a.requiredRun?.members == b.requiredRun?.members && a.requiredRun?.minimum == b.requiredRun?.minimum
    }
}

/// A parsed sub-expression, reduced to the two facts the gate needs.
private struct ShapeNode {
    /// The fewest digit bytes any match holds.
    var minDigits: Int
    var wordOnly: Bool
    /// The longest required run of one class (see ``PatternShape/requiredRun``).
    var run: (members: [UInt8], minimum: Int)?
    /// The node is one `[…]` class (its members), for the sequence to read its repeat count.
    var classMembers: [UInt8]?

    /// Counts are capped (far beyond any gate) so that nested repeats cannot overflow.
    static let cap = 1 << 16
}

private struct ShapeParser {
    let bytes: [UInt8]
    var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { i == bytes.count }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isWord(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }

    /// `a|b|…`: as many digits as the branch with fewest; word-only when every branch is.
    mutating func parseAlternation() -> ShapeNode? {
        guard var result = parseSequence() else { return nil }
        while i < bytes.count, bytes[i] == UInt8(ascii: "|") {
            i += 1
            guard let next = parseSequence() else { return nil }
            result.minDigits = min(result.minDigits, next.minDigits)
            result.wordOnly = result.wordOnly && next.wordOnly
            result.run = nil  // not analysed across branches
            result.classMembers = nil
        }
        return result
    }

    /// A run of quantified atoms: the digits of its atoms, each times its minimum repeat count.
    mutating func parseSequence() -> ShapeNode? {
        var result = ShapeNode(minDigits: 0, wordOnly: true)
        while i < bytes.count, bytes[i] != UInt8(ascii: "|"), bytes[i] != UInt8(ascii: ")") {
            guard let atom = parseAtom(), let minimum = parseQuantifier() else { return nil }
            result.minDigits = min(ShapeNode.cap, result.minDigits + min(ShapeNode.cap, atom.minDigits * minimum))
            result.wordOnly = result.wordOnly && atom.wordOnly
            // A class repeated `minimum` times is a run of that many of its bytes; a required
            // group (minimum ≥ 1) holds its inner run.
            var candidate: (members: [UInt8], minimum: Int)?
            if let members = atom.classMembers { candidate = (members, min(ShapeNode.cap, minimum)) }
            else if minimum >= 1 { candidate = atom.run }
            if let candidate, candidate.minimum > (result.run?.minimum ?? 0) { result.run = candidate }
        }
        result.classMembers = nil
        return result
    }

    /// The minimum repeat count of the quantifier at `i` (1 when there is none).
    mutating func parseQuantifier() -> Int? {
        guard i < bytes.count else { return 1 }
        switch bytes[i] {
        case UInt8(ascii: "?"), UInt8(ascii: "*"):
            i += 1
            return 0
        case UInt8(ascii: "+"):
            i += 1
            return 1
        case UInt8(ascii: "{"):
            var j = i + 1, minimum = 0, digits = 0
            while j < bytes.count, Self.isDigit(bytes[j]) {
                minimum = min(minimum * 10 + Int(bytes[j] - 0x30), 1 << 20)
                digits += 1
                j += 1
            }
            guard digits > 0 else { return nil }
            while j < bytes.count, Self.isDigit(bytes[j]) || bytes[j] == UInt8(ascii: ",") { j += 1 }
            guard j < bytes.count, bytes[j] == UInt8(ascii: "}") else { return nil }
            i = j + 1
            return minimum
        default:
            return 1
        }
    }

    mutating func parseAtom() -> ShapeNode? {
        guard i < bytes.count else { return nil }
        let b = bytes[i]
        switch b {
        case UInt8(ascii: "("):
            i += 1
            // Only plain groups: `(?…)` constructs are not analysed.
            guard i < bytes.count, bytes[i] != UInt8(ascii: "?") else { return nil }
            guard let inner = parseAlternation(), i < bytes.count, bytes[i] == UInt8(ascii: ")") else { return nil }
            i += 1
            return inner
        case UInt8(ascii: "["):
            i += 1
            guard let members = parseClass(), !members.isEmpty else { return nil }
            return ShapeNode(minDigits: members.allSatisfy(Self.isDigit) ? 1 : 0, wordOnly: members.allSatisfy(Self.isWord),
                             classMembers: Array(Set(members)).sorted())
        case UInt8(ascii: "\\"):
            guard i + 1 < bytes.count else { return nil }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"), UInt8(ascii: "B"): return ShapeNode(minDigits: 0, wordOnly: true)  // zero width
            case UInt8(ascii: "d"): return ShapeNode(minDigits: 1, wordOnly: true)
            case UInt8(ascii: "w"): return ShapeNode(minDigits: 0, wordOnly: true)
            case UInt8(ascii: "s"): return ShapeNode(minDigits: 0, wordOnly: false)
            default:
                // Escaped punctuation stands for itself; other escapes are not analysed.
                guard e < 0x80, !Self.isWord(e) else { return nil }
                return ShapeNode(minDigits: 0, wordOnly: false)
            }
        case UInt8(ascii: "^"), UInt8(ascii: "$"):
            i += 1
            return ShapeNode(minDigits: 0, wordOnly: true)  // zero width
        case UInt8(ascii: "."):
            i += 1
            return ShapeNode(minDigits: 0, wordOnly: false)
        case UInt8(ascii: ")"), UInt8(ascii: "|"), UInt8(ascii: "?"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "{"):
            return nil
        default:
            i += 1
            return ShapeNode(minDigits: Self.isDigit(b) ? 1 : 0, wordOnly: Self.isWord(b))
        }
    }

    /// The members of a `[…]` class (after the `[`), or nil for a negated or unknown class.
    /// Non-ASCII members are returned as themselves (neither digit nor word byte).
    mutating func parseClass() -> [UInt8]? {
        guard i < bytes.count, bytes[i] != UInt8(ascii: "^"), bytes[i] != UInt8(ascii: "]") else { return nil }
        var members: [UInt8] = []
        while i < bytes.count, bytes[i] != UInt8(ascii: "]") {
            guard let low = parseClassMember(&members) else { return nil }
            guard let first = low else { continue }  // a class escape such as \s was added whole
            if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "-"), bytes[i + 1] != UInt8(ascii: "]") {
                i += 1
                guard let highMember = parseClassMember(&members), let last = highMember, first <= last else { return nil }
                members.append(contentsOf: first...last)
            } else {
                members.append(first)
            }
        }
        guard i < bytes.count else { return nil }
        i += 1
        return members
    }

    /// One class member: `.some(byte)` for a single byte, `.some(nil)` when a whole escape class
    /// was appended to `members`, nil when unknown.
    mutating func parseClassMember(_ members: inout [UInt8]) -> UInt8?? {
        guard i < bytes.count else { return nil }
        let b = bytes[i]
        guard b == UInt8(ascii: "\\") else {
            i += 1
            return .some(b)
        }
        guard i + 1 < bytes.count else { return nil }
        let e = bytes[i + 1]
        i += 2
        switch e {
        case UInt8(ascii: "s"):
            members.append(contentsOf: [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D])
            return .some(nil)
        case UInt8(ascii: "d"):
            members.append(contentsOf: 0x30...0x39)
            return .some(nil)
        default:
            guard e < 0x80, !Self.isWord(e) else { return nil }
            return .some(e)
        }
    }
}

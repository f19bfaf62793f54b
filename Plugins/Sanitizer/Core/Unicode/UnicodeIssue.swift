/// A class of suspicious code points found by ``UnicodeHygiene``.
public enum UnicodeIssue: String, Sendable, CaseIterable, Hashable, Comparable {
    /// U+E0000–E007F outside an emoji flag tag sequence: "ASCII smuggling" (the decoded text is
    /// in ``UnicodeReport/smuggledText``).
    case tagCharacters = "tag_characters"
    /// Bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069): Trojan Source.
    case bidiControl = "bidi_control"
    /// Zero-width and other invisible format characters (ZWSP, ZWNJ, ZWJ outside emoji, WJ,
    /// BOM, soft hyphen, Mongolian vowel separator, invisible math operators, CGJ).
    case zeroWidth = "zero_width"
    /// Variation selectors (U+FE00–FE0F, U+E0100–E01EF) except VS15/VS16 after an emoji.
    case variationSelector = "variation_selector"
    /// Private use (U+E000–F8FF and planes 15–16).
    case privateUse = "private_use"
    /// Hangul fillers (U+115F, U+1160, U+3164, U+FFA0): invisible "letters".
    case hangulFiller = "hangul_filler"
    /// C0/C1 control characters other than tab, line feed and carriage return.
    case control
    /// Unassigned code points and noncharacters.
    case unassigned
    /// Other format characters (category Cf) not listed above.
    case otherFormat = "other_format"

    public static func < (a: UnicodeIssue, b: UnicodeIssue) -> Bool { a.rawValue < b.rawValue }
}

/// What ``UnicodeHygiene/inspect(_:)`` found in a text. Always filled in, whatever the action.
public struct UnicodeReport: Sendable, Equatable {
    /// How many code points of each class were found.
    public var counts: [UnicodeIssue: Int] = [:]
    /// The ASCII hidden in tag characters (U+E0020–E007E minus 0xE0000), if any.
    public var smuggledText: String = ""
    /// Code points that are neither flagged nor whitespace.
    public var visibleScalars: Int = 0

    public init() {}

    /// Nothing suspicious.
    public var isClean: Bool { counts.isEmpty }
    /// The text is not empty but has nothing visible besides flagged code points.
    public var isOnlyInvisible: Bool { !counts.isEmpty && visibleScalars == 0 }
    /// The classes found, sorted.
    public var issues: [UnicodeIssue] { counts.keys.sorted() }
    /// `kind=count` pairs, e.g. `tag_characters=31,zero_width=2` (for logs and annotations).
    public var summary: String { issues.map { "\($0.rawValue)=\(counts[$0] ?? 0)" }.joined(separator: ",") }
}

/// What a scanned text is, for the whole-field signal (see ``ScanContext``).
public enum ScanScope: Sendable, Equatable {
    /// The whole text of one field: a request's prompt or one message, or one value handed to
    /// ``Redactor/forLogs(_:scanner:scope:)``. A candidate that spans all of it is a whole-field
    /// value.
    case field
    /// A piece of a longer text (a stream chunk, the stream redactor's held buffer): nothing in it
    /// is known to be a whole field, so the signal never applies.
    case fragment
}

/// What a validator may consult besides the text and the candidate, the way it consults context
/// words: whether the candidate is the whole field.
///
/// The whole-field signal: when a candidate spans the entire scanned field (after trimming
/// surrounding whitespace and trailing sentence punctuation), it counts like a context word naming
/// it — for rules that still have a structural check (a check digit or character, a validated
/// code table, a fixed letter-and-digit layout). In structured data (a JSON field, a form value, a
/// CSV cell) a field that holds exactly one checksum-valid identifier is that identifier; inside
/// prose a bare number is ambiguous. Rules with no check at all (postcodes, BSNR, bare SSNs,
/// account numbers) never consult it.
public struct ScanContext: Sendable, Equatable {
    /// The field's value: the text without surrounding whitespace and trailing sentence
    /// punctuation (`.`, `,`, `;`, `!`, `?`); nil for a fragment or a text with no value.
    public let fieldValue: Range<Int>?

    /// The context of a fragment: the whole-field signal never applies.
    public static let fragment = ScanContext(fieldValue: nil)

    public init(fieldValue: Range<Int>?) {
        self.fieldValue = fieldValue
    }

    /// The context of a scan of `text` in `scope`.
    public init(_ text: [UInt8], scope: ScanScope) {
        fieldValue = scope == .field ? Self.valueRange(text) : nil
    }

    /// Whether `range` is the whole field's value (the whole-field signal).
    @inline(__always)
    public func isWholeField(_ range: Range<Int>) -> Bool {
        fieldValue == range
    }

    /// `text` without leading whitespace and without trailing whitespace and sentence
    /// punctuation; nil when nothing is left.
    static func valueRange(_ text: [UInt8]) -> Range<Int>? {
        var start = 0, end = text.count
        while start < end, Text.isSpace(text[start]) { start += 1 }
        while start < end, Text.isSpace(text[end - 1]) || isSentencePunctuation(text[end - 1]) { end -= 1 }
        return start < end ? start..<end : nil
    }

    static func isSentencePunctuation(_ b: UInt8) -> Bool {
        b == 0x2E || b == 0x2C || b == 0x3B || b == 0x21 || b == 0x3F
    }
}

/// The label route: a value of the right shape that an explicit label names right before it
/// ("USt-IdNr.: DE…", "NRIC S…", "Steuernummer: …") is that identifier even when its check fails —
/// a typo or a test value is still the user's identifier, and a redactor must hide it. This is
/// context enhancement as Presidio and DLP products do it, held to these limits:
///
/// - **the label**: one of a lexicon per type (the identifier's own names in the languages it
///   belongs to; generic words such as "tax id" or "number" are not labels), a whole word (no
///   letter or digit right before it, compared ASCII-caselessly);
/// - **the window**: the label ends at most ``maxGap`` bytes before the value, with nothing in
///   between but separators (space, `:`, `=`, `#`, `.`, `-`, `/`, brackets, quotes) and at most
///   ``maxFillers`` filler words ("no", "nr", "number", "is", "lautet", …); a label further away, or
///   one with other words in between, does not name the value; nor does a negated one ("invalid
///   NRIC", "not a VAT ID", "keine Steuernummer": ``negated(_:before:)``);
/// - **the shape**: the value still has its type's layout (the candidate expression plus the
///   per-type ``Shape``); only the check (check digit or character, code prefix) is waived.
///
/// Which types have the route: those whose check the issuer does not publish, so values the user
/// copies or test suites write may have the right shape and still fail our reconstruction of it
/// (USt-IdNr., NRIC/FIN, the 13-digit Steuernummer's tax-office prefix). Where the check is
/// published as part of the number (payment cards' Luhn, DEA, DNI/NIE letter, codice fiscale, NHS
/// mod 11, Aadhaar Verhoeff, Steuer-ID, NINO prefixes) a failing value is a wrong number, and
/// labelled failing values are what test suites use as negatives: measured on the development
/// split, the route for cards, DEA, NINO and Philippine TINs raised the targeted false positives
/// from 1.5 % to 2.9 % (docs/SANITIZER.md). Those types keep their check even when labelled.
///
/// A whole-field value (``ScanContext``: the candidate is all the field holds) counts as labelled
/// where the shape is itself a fixed letter-and-digit layout: USt-IdNr. (`DE` and nine digits) and
/// NRIC/FIN (a prefix letter, seven digits, a letter). A form field or a reply that holds exactly
/// `DE123456789` is a VAT ID whatever its check digit says. Not for the 13-digit Steuernummer, whose
/// shape is a bare digit run.
///
/// The label is looked for only when a rule's own validator has refused a candidate, so the search
/// runs around candidate values and costs nothing in text without them.
public enum ValueLabels {
    /// Most bytes between the end of a label and the start of the value.
    public static let maxGap = 24
    /// Most filler words between the label and the value.
    public static let maxFillers = 2

    /// The value's layout without its check: consulted only when the rule's validator refused.
    typealias Shape = @Sendable (_ text: [UInt8], _ range: Range<Int>) -> Bool

    /// One type's label route: its labels (lower case), its shape, and whether a whole-field value
    /// counts as labelled.
    struct Route: Sendable {
        let labels: [[UInt8]]
        let shape: Shape
        /// The whole-field signal (``ScanContext``) stands for a label: true where the shape itself
        /// is a fixed letter-and-digit layout (a country prefix, a prefix letter and a check
        /// letter), false where it is a bare digit run.
        let wholeField: Bool

        init(_ labels: [String], wholeField: Bool, shape: @escaping Shape) {
            self.labels = labels.map { Array($0.utf8) }
            self.wholeField = wholeField
            self.shape = shape
        }
    }

    /// Words that may stand between a label and its value ("Steuernummer lautet", "NRIC no.").
    static let fillers: [[UInt8]] = ["no", "nr", "num", "number", "nummer", "is", "ist", "lautet", "es", "was", "n", "nº"]
        .map { Array($0.utf8) }

    /// The label routes by type.
    static let routes: [String: Route] = [
        // USt-IdNr. (UStG § 27a): DE and nine digits; the check (ISO 7064 MOD 11,10 as far as is
        // known) is not published by the BZSt.
        "DE_VAT_ID": Route(["ust-idnr", "ust-id-nr", "ust-id", "ustidnr", "ustid", "ust.-idnr", "ust.-id-nr", "ust.-id",
                            "umsatzsteuer-identifikationsnummer", "umsatzsteueridentifikationsnummer", "umsatzsteuer-id",
                            "vat id", "vat-id", "vat number", "vat reg", "vat registration number", "vat identification number"],
                           wholeField: true, shape: { text, range in
            let c = Text.compact(text, range)
            return c.count == 11 && Text.consistentCase(text, range.lowerBound..<(range.lowerBound + 2)) && Set(c.dropFirst(2)).count > 1
        }),
        // NRIC / FIN: a prefix letter, seven digits, a check letter whose tables ICA does not publish.
        "SG_NRIC_FIN": Route(["nric", "fin", "nric/fin"], wholeField: true, shape: { text, range in
            Text.compact(text, range).count == 9 && Text.consistentCase(text, range) && Set(Text.digitValues(text, range)).count > 1
        }),
        // Steuernummer, 13-digit nationwide form: the tax-office prefix is ELSTER's layout, not
        // printed on the notice, so a labelled 13-digit number without it is still one (the slash
        // forms stand on their own).
        "DE_TAX_NUMBER": Route(["steuernummer", "steuer-nr", "steuernr", "st.-nr", "st-nr", "stnr"], wholeField: false, shape: { text, range in
            let d = Text.digitValues(text, range)
            return d.count == 13 && !text[range].contains(0x2F) && Text.isolated(text, range) && Set(d).count > 1
        }),
    ]

    /// The types that have a label route.
    public static var types: Set<String> { Set(routes.keys) }

    /// `rules` with the label route added to every rule whose type has one: when the rule's
    /// validator refuses a candidate, the candidate is still reported when it has the type's shape
    /// and a label of the type names it (``names(_:_:_:)``).
    static func withLabelRoute(_ rules: [SensitiveRule]) -> [SensitiveRule] {
        rules.map { rule in
            guard let route = routes[rule.type] else { return rule }
            let validate = rule.validate, type = rule.type
            return SensitiveRule(type, rule.category, rule.expression, caseless: rule.caseless, priority: rule.priority,
                                 inField: { text, range, field in
                if let found = validate(text, range, field) { return found }
                guard route.shape(text, range) else { return nil }
                return route.wholeField && field.isWholeField(range) || names(route, text, range) ? range : nil
            })
        }
    }

    /// Whether a label of `type` names the value at `range` (false for a type without a route).
    public static func names(_ type: String, _ text: [UInt8], _ range: Range<Int>) -> Bool {
        guard let route = routes[type] else { return false }
        return names(route, text, range)
    }

    /// Walks back from the value over separators and filler words (within ``maxGap`` bytes) and
    /// asks whether one of the route's labels ends there as a whole word.
    static func names(_ route: Route, _ text: [UInt8], _ range: Range<Int>) -> Bool {
        guard range.lowerBound > 0, range.lowerBound <= text.count else { return false }
        let floor = max(0, range.lowerBound - maxGap)
        var end = range.lowerBound
        var fillersSeen = 0
        while true {
            while end > floor, isSeparator(text[end - 1]) { end -= 1 }
            guard end > 0, isWordByte(text[end - 1]) else { return false }
            for label in route.labels where endsWithLabel(text, end, label) {
                return !negated(text, before: end - label.count)
            }
            // A filler word: skip it and look again, while the gap allows.
            let start = wordStart(text, end)
            guard fillersSeen < maxFillers, start >= floor, fillers.contains(where: { matches(text, start..<end, $0) }) else { return false }
            fillersSeen += 1
            end = start
        }
    }

    /// Words that deny the label right before it ("invalid NRIC", "not a Steuer-ID", "ungültige
    /// USt-IdNr."): the value is then named as what it is not.
    static let negations: [[UInt8]] = ["not", "invalid", "isn't", "isnt", "fake", "no valid", "kein", "keine", "ungültig",
                                       "ungültige", "ungültigen", "falsch", "falsche", "falschen", "inválido", "non valido"]
        .map { Array($0.utf8) }

    /// Whether a negation word stands within the three words (and ``maxGap`` bytes) before the label
    /// that starts at `start` ("not a NRIC", "invalid TIN", "isn't a valid NRIC").
    static func negated(_ text: [UInt8], before start: Int) -> Bool {
        let floor = max(0, start - maxGap)
        var end = start
        for _ in 0..<3 {
            while end > floor, isSeparator(text[end - 1]) { end -= 1 }
            guard end > floor, isWordByte(text[end - 1]) else { return false }
            for word in negations where endsWithLabel(text, end, word) { return true }
            end = wordStart(text, end)
        }
        return false
    }

    /// Whether `label` ends at `end` and nothing word-like stands right before it.
    static func endsWithLabel(_ text: [UInt8], _ end: Int, _ label: [UInt8]) -> Bool {
        let start = end - label.count
        guard start >= 0, matches(text, start..<end, label) else { return false }
        return start == 0 || !isWordByte(text[start - 1])
    }

    /// ASCII-caseless comparison of `text[range]` with a lower-case `word`.
    static func matches(_ text: [UInt8], _ range: Range<Int>, _ word: [UInt8]) -> Bool {
        guard range.count == word.count else { return false }
        var j = 0
        for i in range {
            let b = text[i]
            if (b >= 0x41 && b <= 0x5A ? b + 0x20 : b) != word[j] { return false }
            j += 1
        }
        return true
    }

    /// The start of the run of word bytes (letters, digits, non-ASCII) ending at `end`.
    static func wordStart(_ text: [UInt8], _ end: Int) -> Int {
        var start = end
        while start > 0, end - start < 64, isWordByte(text[start - 1]) { start -= 1 }
        return start
    }

    static func isWordByte(_ b: UInt8) -> Bool { Text.isAlnum(b) || b >= 0x80 }

    /// Bytes that may stand between a label and its value.
    static func isSeparator(_ b: UInt8) -> Bool {
        switch b {
        case 0x20, 0x09, 0x0A, 0x0D, 0x3A, 0x3D, 0x23, 0x2E, 0x2D, 0x2F, 0x28, 0x29, 0x5B, 0x5D, 0x22, 0x27: return true
        default: return false
        }
    }
}

/// German postal addresses around a five-digit number (for `DE_PLZ`): the address words of
/// forms and letters near it, or the DIN 5008 address shape — a street whose name ends in a
/// street word (…straße, …weg, …platz), a house number, then (after a comma or a line break) the
/// postcode and a capitalised place name.
enum PostalAddress {
    /// Words naming a postcode or an address, looked for before or after the number (within the
    /// sentence window).
    static let addressWords = [
        "plz", "postleitzahl", "postcode", "postal code", "postanschrift", "anschrift", "adresse", "wohnort", "wohnhaft",
        "wohne in", "lieferadresse", "rechnungsadresse", "postfach",
    ]

    /// Endings of German street names (compared in lower case; `str.` is the usual abbreviation).
    static let streetEndings = [
        "straße", "strasse", "str.", "weg", "platz", "allee", "gasse", "ring", "damm", "ufer", "chaussee", "steig", "pfad",
        "markt", "zeile", "graben", "wall", "kamp", "stieg",
    ]

    /// Whether the number at `range` is named by an address word before or after it.
    static func named(_ text: [UInt8], _ range: Range<Int>) -> Bool {
        Text.hasContextAround(text, range, addressWords, window: 40)
    }

    /// Whether the number at `range` stands where a postcode stands in a German address: after a
    /// street and house number ("Hauptstraße 5, " or "Hauptstraße 5⏎") and before a capitalised
    /// place name.
    static func inAddressShape(_ text: [UInt8], _ range: Range<Int>) -> Bool {
        placeNameFollows(text, range.upperBound) && streetPrecedes(text, range.lowerBound)
    }

    /// A space, then an upper-case letter (ASCII or a two-byte Latin-1 capital such as Ä, Ö, Ü)
    /// followed by a lower-case letter.
    static func placeNameFollows(_ text: [UInt8], _ end: Int) -> Bool {
        guard end + 2 < text.count, text[end] == 0x20 else { return false }
        let first = text[end + 1]
        if Text.isUpper(first) {
            let next = text[end + 2]
            return next >= 0x61 && next <= 0x7A || next == 0xC3
        }
        // Ä Ö Ü in UTF-8: C3 84, C3 96, C3 9C.
        return first == 0xC3 && [0x84, 0x96, 0x9C].contains(text[end + 2])
    }

    /// A street name ending in a street word, a house number (digits with an optional letter or a
    /// range such as 12-14), then a comma or a line break and spaces before `start`.
    static func streetPrecedes(_ text: [UInt8], _ start: Int) -> Bool {
        var i = start
        // Separator: ", " or a line break (with spaces around).
        var sawBreak = false
        while i > 0, start - i < 6, [0x20, 0x2C, 0x0A, 0x0D, 0x09].contains(text[i - 1]) {
            if text[i - 1] == 0x2C || text[i - 1] == 0x0A { sawBreak = true }
            i -= 1
        }
        guard sawBreak else { return false }
        // House number: an optional letter, then digits (a range: digits, hyphen, digits).
        if i > 0, text[i - 1] >= 0x61 && text[i - 1] <= 0x7A { i -= 1 }
        let numberEnd = i
        while i > 0, numberEnd - i < 9, Text.isDigit(text[i - 1]) || text[i - 1] == 0x2D { i -= 1 }
        guard i < numberEnd, Text.isDigit(text[i]), i > 0, text[i - 1] == 0x20 else { return false }
        // The street name's last word, lower-cased (bytes ≥ 0x80 kept: ß is C3 9F).
        let wordEnd = i - 1
        let wordStart = Text.extendLeft(text, to: wordEnd, limit: 40) { b in Text.isAlnum(b) || b >= 0x80 || b == 0x2E || b == 0x2D }
        guard wordStart < wordEnd, Text.isUpper(text[wordStart]) || text[wordStart] >= 0x80 else { return false }
        let word = String(decoding: text[wordStart..<wordEnd], as: UTF8.self).lowercased()
        return streetEndings.contains { word.hasSuffix($0) }
    }
}

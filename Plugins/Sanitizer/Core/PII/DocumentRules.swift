/// Passports, driving licences, bank account numbers and medical licences. Where the document
/// number has a check character (ICAO 9303, DEA) or a structured layout (UK licence), it is found
/// on its own; plain digit runs (US passport, bank account) need the document named nearby.
public enum DocumentRules {
    /// Every rule of this file.
    public static let all: [SensitiveRule] = [
        deIDCard, dePassport, deDriverLicence, ukDrivingLicence, esPassport, inPassport, usPassport, usBankNumber,
        usDriverLicense, krDriverLicense, medicalLicense,
    ]

    static let passportWords = ["passport", "pasaporte", "passeport", "reisepass", "pass-nr", "passnummer", "pass nr"]
    static let idCardWords = ["personalausweis", "ausweis", "identity card", "id card", "id-card", "identitätskarte"]

    /// German identity card and passport numbers (PAuswG § 5, PassG § 4, ICAO 9303 Parts 4–5): the
    /// document number is nine characters — the four-character authority code (Behördenkennzahl)
    /// and five further characters — from a reduced alphabet: digits and the consonants
    /// C F G H J K L M N P R T V W X Y Z (no vowels, nor B, D, Q, S). Passports start with C, F,
    /// G, H, J or K; identity cards with L, M, N, P, R, T, V, W, X or Y. The number itself carries
    /// no check: the ICAO 9303 check digit (weights 7, 3, 1) over the nine characters is a tenth
    /// character, printed after the number in the machine-readable zone and often copied with it.
    static let germanSerial = #"\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}[0-9]?\b"#

    /// Which German document a serial number belongs to: its leading letters and context words.
    enum GermanDocument {
        case idCard, passport

        var leadingLetters: [UInt8] { Array((self == .idCard ? "LMNPRTVWXY" : "CFGHJK").utf8) }
        var words: [String] { self == .idCard ? idCardWords : passportWords }
        var other: GermanDocument { self == .idCard ? .passport : .idCard }
    }

    /// The validator both German document rules share. The ten-character form (number and its
    /// ICAO check digit) stands on its own with the document's leading letter and at least three
    /// digits; the nine-character number has no check, so it needs the document named nearby or
    /// to be the whole field (then its leading letter and the reduced alphabet are the structural
    /// check). In capitals, or in lower case when named or the whole field; a context word naming
    /// the other document wins.
    static func germanDocumentNumber(_ text: [UInt8], _ range: Range<Int>, _ field: ScanContext,
                                     _ document: GermanDocument) -> Range<Int>? {
        guard Text.consistentCase(text, range) else { return nil }
        let c = Text.compact(text, range)
        let digits = c.filter(Text.isDigit).count
        guard digits >= 1 else { return nil }
        let named = Text.hasContextAround(text, range, document.words, window: 40)
        guard named || !Text.hasContextAround(text, range, document.other.words, window: 40) else { return nil }
        let whole = field.isWholeField(range)
        let lower = text[range].contains { $0 >= 0x61 && $0 <= 0x7A }
        guard !lower || named || whole else { return nil }
        let leading = document.leadingLetters.contains(c[0])
        if c.count == 10 {
            guard CheckDigits.icao(c[0..<9]) == Int(c[9] - 0x30) else { return nil }
            return named || whole && leading || leading && digits >= 3 ? range : nil
        }
        return named || whole && leading ? range : nil
    }

    static let deIDCard = SensitiveRule("DE_ID_CARD", .pii, germanSerial, caseless: true, priority: 1, inField: { text, range, field in
        germanDocumentNumber(text, range, field, .idCard)
    })

    static let dePassport = SensitiveRule("DE_PASSPORT", .pii, germanSerial, caseless: true, priority: 1, inField: { text, range, field in
        germanDocumentNumber(text, range, field, .passport)
    })

    /// German driving licence (card) numbers: two letters of the issuing authority, eight digits,
    /// one character; in capitals (in lower case only as a whole-field value).
    static let deDriverLicence = SensitiveRule("DE_FUEHRERSCHEIN", .pii, #"\b[A-Z]{2}[0-9]{8}[A-Z0-9]\b"#, caseless: true, priority: 2,
                                               inField: { text, range, field in
        guard Text.printedCase(text, range, field) else { return nil }
        return Set(text[(range.lowerBound + 2)..<(range.upperBound - 1)]).count > 1 ? range : nil
    })

    /// UK (DVLA) licence: surname (5, padded with 9), decade digit, month (+50 for women), day,
    /// year digit, two initials, a digit, two check characters.
    static let ukDrivingLicence = SensitiveRule(
        "UK_DRIVING_LICENCE", .pii, #"\b[A-Z][A-Z9]{4}[0-9][0156][0-9][0-3][0-9][0-9][A-Z9]{2}[0-9][A-Z0-9]{2}\b"#,
        caseless: true, priority: 3
    ) { text, range in
        let c = Text.compact(text, range)
        guard c.count == 16 else { return nil }
        let month = Int(c[6] - 0x30) * 10 + Int(c[7] - 0x30), day = Int(c[8] - 0x30) * 10 + Int(c[9] - 0x30)
        guard CheckDigits.plausibleDate(day: day, month: month > 50 ? month - 50 : month) else { return nil }
        // Padding 9s only after the letters of the name.
        let name = c[0..<5]
        if let firstNine = name.firstIndex(of: 0x39), name[firstNine...].contains(where: { $0 != 0x39 }) { return nil }
        return range
    }

    /// Spanish passport: three letters and six digits, with the word nearby.
    static let esPassport = SensitiveRule("ES_PASSPORT", .pii, #"\b[A-Z]{3}[0-9]{6}\b"#, caseless: true, priority: 3) { text, range in
        Text.hasContextAround(text, range, passportWords, window: 40) ? range : nil
    }

    /// Indian passport: a letter, seven digits (first and last not 0), with the word nearby.
    static let inPassport = SensitiveRule("IN_PASSPORT", .pii, #"\b[A-PR-WY][1-9][0-9]{5}[1-9]\b"#, priority: 3) { text, range in
        Text.hasContextAround(text, range, passportWords, window: 48) ? range : nil
    }

    /// US passport book/card numbers: nine digits or a letter and eight digits, with the word
    /// before it (also run together: "passportnumberis…").
    static let usPassport = SensitiveRule("US_PASSPORT", .pii, #"[0-9]{9}\b|\b[A-Z][0-9]{8}\b"#, priority: 4) { text, range in
        if range.lowerBound > 0, Text.isDigit(text[range.lowerBound - 1]) { return nil }
        return Text.hasContext(text, range, ["passport"], window: 48) ? range : nil
    }

    /// US bank account numbers: 8–17 digits with the account named before them.
    static let usBankNumber = SensitiveRule("US_BANK_NUMBER", .pii, #"\b[0-9]{8,17}\b"#, priority: 4) { text, range in
        guard Text.isolated(text, range) else { return nil }
        let words = ["bank account", "banking account", "account number", "account no", "acct", "checking account", "savings account"]
        return Text.hasContext(text, range, words, window: 40) ? range : nil
    }

    /// US driver licence numbers have one format per state: anchored on the words, the value is
    /// the next token (5–20 characters with a digit) within 32 bytes.
    static let usDriverLicense = SensitiveRule(
        "US_DRIVER_LICENSE", .pii, #"\bdriv(er|ing|ers|er's)[ \-]?licen[cs]e"#, caseless: true, priority: 4
    ) { text, range in
        let limit = min(text.count, range.upperBound + 32)
        var i = range.upperBound
        let filler: Set<String> = ["number", "no", "is", "num", "nr", "id", "#"]
        while i < limit {
            while i < limit, !Text.isAlnum(text[i]) && text[i] != 0x2A { i += 1 }
            let end = Text.extendRight(text, from: i, limit: 20) { Text.isAlnum($0) || $0 == 0x2A || $0 == 0x2D }
            guard end > i else { return nil }
            let token = text[i..<end]
            if filler.contains(String(decoding: token, as: UTF8.self).lowercased()) { i = end; continue }
            guard token.count >= 5, token.contains(where: Text.isDigit) else { return nil }
            return i..<end
        }
        return nil
    }

    /// Korean driver licence: region code (11–26, 28), issue year, six-digit serial, two check
    /// digits, printed 2-2-6-2 with hyphens or spaces; bare twelve digits only when named.
    static let krDriverLicense = SensitiveRule(
        "KR_DRIVER_LICENSE", .pii, #"\b[12][0-9][ \-]?[0-9]{2}[ \-]?[0-9]{6}[ \-]?[0-9]{2}\b"#, priority: 3
    ) { text, range in
        let d = Text.digitValues(text, range)
        let region = d[0] * 10 + d[1]
        guard d.count == 12, (11...26).contains(region) || region == 28, Text.isolated(text, range),
              Text.consistentSeparators(text, range) else { return nil }
        let grouped = range.count == 15
        guard grouped || Text.hasContextAround(text, range, ["driver", "licen", "운전면허"], window: 40) else { return nil }
        return range
    }

    /// DEA registration numbers (US prescriber licence): registrant type, a letter or 9, seven
    /// digits with the DEA check digit.
    static let medicalLicense = SensitiveRule(
        "MEDICAL_LICENSE", .pii, #"\b[ABCDEFGHJKLMPRSTUX][A-Z9][0-9]{7}\b"#, priority: 2
    ) { text, range in
        CheckDigits.dea(Text.digitValues(text, (range.lowerBound + 2)..<range.upperBound)) ? range : nil
    }
}

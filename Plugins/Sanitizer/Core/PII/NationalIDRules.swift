/// National identity, tax and health-insurance numbers beyond the first set in ``PIIRules``.
///
/// Policy: an identifier with a strong check (letters and digits in a fixed layout plus a check
/// character, or a long check like mod 89) is reported on its own; a bare run of digits with only
/// one mod-10/mod-11 check digit is everywhere in ordinary text (order numbers, amounts), so it is
/// reported only in its printed grouping, with a context word naming it, or as a whole-field value
/// (``ScanContext``: the candidate is the entire message or value, so the check is all there is to
/// go on and it holds). Rules with no check at all (BSNR) stay context-only.
public enum NationalIDRules {
    /// Every rule of this file.
    public static let all: [SensitiveRule] = [
        auABN, auACN, auTFN, auMedicare, deHealthInsurance, deSocialSecurity, deLANR, deBSNR, deVAT, deTaxNumber,
        deHandelsregister, krFRN, krBRN, thTNIN, seOrganisationsnummer, sgUEN, inGSTIN, inVoter, itVAT, usMBI, phTIN,
    ]

    /// A digits-only rule: `check` on the digits, then the printed grouping (`grouped`), one of
    /// `context` near the value, or — when `structural` (the check is a real check digit or code
    /// table, not just "not all zeros") — the value being the whole field.
    static func digitRule(_ type: String, _ expression: String, priority: Int = 2, count: ClosedRange<Int>,
                          context: [String], structural: Bool,
                          groupedOK: @escaping @Sendable ([UInt8], Range<Int>) -> Bool = { _, _ in false },
                          check: @escaping @Sendable ([Int]) -> Bool) -> SensitiveRule {
        SensitiveRule(type, .pii, expression, priority: priority, inField: { text, range, field in
            let d = Text.digitValues(text, range)
            guard count.contains(d.count), Text.isolated(text, range), Set(d).count > 1, check(d) else { return nil }
            guard groupedOK(text, range) || structural && field.isWholeField(range)
                  || Text.hasContextAround(text, range, context, window: 48) else { return nil }
            return range
        })
    }

    static let auABN = digitRule(
        "AU_ABN", #"\b[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}\b"#, priority: 3, count: 11...11,
        context: ["abn", "australian business"], structural: true,
        // Mod 89 is strong; the printed form is 2-3-3-3 with spaces.
        groupedOK: { text, range in range.count == 11 || range.count == 14 && Text.groupedBy(text, range, [0x20]) },
        check: CheckDigits.auABN)

    static let auACN = digitRule(
        "AU_ACN", #"\b[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{3}\b"#, priority: 3, count: 9...9, context: ["acn", "company number"], structural: true,
        check: CheckDigits.auACN)

    static let auTFN = digitRule(
        "AU_TFN", #"\b[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{3}\b"#, priority: 3, count: 9...9, context: ["tfn", "tax file"], structural: true,
        check: CheckDigits.auTFN)

    /// Medicare card number printed 4-5-1 (spaces, or hyphens); bare ten digits only when named or
    /// the whole field (first digit 2–6 and the check digit).
    static let auMedicare = digitRule(
        "AU_MEDICARE", #"\b[2-6][0-9]{3}[ \-]?[0-9]{5}[ \-]?[0-9]\b"#, priority: 3, count: 10...10, context: ["medicare"],
        structural: true,
        groupedOK: { text, range in
            range.count == 12 && Text.groupedBy(text, range, [0x20, 0x2D]) && !Text.isDigit(text[range.lowerBound + 4])
                && !Text.isDigit(text[range.lowerBound + 10])
        },
        check: CheckDigits.auMedicare)

    /// Krankenversichertennummer: letter + nine digits with a check digit (its layout is rare); the
    /// letter in lower case only as a whole-field value.
    static let deHealthInsurance = SensitiveRule("DE_HEALTH_INSURANCE", .pii, #"\b[A-Z][0-9]{9}\b"#, caseless: true, priority: 2,
                                                 inField: { text, range, field in
        guard Text.printedCase(text, range, field) else { return nil }
        let c = Text.compact(text, range)
        guard CheckDigits.deKVNR(c), Set(c.dropFirst()).count > 1 else { return nil }
        return range
    })

    static let deSocialSecurity = SensitiveRule(
        "DE_SOCIAL_SECURITY", .pii, #"\b[0-9]{2} ?[0-9]{6} ?[A-Z] ?[0-9]{3}\b"#, caseless: true, priority: 3
    ) { text, range in
        CheckDigits.deRVNR(Text.compact(text, range)) ? range : nil
    }

    static let deLANR = digitRule(
        "DE_LANR", #"\b[0-9]{9}\b"#, priority: 3, count: 9...9, context: ["lanr", "arztnummer", "arzt-nr"], structural: true,
        check: CheckDigits.deLANR)

    /// Betriebsstättennummer: nine digits with no check digit: context only (never whole-field).
    static let deBSNR = digitRule(
        "DE_BSNR", #"\b[0-9]{9}\b"#, priority: 3, count: 9...9, context: ["bsnr", "betriebsstätte"], structural: false,
        check: { d in d.contains { $0 != 0 } })

    /// USt-IdNr.: DE + nine digits, ISO 7064 MOD 11,10; the digits bare or in groups of three
    /// (spaces, hyphens or dots).
    static let deVAT = SensitiveRule(
        "DE_VAT_ID", .pii, #"\bDE[ \-.]?([0-9]{9}|[0-9]{3}[ \-.][0-9]{3}[ \-.][0-9]{3})\b"#, caseless: true, priority: 3
    ) { text, range in
        guard Text.consistentCase(text, range.lowerBound..<(range.lowerBound + 2)) else { return nil }
        let d = Text.digitValues(text, range)
        guard d.count == 9, d[0] != 0, Checksums.iso7064Mod11_10(d) else { return nil }
        return range
    }

    /// Steuernummer: the regional forms with slashes (2–3/3–4/4–5 digits) stand on their own; the
    /// 13-digit nationwide form needs a context word (then a Land code 01–16 first suffices), or is
    /// the whole field in the ELSTER layout (``CheckDigits/deElsterTaxNumber(_:)``: a Land's
    /// Bundesfinanzamtsnummer prefix, then 0).
    static let deTaxNumber = SensitiveRule(
        "DE_TAX_NUMBER", .pii, #"\b[0-9]{2,3}/[0-9]{3,4}/[0-9]{4,5}\b|\b[0-9]{13}\b"#, priority: 2, inField: { text, range, field in
        let d = Text.digitValues(text, range)
        if text[range].contains(0x2F) {
            guard (10...11).contains(d.count), Text.isolated(text, range), Set(d).count > 1 else { return nil }
            return range
        }
        guard d.count == 13 else { return nil }
        if field.isWholeField(range), CheckDigits.deElsterTaxNumber(d) { return range }
        let land = d[0] * 10 + d[1]
        guard (1...16).contains(land),
              Text.hasContextAround(text, range, ["steuernummer", "steuer-nr", "st.-nr", "stnr", "tax number"], window: 48) else { return nil }
        return range
    })

    /// Handelsregister numbers: HRA/HRB (also printed "HR B") then up to six digits; the letters
    /// in one case (typed in lower case too), mixed case is a word.
    static let deHandelsregister = SensitiveRule(
        "DE_HANDELSREGISTER", .pii, #"\bHR ?[AB] ?[1-9][0-9]{0,5}\b"#, caseless: true, priority: 2
    ) { text, range in
        if range.upperBound < text.count, Text.isDigit(text[range.upperBound]) { return nil }
        return Text.consistentCase(text, range) ? range : nil
    }

    /// Korean foreign registration number: birth date, then 5–8 (foreigner's sex/century digit).
    static let krFRN = SensitiveRule("KR_FRN", .pii, #"\b[0-9]{6}-?[5-8][0-9]{6}\b"#, priority: 3, inField: { text, range, field in
        let d = Text.digitValues(text, range)
        guard d.count == 13, CheckDigits.plausibleDate(day: d[4] * 10 + d[5], month: d[2] * 10 + d[3]) else { return nil }
        // The hyphenated form is how it is written; bare 13 digits need the name nearby, or are
        // the whole field with the check digit of numbers issued before October 2020
        // (``CheckDigits/krForeignRegistration(_:)``).
        guard text[range].contains(0x2D)
              || field.isWholeField(range) && CheckDigits.krForeignRegistration(d)
              || Text.hasContextAround(text, range, ["frn", "foreign", "외국인", "registration"], window: 48) else { return nil }
        return range
    })

    /// Korean business registration number: printed 3-2-5 (hyphens, or spaces), check digit (weights
    /// 1,3,7,1,3,7,1,3,5 plus ⌊5·d₉/10⌋); bare ten digits only when named. Not on the whole-field
    /// signal: the check passes one bare ten-digit run in ten and the layout (tax office 101–999,
    /// type 01–99, serial 0001–9999) hardly narrows it; measured, it found nothing another type
    /// had not already reported and added findings on other types' bare test numbers.
    static let krBRN = digitRule(
        "KR_BRN", #"\b[0-9]{3}[ \-]?[0-9]{2}[ \-]?[0-9]{5}\b"#, priority: 2, count: 10...10,
        context: ["brn", "business registration", "사업자", "등록번호"], structural: false,
        groupedOK: { text, range in
            range.count == 12 && Text.groupedBy(text, range, [0x2D, 0x20]) && !Text.isDigit(text[range.lowerBound + 3])
                && !Text.isDigit(text[range.lowerBound + 6])
        },
        check: CheckDigits.krBRN)

    /// Thai national id: 13 digits (first 1–8), mod 11; also printed 1-2345-67890-12-3.
    static let thTNIN = SensitiveRule(
        "TH_TNIN", .pii, #"\b[1-8][0-9]{12}\b|\b[1-8]-[0-9]{4}-[0-9]{5}-[0-9]{2}-[0-9]\b"#, priority: 3
    ) { text, range in
        let d = Text.digitValues(text, range)
        guard d.count == 13, Text.isolated(text, range), Set(d).count > 2, CheckDigits.thTNIN(d),
              CheckDigits.thaiProvince(d[1] * 10 + d[2]) else { return nil }
        return range
    }

    /// Swedish organisationsnummer (lag 1974:174, Skatteverket): ten digits — the group digit
    /// (1 estates, 2 state and municipalities, 3 foreign companies, 5 limited companies, 6 simple
    /// partnerships, 7 economic associations, 8 non-profit associations and foundations, 9 trading
    /// partnerships; never 0 or 4), a third digit of at least 2 (so the "month" is never a
    /// personnummer's), Luhn; also with the 16 prefix. Hyphenated, named, or the whole field. About
    /// one bare ten-digit run in sixteen passes, so the rule has the lowest priority: when another
    /// type's check holds on the same digits (an NHS or a Turkish number), that type is reported.
    static let seOrganisationsnummer = SensitiveRule(
        "SE_ORGANISATIONSNUMMER", .pii, #"\b(16)?[0-9]{6}-?[0-9]{4}\b"#, priority: 1, inField: { text, range, field in
        var d = Text.digitValues(text, range)
        if d.count == 12 { d.removeFirst(2) }
        guard d.count == 10, d[0] != 0, d[0] != 4, d[2] >= 2, Checksums.luhn(d), Set(d).count > 2 else { return nil }
        guard text[range].contains(0x2D) || field.isWholeField(range)
              || Text.hasContextAround(text, range, ["organisationsnummer", "orgnr", "org.nr", "org. nr", "org nr", "org.-nr",
                                                     "orgnummer", "company", "företag", "organisation number",
                                                     "organization number", "bolag"],
                                       window: 48) else { return nil }
        return range
    })

    static let sgUEN = SensitiveRule(
        "SG_UEN", .pii, #"\b[0-9]{8}[A-Z]\b|\b(19|20)[0-9]{7}[A-Z]\b|\b[TSR][0-9]{2}[A-Z]{2}[0-9]{4}[A-Z]\b"#, priority: 3
    ) { text, range in
        CheckDigits.sgUEN(Array(text[range])) ? range : nil
    }

    /// GSTIN: state code 01–37, a PAN, the entity number, `Z`, a check character.
    static let inGSTIN = SensitiveRule(
        "IN_GSTIN", .pii, #"\b[0-3][0-9][A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]\b"#, priority: 4
    ) { text, range in
        let state = Int(text[range.lowerBound] - 0x30) * 10 + Int(text[range.lowerBound + 1] - 0x30)
        return (1...37).contains(state) ? range : nil
    }

    /// Indian voter id (EPIC): three letters, seven digits.
    static let inVoter = SensitiveRule("IN_VOTER", .pii, #"\b[A-Z]{3}[0-9]{7}\b"#, caseless: true, priority: 2) { text, range in
        let c = Array(text[range])
        // Mixed-case letters are words, not ids.
        let letters = c.prefix(3)
        guard letters.allSatisfy(Text.isUpper) || letters.allSatisfy({ !Text.isUpper($0) }),
              Set(c.suffix(7)).count > 1 else { return nil }
        return range
    }

    static let itVAT = SensitiveRule("IT_VAT_CODE", .pii, #"\b[0-9]{11}\b"#, priority: 3) { text, range in
        CheckDigits.itVAT(Text.digitValues(text, range)) ? range : nil
    }

    /// Philippine Taxpayer Identification Number (BIR): a taxpayer-type digit, seven sequence
    /// digits and a check digit (``CheckDigits/phTIN(_:)``), then the three- or five-digit branch
    /// code (000 / 00000 for the head office), printed in groups of three with hyphens or spaces.
    /// A single mod-11 check digit that the BIR does not publish: reported only when named ("TIN",
    /// "BIR", "taxpayer identification", the short names as whole words), never on the
    /// whole-field signal alone.
    static let phTIN = SensitiveRule(
        "PH_TIN", .pii, #"\b[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{3}([ \-]?([0-9]{3}|[0-9]{5}))?\b"#, priority: 3
    ) { text, range in
        // The check digit from the bytes first (no allocation): most candidates fail it.
        var sum = 0, count = 0, check = -1
        for i in range where Text.isDigit(text[i]) {
            let v = Int(text[i] - 0x30)
            if count < 8 { sum += v * (9 - count) } else if count == 8 { check = v }
            count += 1
        }
        guard count == 9 || count == 12 || count == 14, sum % 11 == check, sum > 0 else { return nil }
        let d = Text.digitValues(text, range)
        guard Text.isolated(text, range), Text.consistentSeparators(text, range), CheckDigits.phTIN(Array(d.prefix(9))) else { return nil }
        let groups = text[range].split(whereSeparator: { !Text.isDigit($0) }).map(\.count)
        let layouts: [[Int]] = [[9], [12], [14], [3, 3, 3], [3, 3, 3, 3], [3, 3, 3, 5], [9, 3], [9, 5]]
        guard layouts.contains(groups),
              Text.hasContextWord(text, range, ["tin", "bir", "taxpayer identification", "taxpayer id"], window: 48) else { return nil }
        return range
    }

    /// Medicare Beneficiary Identifier: 11 characters in a fixed digit/letter layout (letters
    /// never S, L, O, I, B, Z), often printed 4-3-4.
    static let usMBI = SensitiveRule(
        "US_MBI", .pii,
        #"\b[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9]-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9]-?[AC-HJKMNP-RT-Y]{2}[0-9]{2}\b"#,
        caseless: true, priority: 3
    ) { text, range in
        let c = Array(text[range])
        let hyphens = c.filter { $0 == 0x2D }.count
        guard hyphens == 0 || hyphens == 2 else { return nil }
        // Mixed case is not how an identifier is printed.
        let letters = c.filter { Text.isAlnum($0) && !Text.isDigit($0) }
        guard letters.allSatisfy(Text.isUpper) || letters.allSatisfy({ !Text.isUpper($0) }) else { return nil }
        return range
    }
}

/// Country-specific phone numbers (plausible by country code, trunk prefix, area code and
/// length), phone numbers named by a context word, URLs and German postcodes.
public enum ContactRules {
    /// Every rule of this file.
    public static let all: [SensitiveRule] = [
        phMobile, trPhone, trPhoneGrouped, trPhoneNANPStyle, trPhoneNamed, phoneWithContext, cnMobileNamed, url, bareDomain, dePostcode,
    ]

    /// Types that are personal data only in some deployments (every link and postcode would
    /// otherwise be redacted): the sanitizer reports them only when `pii.types` names them.
    public static let optInTypes: Set<String> = ["URL", "DE_PLZ"]

    /// Philippine mobile numbers: +63 or trunk 0, then 9XX and seven digits.
    static let phMobile = SensitiveRule(
        "PH_MOBILE_NUMBER", .pii, #"(\+63|\b0)[ \-]?\(?9[0-9]{2}\)?[ \-]?[0-9]{3}[ \-]?[0-9]{4}\b"#, priority: 3
    ) { text, range in
        tenDigitNational(text, range)
    }

    /// Turkish numbers: +90 or trunk 0, area code 2XX–5XX (5XX mobile), seven digits; the groups
    /// separated by spaces, hyphens or dots (also right after the +90).
    static let trPhone = SensitiveRule(
        "TR_PHONE_NUMBER", .pii, #"(\+90|\b0)[ \-.]?\(?[2-5][0-9]{2}\)?[ \-.]?[0-9]{3}[ \-.]?[0-9]{2}[ \-.]?[0-9]{2}\b"#, priority: 3
    ) { text, range in
        tenDigitNational(text, range)
    }

    /// Turkish numbers without the trunk prefix in the Turkish 3-3-2-2 grouping.
    static let trPhoneGrouped = SensitiveRule(
        "TR_PHONE_NUMBER", .pii, #"\b[2-5][0-9]{2}[ \-.][0-9]{3}[ \-.][0-9]{2}[ \-.][0-9]{2}\b"#, priority: 2
    ) { text, range in
        Text.isolated(text, range) && Text.consistentSeparators(text, range) ? range : nil
    }

    /// Turkish numbers written as ten bare digits (area or mobile code 2XX–5XX), named in Turkish
    /// ("telefon", "cep", "GSM", "numara…"); or named as a phone in English when the number is in
    /// the Turkish plan (``turkishCode(_:)``) and cannot be a North American one (its exchange
    /// starts with 0 or 1), or such a number is the whole field. Ten bare digits alone in prose are
    /// too common to report.
    static let trPhoneNamed = SensitiveRule("TR_PHONE_NUMBER", .pii, #"\b[2-5][0-9]{9}\b"#, priority: 3, inField: { text, range, field in
        let d = Text.digitValues(text, range)
        guard Text.isolated(text, range), Set(d).count > 2 else { return nil }
        if Text.hasContext(text, range, ["telefon", "cep ", "cep:", "gsm", "numara", "irtibat", "iletişim"], window: 40) { return range }
        guard turkishCode(d[0] * 100 + d[1] * 10 + d[2]), !nanpPossible(d),
              field.isWholeField(range)
                || Text.hasContextWord(text, range, ["phone", "tel", "mobile", "cell", "call", "fax", "whatsapp", "contact"], window: 32)
        else { return nil }
        return range
    })

    /// Turkish numbers printed in the 3-3-4 grouping (532 123 4567) without the trunk 0: only when
    /// the code is in the Turkish plan and the number cannot be North American (exchange 0XX or
    /// 1XX), which the NANP rule would otherwise report.
    static let trPhoneNANPStyle = SensitiveRule(
        "TR_PHONE_NUMBER", .pii, #"\b[2-5][0-9]{2}[ \-.][01][0-9]{2}[ \-.][0-9]{4}\b"#, priority: 2
    ) { text, range in
        // The expression already requires an exchange starting with 0 or 1, so North American
        // numbers are no candidates (they would double the matches on text full of them).
        guard range.count == 12 else { return nil }
        let d = Text.digitValues(text, range)
        guard d.count == 10, turkishCode(d[0] * 100 + d[1] * 10 + d[2]), Text.isolated(text, range),
              Text.consistentSeparators(text, range), Set(d).count > 2, !Text.inGroupedRun(text, range) else { return nil }
        return range
    }

    /// Turkish geographic area codes (BTK numbering plan); the mobile operator codes (501,
    /// 505–507, 530–549, 551–555, 559, 561) are in ``turkishCode(_:)``.
    static let turkishAreaCodes: Set<Int> = [
        212, 216, 222, 224, 226, 228, 232, 236, 242, 246, 248, 252, 256, 258, 262, 264, 266, 272, 274, 276, 282, 284, 286, 288,
        312, 318, 322, 324, 326, 328, 332, 338, 342, 344, 346, 348, 352, 354, 356, 358, 362, 364, 366, 368, 370, 372, 374, 376,
        378, 380, 382, 384, 386, 388, 412, 414, 416, 422, 424, 426, 428, 432, 434, 436, 438, 442, 446, 452, 454, 456, 458, 462,
        464, 466, 472, 474, 476, 478, 482, 484, 486, 488,
    ]

    /// Whether `code` (the first three national digits) is a Turkish area or mobile code.
    static func turkishCode(_ code: Int) -> Bool {
        turkishAreaCodes.contains(code) || [501, 505, 506, 507, 559, 561].contains(code) || (530...549).contains(code)
            || (551...555).contains(code)
    }

    /// Whether ten digits can be a North American number: area and exchange codes both [2-9]XX.
    static func nanpPossible(_ d: [Int]) -> Bool {
        d.count == 10 && d[0] >= 2 && d[3] >= 2
    }

    /// Ten-digit numbers written without the usual separators, named as a phone number.
    static let phoneWithContext = SensitiveRule(
        "PHONE_NUMBER", .pii, #"\b[0-9]{3}[ \-]?[0-9]{7}\b"#, priority: 1
    ) { text, range in
        guard Text.isolated(text, range), Set(Text.digitValues(text, range)).count > 2 else { return nil }
        let words = ["phone", "tel", "mobile", "cell", "call", "fax", "whatsapp", "contact"]
        return Text.hasContext(text, range, words, window: 32) ? range : nil
    }

    /// http(s)/ftp URLs and `www.` hosts with a real-looking domain (two or more labels, an
    /// alphabetic top-level label); the path is grown in Swift.
    static let url = SensitiveRule("URL", .pii, #"\b(https?|ftp)://[A-Za-z0-9]|\bwww\.[A-Za-z0-9]"#, caseless: true, priority: 0) { text, range in
        var hostStart = range.upperBound - 1
        let isWWW = Text.upper(text[range.lowerBound]) == UInt8(ascii: "W")
        if isWWW { hostStart = range.lowerBound }
        let hostEnd = Text.extendRight(text, from: hostStart, limit: 253) { Text.isAlnum($0) || $0 == 0x2D || $0 == 0x2E }
        var host = text[hostStart..<hostEnd]
        while let last = host.last, last == 0x2E { host = host.dropLast() }
        let labels = host.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 }), let tld = labels.last,
              tld.count >= 2, tld.allSatisfy({ Text.isAlnum($0) && !Text.isDigit($0) }) else { return nil }
        if isWWW, labels.count < 3 { return nil }
        // Path, query and fragment: URL characters up to whitespace or a closing delimiter.
        var end = Text.extendRight(text, from: host.endIndex, limit: 2048) { b in
            b > 0x20 && b < 0x7F && b != 0x22 && b != 0x27 && b != 0x3C && b != 0x3E && b != 0x60
        }
        while end > host.endIndex, [0x2E, 0x2C, 0x3B, 0x3A, 0x29, 0x21, 0x3F].contains(text[end - 1]) { end -= 1 }
        return range.lowerBound..<end
    }

    /// German postcodes (01001–99998): written D-12345, named by a postcode or address word before
    /// or after them, or standing in a German address after the street and house number and before
    /// the place name (``PostalAddress``). A bare five-digit number stays unreported: no check.
    static let dePostcode = SensitiveRule("DE_PLZ", .pii, #"\b[0-9]{5}\b"#, priority: 1) { text, range in
        let value = Text.digitValues(text, range).reduce(0) { $0 * 10 + $1 }
        guard (1001...99998).contains(value), Text.isolated(text, range) else { return nil }
        let prefixed = range.lowerBound >= 2 && text[range.lowerBound - 1] == 0x2D && Text.upper(text[range.lowerBound - 2]) == 0x44
        guard prefixed || PostalAddress.named(text, range) || PostalAddress.inAddressShape(text, range) else { return nil }
        return range
    }

    /// Chinese mobile numbers (MIIT plan: eleven digits, 13x–19x) written without +86: no check,
    /// so only when a phone word or a China marker stands before or after them in the sentence
    /// (short words whole, so "cn" does not match inside a word).
    static let cnMobileNamed = SensitiveRule("PHONE_NUMBER", .pii, #"\b1[3-9][0-9]{9}\b"#, priority: 1) { text, range in
        guard Text.isolated(text, range), Set(Text.digitValues(text, range)).count > 2 else { return nil }
        let words = ["phone", "mobile", "cell", "tel", "call", "whatsapp", "wechat", "china", "chinese", "cn", "prc"]
        guard Text.hasContextWordAround(text, range, words, window: 40)
              || Text.hasContextAround(text, range, ["手机", "电话", "号码", "联系"], window: 40) else { return nil }
        return range
    }

    /// A number written with a two-digit country code (`+63`, `+90`) or a trunk `0` whose
    /// national part has ten digits, standing on its own.
    static func tenDigitNational(_ text: [UInt8], _ range: Range<Int>) -> Range<Int>? {
        let d = Text.digitValues(text, range)
        let national = text[range.lowerBound] == 0x2B ? d.count - 2 : d.count - 1
        guard national == 10, Text.isolated(text, range) else { return nil }
        return range
    }
}

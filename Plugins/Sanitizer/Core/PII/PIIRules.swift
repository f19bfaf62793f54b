/// The personal-data detectors. Each candidate expression is deliberately loose; the validators
/// carry the precision (check digits where the identifier has one, context words where it has
/// none). Types follow Presidio's names so that evaluations line up.
public enum PIIRules {
    /// Every PII rule: the ones below and those of ``NationalIDRules``, ``DocumentRules``,
    /// ``VehicleRules`` and ``ContactRules``.
    /// Rules of a type with a label route (``ValueLabels``) also accept a value of the type's shape
    /// whose check fails when a label names the type right before it.
    public static let all: [SensitiveRule] = ValueLabels.withLabelRoute(
        core + NationalIDRules.all + DocumentRules.all + VehicleRules.all + ContactRules.all)

    /// The rules defined in this file.
    static let core: [SensitiveRule] = [
        email, phoneInternational, phoneNANP, phoneLocal, creditCard, iban, usSSN, usITIN, ukNINO, ukNHS, esNIF, esNIE,
        itFiscalCode, ipv4, ipv6, macAddress, caSIN, plPESEL, fiPIC, trNationalID, inAadhaar, inPAN, sePersonnummer,
        zaID, abaRouting, usNPI, sgNRIC, krRRN, deTaxID, bitcoin,
    ]

    /// Anchored on `@`; the local part and the domain are grown in Swift (bounded: 64 + 253
    /// bytes), which keeps the Hyperscan pattern small.
    static let email = SensitiveRule("EMAIL_ADDRESS", .pii, #"[A-Za-z0-9._%+\-]@[A-Za-z0-9]"#, priority: 5) { text, range in
        emailAddress(text, at: range.lowerBound + 1)
    }

    /// The address around the `@` at `at`: local part (at most 64 bytes) and domain (at most 253,
    /// two or more labels of at most 63, an alphabetic-bearing top label). No allocation.
    static func emailAddress(_ text: [UInt8], at: Int) -> Range<Int>? {
        guard at < text.count, text[at] == UInt8(ascii: "@") else { return nil }
        let start = Text.extendLeft(text, to: at, limit: 64) { b in
            Text.isAlnum(b) || b == 0x2E || b == 0x5F || b == 0x25 || b == 0x2B || b == 0x2D
        }
        var end = Text.extendRight(text, from: at + 1, limit: 253) { Text.isAlnum($0) || $0 == 0x2D || $0 == 0x2E }
        while end > at + 1, text[end - 1] == 0x2E || text[end - 1] == 0x2D { end -= 1 }
        guard start < at, end > at + 1, text[start] != 0x2E, text[at - 1] != 0x2E else { return nil }
        // Walk the domain's labels.
        var labels = 0, labelStart = at + 1, topHasLetter = false
        var i = at + 1
        while i <= end {
            if i == end || text[i] == 0x2E {
                let length = i - labelStart
                guard length > 0, length <= 63, text[labelStart] != 0x2D, text[i - 1] != 0x2D else { return nil }
                labels += 1
                topHasLetter = false
                for j in labelStart..<i where !Text.isDigit(text[j]) { topHasLetter = true; break }
                if i == end { guard length >= 2 else { return nil } }
                labelStart = i + 1
            }
            i += 1
        }
        guard labels >= 2, topHasLetter else { return nil }
        return start..<end
    }

    /// +CC then 6–14 more digits in groups. Anchored on `+` and the first digits; the groups are
    /// grown in Swift (one candidate per number instead of one per possible end).
    static let phoneInternational = SensitiveRule(
        "PHONE_NUMBER", .pii, #"\+[1-9][0-9]{0,2}[ .\-]?\(?[0-9]"#, priority: 2
    ) { text, range in
        if range.lowerBound > 0, Text.isAlnum(text[range.lowerBound - 1]) || text[range.lowerBound - 1] == 0x2B { return nil }
        // Digits, single separators between groups and one parenthesised area code.
        var end = range.lowerBound + 1, digits = 0, distinct: UInt16 = 0, lastDigitEnd = end, parens = 0
        while end < text.count, end - range.lowerBound < 24 {
            let b = text[end]
            if Text.isDigit(b) {
                digits += 1
                distinct |= 1 << UInt16(b - 0x30)
                end += 1
                lastDigitEnd = end
                continue
            }
            let separator = b == 0x20 || b == 0x2E || b == 0x2D
            let paren = b == 0x28 || b == 0x29
            guard separator || paren, end + 1 < text.count else { break }
            if paren {
                parens += 1
                guard parens <= 2 else { break }
            } else if !Text.isDigit(text[end + 1]) && text[end + 1] != 0x28 {
                break
            }
            end += 1
        }
        let candidate = range.lowerBound..<lastDigitEnd
        var open = 0, close = 0
        for i in candidate { if text[i] == 0x28 { open += 1 } else if text[i] == 0x29 { close += 1 } }
        guard (8...15).contains(digits), distinct.nonzeroBitCount > 2, open == close, Text.isolated(text, candidate) else { return nil }
        return candidate
    }

    /// North American numbers: (415) 555-0132, 415-555-0132, 415.555.0132.
    static let phoneNANP = SensitiveRule(
        "PHONE_NUMBER", .pii, #"(\([2-9][0-9]{2}\) ?|\b[2-9][0-9]{2}[ .\-])[2-9][0-9]{2}[ .\-][0-9]{4}\b"#, priority: 1
    ) { text, range in
        Text.isolated(text, range) ? range : nil
    }

    /// National numbers with a trunk 0: 09-7625400, 020 7946 0958, 0151 1234567.
    static let phoneLocal = SensitiveRule(
        "PHONE_NUMBER", .pii, #"\b0[1-9][0-9]{0,3}[ \-/][0-9]{3,4}[ \-]?[0-9]{3,4}\b"#, priority: 1
    ) { text, range in
        let d = Checksums.digits(text[range])
        guard (9...12).contains(d.count), Text.isolated(text, range), !Text.inGroupedRun(text, range) else { return nil }
        return range
    }

    static let creditCard = SensitiveRule(
        "CREDIT_CARD", .pii, #"\b[0-9]([ \-]?[0-9]){12,18}\b"#, priority: 4
    ) { text, range in
        // The candidate may carry extra leading digit groups ("ref 12 4012 8888 …"): try every
        // start at a group boundary.
        var starts = [range.lowerBound]
        for i in range where i > range.lowerBound && !Text.isDigit(text[i - 1]) && Text.isDigit(text[i]) { starts.append(i) }
        for start in starts {
            let sub = start..<range.upperBound
            let d = Checksums.digits(text[sub])
            guard (13...19).contains(d.count) else { continue }
            if Text.consistentSeparators(text, sub), Text.isolated(text, sub), Checksums.luhn(d), CardIssuers.plausible(d),
               Set(d).count >= 2, !Text.inGroupedRun(text, sub) { return sub }
        }
        return nil
    }

    /// IBAN lengths by country (ISO 13616 registry).
    static let ibanLengths: [String: Int] = [
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
        "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
        "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
        "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
        "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
        "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SD": 18,
        "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22,
        "VG": 24, "XK": 20, "BI": 27, "DJ": 27, "FK": 18, "MN": 20, "NI": 28, "OM": 23, "RU": 33, "SO": 23,
    ]

    static let iban = SensitiveRule(
        "IBAN_CODE", .pii, #"\b[A-Z]{2}[0-9]{2}([ \-]?[A-Z0-9]){11,30}\b"#, priority: 4
    ) { text, range in
        guard Text.consistentSeparators(text, range) else { return nil }
        let compact = Text.compact(text, range)
        let country = String(decoding: compact.prefix(2), as: UTF8.self)
        guard let length = ibanLengths[country], compact.count == length, Checksums.ibanMod97(compact) else { return nil }
        // Grouped form: groups of four.
        let groups = text[range].split(whereSeparator: { $0 == 0x20 || $0 == 0x2D })
        if groups.count > 1, !groups.dropLast().allSatisfy({ $0.count == 4 }) { return nil }
        return range
    }

    static let usSSN = SensitiveRule(
        "US_SSN", .pii, #"\b[0-9]{3}[ .\-]?[0-9]{2}[ .\-]?[0-9]{4}\b"#, priority: 3
    ) { text, range in
        let d = Checksums.digits(text[range])
        guard d.count == 9, Text.isolated(text, range), Text.consistentSeparators(text, range) else { return nil }
        let area = d[0] * 100 + d[1] * 10 + d[2], group = d[3] * 10 + d[4]
        let serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8]
        guard area != 0, area != 666, area < 900, group != 0, serial != 0, Set(d).count > 1 else { return nil }
        let separated = range.count > 9
        if !separated || text[range].contains(0x20) {
            // Bare nine digits (or space-separated) are common: require context.
            guard Text.hasContext(text, range, ["ssn", "social security", "social sec", "ss#", "ss #"], window: 48) || separated else { return nil }
        }
        // Separators must sit at 3 and 5 (078-05-1123), not elsewhere, unless the number is named.
        if separated, !Text.hasContext(text, range, ["ssn", "social security"], window: 48) {
            let seps = text[range].enumerated().filter { !Text.isDigit($0.element) }.map(\.offset)
            guard seps == [3, 6] else { return nil }
        }
        return range
    }

    static let usITIN = SensitiveRule(
        "US_ITIN", .pii, #"\b9[0-9]{2}[ \-]?(5[0-9]|6[0-5]|7[0-9]|8[0-8]|9[0-24-9])[ \-]?[0-9]{4}\b"#, priority: 3
    ) { text, range in
        guard Text.isolated(text, range), Text.consistentSeparators(text, range) else { return nil }
        let seps = text[range].enumerated().filter { !Text.isDigit($0.element) }.map(\.offset)
        let named = Text.hasContext(text, range, ["itin", "taxpayer", "tax id", "tin"], window: 48)
        // Printed 9XX-XX-XXXX; other groupings and bare digits only when named.
        guard seps == [3, 6] || named else { return nil }
        return range
    }

    static let ukNINO = SensitiveRule(
        "UK_NINO", .pii, #"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b"#, caseless: true, priority: 3
    ) { text, range in
        let c = Text.compact(text, range)
        let prefix = String(decoding: c.prefix(2), as: UTF8.self)
        guard !["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"].contains(prefix) else { return nil }
        return range
    }

    static let ukNHS = SensitiveRule(
        "UK_NHS", .pii, #"\b[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{4}\b"#, priority: 2, inField: { text, range, field in
        let d = Text.digitValues(text, range)
        guard d.count == 10 else { return nil }
        var sum = 0
        for i in 0..<9 { sum += d[i] * (10 - i) }
        var check = 11 - sum % 11
        if check == 11 { check = 0 }
        guard check != 10, check == d[9], Text.consistentSeparators(text, range), Text.isolated(text, range), Set(d).count > 1 else { return nil }
        // Ten digits also look like phone numbers. The printed 3-3-4 grouping stands on its own
        // when it cannot be a North American number (area or exchange code starting with 0 or 1);
        // otherwise the number must be named or be the whole field.
        let grouped = range.count == 12 && !Text.isDigit(text[range.lowerBound + 3]) && !Text.isDigit(text[range.lowerBound + 7])
        if grouped, d[0] < 2 || d[3] < 2 { return range }
        guard field.isWholeField(range)
              || Text.hasContextAround(text, range, ["nhs", "health service", "patient", "health"], window: 64) else { return nil }
        return range
    })

    static let dniLetters = Array("TRWAGMYFPDXBNJZSQVHLCKE".utf8)

    static let esNIF = SensitiveRule(
        "ES_NIF", .pii, #"\b[0-9]{7,8}-?[A-Z]\b"#, caseless: true, priority: 3
    ) { text, range in
        let c = Text.compact(text, range)
        guard let letter = c.last else { return nil }
        let number = Checksums.digits(c).reduce(0) { $0 * 10 + $1 }
        return dniLetters[number % 23] == letter ? range : nil
    }

    static let esNIE = SensitiveRule(
        "ES_NIE", .pii, #"\b[XYZ]-?[0-9]{7}-?[A-Z]\b"#, caseless: true, priority: 3
    ) { text, range in
        let c = Text.compact(text, range)
        guard let first = c.first, let letter = c.last else { return nil }
        let lead = first == UInt8(ascii: "X") ? 0 : first == UInt8(ascii: "Y") ? 1 : 2
        let number = Checksums.digits(c).reduce(lead) { $0 * 10 + $1 }
        return dniLetters[number % 23] == letter ? range : nil
    }

    static let itFiscalCode = SensitiveRule(
        "IT_FISCAL_CODE", .pii, #"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b"#,
        caseless: true, priority: 3
    ) { text, range in
        let c = Text.compact(text, range)
        guard c.count == 16 else { return nil }
        let odd: [Int] = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
        var sum = 0
        for (index, byte) in c.prefix(15).enumerated() {
            let value = Text.isDigit(byte) ? Int(byte - 0x30) : Int(byte - 0x41)
            sum += index % 2 == 0 ? odd[value] : value
        }
        return Int(c[15] - 0x41) == sum % 26 ? range : nil
    }

    /// Every syntactically valid IPv4 address (four decimal octets ≤ 255, no leading zeros).
    /// Private, loopback and other special-purpose addresses are reported too (an internal
    /// address still tells where someone works or lives on a network); ``publicOnly(_:)`` drops
    /// them when `pii.private_ip_addresses` is off.
    static let ipv4 = SensitiveRule(
        "IP_ADDRESS", .pii, #"\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b"#, priority: 2
    ) { text, range in
        guard Text.isolated(text, range) else { return nil }
        let parts = text[range].split(separator: 0x2E)
        guard parts.count == 4, parts.allSatisfy({ p in
            let v = p.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            return v <= 255 && (p.count == 1 || p.first != 0x30)
        }) else { return nil }
        guard IPAddress.parseIPv4(String(decoding: text[range], as: UTF8.self)) != nil else { return nil }
        return range
    }

    /// IPv6 in full, compressed (`::`, and the short `::1` form as its own alternative so that a
    /// single colon after a hex-ending word is no candidate) and IPv4-embedding forms, parsed. A compressed form needs
    /// a decimal digit and more than the bare `::`, so C++ scopes (`A::B`), Haskell signatures
    /// (`x :: Int`) and `std::cout` stay out.
    static let ipv6 = SensitiveRule(
        "IP_ADDRESS", .pii, #"([0-9A-Fa-f]{1,4}|:)(:[0-9A-Fa-f]{0,4}){2,7}(\.[0-9]{1,3}){0,3}|::[0-9A-Fa-f]{1,4}"#, priority: 2
    ) { text, range in
        if range.lowerBound > 0, Text.isAlnum(text[range.lowerBound - 1]) || text[range.lowerBound - 1] == 0x3A { return nil }
        if range.upperBound < text.count, Text.isAlnum(text[range.upperBound]) || text[range.upperBound] == 0x3A { return nil }
        // A dot after the address ends a sentence unless a digit follows (then it is a longer token).
        if range.upperBound + 1 < text.count, text[range.upperBound] == 0x2E, Text.isAlnum(text[range.upperBound + 1]) { return nil }
        // Cheap shape checks before parsing: a digit, and either `::` or seven colons (six
        // before an embedded IPv4 tail); times (10:30:00) and ratios fail here.
        var colons = 0, compressed = false, dotted = false, digit = false
        for i in range {
            let b = text[i]
            if b == 0x3A {
                colons += 1
                if i + 1 < range.upperBound, text[i + 1] == 0x3A { compressed = true }
            } else if b == 0x2E {
                dotted = true
            } else if Text.isDigit(b) {
                digit = true
            }
        }
        guard digit, compressed || colons == (dotted ? 6 : 7) else { return nil }
        guard IPAddress.parseIPv6(String(decoding: text[range], as: UTF8.self)) != nil else { return nil }
        return range
    }

    /// `rule` (an IP rule) restricted to addresses that can point at one person's machine:
    /// public unicast, documentation ranges included (they stand in for real addresses).
    /// Private, loopback, link-local, unique-local, unspecified, carrier-NAT, multicast and
    /// broadcast addresses are dropped. Used when `pii.private_ip_addresses` is false.
    public static func publicOnly(_ rule: SensitiveRule) -> SensitiveRule {
        SensitiveRule(rule.type, rule.category, rule.expression, caseless: rule.caseless, priority: rule.priority,
                      inField: { text, range, context in
            guard let found = rule.validate(text, range, context) else { return nil }
            let literal = String(decoding: text[found], as: UTF8.self)
            guard let address = IPAddress.parseIPv4(literal) ?? IPAddress.parseIPv6(literal), identifiesHost(address) else { return nil }
            return found
        })
    }

    /// Whether an address can point at a person's machine: public unicast (documentation ranges
    /// included, as they stand in for real addresses), not private, loopback, link-local,
    /// unspecified, carrier-NAT, multicast or broadcast addresses.
    static func identifiesHost(_ address: IPAddress) -> Bool {
        if case .v4(let a) = address, a == 0xFFFF_FFFF { return false }
        if case .v6(let p) = address, let v4 = address.embeddedIPv4, v4 == 0xFFFF_FFFF, p[5] == 0xFFFF { return false }
        guard let special = address.specialRange else { return true }
        let nonIdentifying = ["this-network", "private", "loopback", "link-local", "unique-local", "site-local", "unspecified",
                              "multicast", "shared CGNAT"]
        return !nonIdentifying.contains { special.hasPrefix($0) }
    }

    static let macAddress = SensitiveRule(
        "MAC_ADDRESS", .pii, #"\b([0-9A-Fa-f]{2}[:\-]){5}[0-9A-Fa-f]{2}\b|\b[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\b"#, priority: 2
    ) { text, range in
        guard Text.consistentSeparators(text, range) else { return nil }
        if range.upperBound < text.count, text[range.upperBound] == 0x3A || text[range.upperBound] == 0x2D { return nil }
        // The null and broadcast addresses belong to no device.
        let hex = Text.compact(text, range)
        if hex.allSatisfy({ $0 == 0x30 }) || hex.allSatisfy({ $0 == 0x46 }) { return nil }
        return range
    }

    static let caSIN = SensitiveRule(
        "CA_SIN", .pii, #"\b[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{3}\b"#, priority: 2
    ) { text, range in
        let d = Checksums.digits(text[range])
        guard d.count == 9, Text.isolated(text, range), Text.consistentSeparators(text, range), let f = d.first, f != 0, f != 8,
              Checksums.luhn(d), Set(d).count > 2 else { return nil }
        guard range.count == 11 || Text.hasContext(text, range, ["sin", "social insurance", "nas"], window: 48) else { return nil }
        return range
    }

    static let plPESEL = SensitiveRule("PL_PESEL", .pii, #"\b[0-9]{11}\b"#, priority: 3) { text, range in
        let d = Checksums.digits(text[range])
        guard d.count == 11 else { return nil }
        let check = (10 - Checksums.weighted(d, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]) % 10) % 10
        // The month carries the century: 01–12 for the 1900s, 21–32 for the 2000s (80s, 40s and
        // 60s offsets are the 1800s, 2100s and 2200s: nobody living has one). The date must exist.
        let encoded = d[2] * 10 + d[3]
        guard check == d[10], encoded <= 32 else { return nil }
        let year = (encoded > 20 ? 2000 : 1900) + d[0] * 10 + d[1]
        guard CalendarDate.isValid(year: year, month: encoded % 20, day: d[4] * 10 + d[5]), Set(d).count > 1 else { return nil }
        return range
    }

    static let fiPIC = SensitiveRule(
        "FI_PERSONAL_IDENTITY_CODE", .pii, #"[0-9]{6}[+\-A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y]\b"#, caseless: true, priority: 3
    ) { text, range in
        // Run-on text ("code is030594…") is fine; a longer number is not.
        if range.lowerBound > 0, Text.isDigit(text[range.lowerBound - 1]) { return nil }
        let b = Array(text[range]).map(Text.upper)
        guard b.count == 11 else { return nil }
        let number = Checksums.digits(b[0..<6] + b[7..<10]).reduce(0) { $0 * 10 + $1 }
        let table = Array("0123456789ABCDEFHJKLMNPRSTUVWXY".utf8)
        let day = Int(b[0] - 0x30) * 10 + Int(b[1] - 0x30), month = Int(b[2] - 0x30) * 10 + Int(b[3] - 0x30)
        // Century from the separator: + 1800s, - Y X W V U 1900s, A–F 2000s.
        let century = b[6] == 0x2B ? 1800 : (0x41...0x46).contains(b[6]) ? 2000 : 1900
        let year = century + Int(b[4] - 0x30) * 10 + Int(b[5] - 0x30)
        guard CalendarDate.isValid(year: year, month: month, day: day), table[number % 31] == b[10] else { return nil }
        return range
    }

    static let trNationalID = SensitiveRule("TR_NATIONAL_ID", .pii, #"\b[1-9][0-9]{10}\b"#, priority: 3) { text, range in
        let d = Checksums.digits(text[range])
        guard d.count == 11 else { return nil }
        let odd = d[0] + d[2] + d[4] + d[6] + d[8], even = d[1] + d[3] + d[5] + d[7]
        let tenth = ((odd * 7 - even) % 10 + 10) % 10
        let eleventh = d[0..<10].reduce(0, +) % 10
        return tenth == d[9] && eleventh == d[10] ? range : nil
    }

    static let inAadhaar = SensitiveRule("IN_AADHAAR", .pii, #"\b[2-9][0-9]{3}[ :\-]?[0-9]{4}[ :\-]?[0-9]{4}\b"#, priority: 3) { text, range in
        let d = Checksums.digits(text[range])
        guard d.count == 12, Text.isolated(text, range), Text.consistentSeparators(text, range), Checksums.verhoeff(d),
              Set(d).count > 2, !Text.inGroupedRun(text, range) else { return nil }
        // Groups inside a longer colon-separated run (an IPv6 address, a time) are not one: a
        // colon right before or after, when the number itself is colon-separated or a digit sits
        // on the colon's far side ("Aadhaar:2345 6789 0124" stays).
        let colonSeparated = text[range].contains(0x3A)
        if range.lowerBound > 0, text[range.lowerBound - 1] == 0x3A,
           colonSeparated || range.lowerBound > 1 && Text.isDigit(text[range.lowerBound - 2]) { return nil }
        if range.upperBound < text.count, text[range.upperBound] == 0x3A,
           colonSeparated || range.upperBound + 1 < text.count && Text.isDigit(text[range.upperBound + 1]) { return nil }
        return range
    }

    /// PAN: five letters, four digits, a letter; the fourth letter is the holder type (P person,
    /// C company, H HUF, F firm, A AOP, T trust, B BOI, L local authority, J juridical person,
    /// G government). Other fourth letters only when the number is named or is the whole field
    /// (the layout is then the structure).
    static let inPAN = SensitiveRule("IN_PAN", .pii, #"\b[A-Z]{5}[0-9]{4}[A-Z]\b"#, priority: 2, inField: { text, range, field in
        let holder = text[range.lowerBound + 3]
        if Array("ABCFGHJLPT".utf8).contains(holder) || field.isWholeField(range) { return range }
        return Text.hasContext(text, range, ["pan", "permanent account"], window: 40) ? range : nil
    })

    static let sePersonnummer = SensitiveRule(
        "SE_PERSONNUMMER", .pii, #"([0-9]{2})?[0-9]{6}[\-+]?[0-9]{4}\b"#, priority: 2, inField: { text, range, field in
        if range.lowerBound > 0, Text.isDigit(text[range.lowerBound - 1]) { return nil }
        var d = Checksums.digits(text[range])
        guard d.count == 10 || d.count == 12 else { return nil }
        var century: Int?
        if d.count == 12 {
            century = d[0] * 10 + d[1]
            d.removeFirst(2)
        }
        let month = d[2] * 10 + d[3], day = d[4] * 10 + d[5]
        guard (1...12).contains(month), (1...31).contains(day % 60), Checksums.luhn(d) else { return nil }
        // With the century (18, 19, 20) and a real calendar date the number stands on its own;
        // ten bare digits are too common: then the separator, context or the whole field (ten
        // digits whose date exists in the 1900s or 2000s) is required.
        if let century, (18...20).contains(century),
           CalendarDate.isValid(year: century * 100 + d[0] * 10 + d[1], month: month, day: day % 60) { return range }
        guard text[range].contains(0x2D) || text[range].contains(0x2B)
              || field.isWholeField(range) && range.count == 10 && day < 60 && Self.swedishDateExists(d)
              || Text.hasContext(text, range, ["personnummer", "person number", "swedish"], window: 64) else { return nil }
        return range
    })

    /// Whether the six date digits of a ten-digit personnummer (YYMMDD, no century) are a real
    /// date in 1900–1999 or 2000–2099.
    static func swedishDateExists(_ d: [Int]) -> Bool {
        let yy = d[0] * 10 + d[1], month = d[2] * 10 + d[3], day = d[4] * 10 + d[5]
        return CalendarDate.isValid(year: 1900 + yy, month: month, day: day) || CalendarDate.isValid(year: 2000 + yy, month: month, day: day)
    }

    static let zaID = SensitiveRule("ZA_ID_NUMBER", .pii, #"\b[0-9]{13}\b"#, priority: 2) { text, range in
        let d = Checksums.digits(text[range])
        guard d.count == 13 else { return nil }
        let month = d[2] * 10 + d[3], day = d[4] * 10 + d[5]
        guard (1...12).contains(month), (1...31).contains(day), d[10] <= 2, Checksums.luhn(d) else { return nil }
        return range
    }

    /// ABA routing number: Federal Reserve prefix (00–12, 21–32, 61–72, 80) and the 3-7-1
    /// checksum; printed 4-4-1 with hyphens, or named, or the whole field.
    static let abaRouting = SensitiveRule("ABA_ROUTING_NUMBER", .pii, #"\b[0-9]{4}-?[0-9]{4}-?[0-9]\b"#, priority: 1,
                                          inField: { text, range, field in
        let d = Checksums.digits(text[range])
        guard d.count == 9, Text.isolated(text, range) else { return nil }
        let prefix = d[0] * 10 + d[1]
        guard (0...12).contains(prefix) || (21...32).contains(prefix) || (61...72).contains(prefix) || prefix == 80 else { return nil }
        guard Checksums.weighted(d, [3, 7, 1, 3, 7, 1, 3, 7, 1]) % 10 == 0, Set(d).count > 2 else { return nil }
        guard text[range].contains(0x2D) || field.isWholeField(range)
              || Text.hasContext(text, range, ["routing", "aba", "rtn", "bank"], window: 64) else { return nil }
        return range
    })

    /// US National Provider Identifier: first digit 1 or 2, Luhn over 80840 + the ten digits;
    /// named, or the whole field.
    /// NPI: ten digits, first 1 or 2, Luhn over 80840 and the number; bare or printed 4-3-3 with
    /// one separator (space or hyphen) throughout; named (before or after) or the whole field.
    static let usNPI = SensitiveRule("US_NPI", .pii, #"\b[12][0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{3}\b"#, priority: 1,
                                     inField: { text, range, field in
        let d = Checksums.digits(text[range])
        guard d.count == 10, range.count == 10 || range.count == 12 && Text.groupedBy(text, range, [0x20, 0x2D]),
              Text.isolated(text, range), Checksums.luhn([8, 0, 8, 4, 0] + d), Set(d).count > 2,
              field.isWholeField(range) || Text.hasContextAround(text, range, ["npi", "provider", "national provider"], window: 64)
        else { return nil }
        return range
    })

    static let sgNRIC = SensitiveRule("SG_NRIC_FIN", .pii, #"\b[STFGM][0-9]{7}[A-Z]\b"#, caseless: true, priority: 3) { text, range in
        let c = Text.compact(text, range)
        guard c.count == 9 else { return nil }
        let d = Checksums.digits(c[1..<8])
        var sum = Checksums.weighted(d, [2, 7, 6, 5, 4, 3, 2])
        let prefix = c[0]
        if prefix == UInt8(ascii: "T") || prefix == UInt8(ascii: "G") { sum += 4 }
        if prefix == UInt8(ascii: "M") { sum += 3 }
        let table: [UInt8]
        switch prefix {
        case UInt8(ascii: "S"), UInt8(ascii: "T"): table = Array("JZIHGFEDCBA".utf8)
        case UInt8(ascii: "M"): table = Array("XWUTRQPNJLK".utf8)
        default: table = Array("XWUTRQPNMLK".utf8)
        }
        return table[sum % 11] == c[8] ? range : nil
    }

    static let krRRN = SensitiveRule("KR_RRN", .pii, #"\b[0-9]{6}-?[1-4][0-9]{6}\b"#, priority: 3) { text, range in
        let d = Checksums.digits(text[range])
        guard d.count == 13 else { return nil }
        let month = d[2] * 10 + d[3], day = d[4] * 10 + d[5]
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        // Numbers issued since October 2020 have no check digit: the hyphenated form with a valid
        // date stands; bare 13 digits need the old check digit or the name nearby.
        if text[range].contains(0x2D) { return range }
        return CheckDigits.krRegistration(d) || Text.hasContext(text, range, ["rrn", "resident registration", "주민"], window: 48) ? range : nil
    }

    static let deTaxID = SensitiveRule("DE_TAX_ID", .pii, #"\b[1-9][0-9]{10}\b|\b[1-9][0-9] [0-9]{3} [0-9]{3} [0-9]{3}\b"#, priority: 2,
                                       inField: { text, range, field in
        let d = Checksums.digits(text[range])
        guard d.count == 11, Checksums.iso7064Mod11_10(d) else { return nil }
        // One digit appears two or three times in the first ten, the others at most once.
        var counts = [Int](repeating: 0, count: 10)
        for x in d.prefix(10) { counts[x] += 1 }
        // Named as the Steuer-ID: the check digit suffices. Named only loosely ("tax", "tin") or
        // the whole field: the digit-distribution rule of issued numbers must hold as well.
        if Text.hasContextAround(text, range, ["steuer-id", "steuerid", "steuer id", "idnr", "identifikationsnummer", "tax id"],
                                 window: 48) { return range }
        guard counts.filter({ $0 >= 2 }).count == 1, counts.max() ?? 0 <= 3,
              field.isWholeField(range) || Text.hasContext(text, range, ["steuer", "tax", "tin"], window: 64) else { return nil }
        return range
    })

    static let bitcoin = SensitiveRule(
        "CRYPTO", .pii, #"\b(bc1[02-9ac-hj-np-z]{25,87}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b"#, priority: 3
    ) { text, range in
        let value = Array(text[range])
        if value.starts(with: Array("bc1".utf8)) { return Checksums.bech32(value) ? range : nil }
        return Checksums.base58Check(value) ? range : nil
    }
}

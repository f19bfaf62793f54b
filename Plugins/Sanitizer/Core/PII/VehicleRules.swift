/// Vehicle registration plates in their national layouts (registration is personal data: it
/// leads to the keeper). The layouts are validated beyond the expression: UK age identifiers,
/// Turkish province codes, Indian state codes; mixed-case candidates are words, not plates.
public enum VehicleRules {
    /// Every rule of this file.
    public static let all: [SensitiveRule] = [ukRegistration, deKFZ, trPlate, ngRegistration, inRegistration]

    /// Current UK format (2001–): area (no I, Q, Z), age identifier (March: YY, September:
    /// YY+50), three random letters (no I, Q).
    static let ukRegistration = SensitiveRule(
        "UK_VEHICLE_REGISTRATION", .pii, #"\b[A-HJ-PR-Y][A-HJ-PR-Y][0-9]{2}[ \-]?[A-HJ-PR-Z]{3}\b"#, caseless: true, priority: 2
    ) { text, range in
        guard Text.consistentCase(text, range) else { return nil }
        let age = Int(text[range.lowerBound + 2] - 0x30) * 10 + Int(text[range.lowerBound + 3] - 0x30)
        // Issued so far: 02–29 and 51–79 (the age identifier grows by one every six months).
        guard (2...29).contains(age) || (51...79).contains(age) else { return nil }
        return range
    }

    /// German plates: district (1–3 letters), 1–2 letters, 1–4 digits, optional E (electric) or
    /// H (historic); printed with a separator between district and letters, in capitals (in lower
    /// case only as a whole-field value).
    static let deKFZ = SensitiveRule(
        "DE_KFZ", .pii, #"\b[A-Z]{1,3}[ \-][A-Z]{1,2}[ \-]?[1-9][0-9]{0,3}[EH]?\b"#, caseless: true, priority: 2,
        inField: { text, range, field in
        guard Text.printedCase(text, range, field) else { return nil }
        let c = Text.compact(text, range)
        // At most eight characters, plus the E (electric) or H (historic) suffix.
        guard c.count <= 8 || c.count == 9 && (c.last == UInt8(ascii: "E") || c.last == UInt8(ascii: "H")) else { return nil }
        // Words in capitals ("I AM 2") are not plates: the letter groups must not be common words.
        let groups = text[range].split(whereSeparator: { $0 == 0x20 || $0 == 0x2D }).map { String(decoding: $0, as: UTF8.self).uppercased() }
        guard groups.count >= 2, !(capsWords.contains(groups[0]) && capsWords.contains(groups[1])) else { return nil }
        return range
    })

    static let capsWords: Set<String> = [
        "I", "A", "AM", "PM", "AN", "AT", "BE", "BY", "DO", "GO", "HE", "IF", "IN", "IS", "IT", "ME", "MY", "NO", "OF", "ON", "OR",
        "SO", "TO", "UP", "US", "WE", "THE", "AND", "FOR", "ARE", "CAN", "DER", "DIE", "DAS", "UND", "IM", "ES", "ER", "SIE", "WIR",
        "VON", "ZU", "UM",
    ]

    /// Turkish plates: province 01–81, 1–3 letters, 2–4 digits; in capitals (in lower case only
    /// as a whole-field value).
    static let trPlate = SensitiveRule(
        "TR_LICENSE_PLATE", .pii, #"\b(0[1-9]|[1-7][0-9]|8[01]) ?[A-Z]{1,3} ?[0-9]{2,4}\b"#, caseless: true, priority: 2,
        inField: { text, range, field in
        guard Text.printedCase(text, range, field) else { return nil }
        let spaces = text[range].filter { $0 == 0x20 }.count
        guard spaces == 0 || spaces == 2 else { return nil }
        let letters = String(decoding: text[range].filter { Text.isAlnum($0) && !Text.isDigit($0) }.map(Text.upper), as: UTF8.self)
        guard !["AM", "PM"].contains(letters) else { return nil }
        return range
    })

    /// Nigerian plates: local government code (3 letters), 3 digits, 2 letters.
    static let ngRegistration = SensitiveRule(
        "NG_VEHICLE_REGISTRATION", .pii, #"\b[A-Z]{3}[ \-]?[0-9]{3}[A-Z]{2}\b"#, caseless: true, priority: 2
    ) { text, range in
        Text.consistentCase(text, range) ? range : nil
    }

    static let indianStates = #"(AN|AP|AR|AS|BR|CG|CH|DD|DL|DN|GA|GJ|HP|HR|JH|JK|KA|KL|LA|LD|MH|ML|MN|MP|MZ|NL|OD|OR|PB|PY|RJ|SK|TN|TR|TS|UK|UP|WB)"#

    /// Indian plates: state code, district number, 0–3 series letters, four digits.
    static let inRegistration = SensitiveRule(
        "IN_VEHICLE_REGISTRATION", .pii, #"\b"# + indianStates + #"[ \-]?[0-9]{1,2}[ \-]?[A-Z]{0,3}[ \-]?[0-9]{4}\b"#, priority: 2
    ) { text, range in
        let d = Text.digitValues(text, range)
        guard d.count >= 5, d.suffix(4).contains(where: { $0 != 0 }), !Text.inGroupedRun(text, range) else { return nil }
        // Without series letters the district number and the number are written apart
        // ("DL 1 1234"); one run of five or six digits after a state code is something else.
        let body = text[(range.lowerBound + 2)..<range.upperBound].drop { !Text.isAlnum($0) }
        if !body.contains(where: { Text.isUpper($0) }), body.allSatisfy(Text.isDigit) { return nil }
        return range
    }
}

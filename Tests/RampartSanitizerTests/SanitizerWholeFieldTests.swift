import XCTest
@testable import RampartSanitizerCore

/// The whole-field signal (``ScanContext``): a bare identifier with a structural check that is the
/// entire scanned field counts as named; the same value in prose, in a fragment (stream output) or
/// with a failing check does not. Every value is invented and made to satisfy (or, in the second
/// column, to fail) the real check of its type.
final class SanitizerWholeFieldTests: XCTestCase {
    /// (valid value, the same value with its check digit or code broken, type).
    static let values: [(String, String, String)] = [
        ("238034056", "238034057", "AU_ACN"),
        ("396056478", "396056479", "AU_TFN"),
        ("890457848", "890457948", "DE_LANR"),  // the seventh digit is the check, the last two the specialty
        ("058115141", "058115142", "ABA_ROUTING_NUMBER"),
        ("4726720241", "4726720251", "AU_MEDICARE"),  // the ninth digit is the check, the tenth the issue
        ("3121377714", "3122377714", "TR_PHONE_NUMBER"),  // broken: exchange 2XX can be North American
        ("4329587629", "4329587620", "UK_NHS"),
        ("2001845033", "2001845034", "US_NPI"),
        ("9904185916", "9904185917", "SE_PERSONNUMMER"),
        ("10346583979", "10346583970", "DE_TAX_ID"),
        ("7009076180354", "7009076180355", "KR_FRN"),
        ("9123093052663", "6023093052663", "DE_TAX_NUMBER"),  // broken: 60 is no Land's tax-office prefix
        ("5387403818", "5387403819", "SE_ORGANISATIONSNUMMER"),
        ("LZ6R47VN3", "LA6R47VN3", "DE_ID_CARD"),  // no check of its own: broken by a vowel, outside the alphabet
        ("GR7N40C25", "BR7N40C25", "DE_PASSPORT"),  // broken: B is no document's leading letter
    ]

    func scan(_ text: String, _ scope: ScanScope) throws -> [SensitiveFinding] {
        try XCTUnwrap(defaultScanner).scan(text, scope: scope)
    }

    func types(_ text: String, _ scope: ScanScope) throws -> Set<String> {
        Set(try scan(text, scope).map(\.type))
    }

    func testFieldValueIsTheTextWithoutSurroundingSpaceAndTrailingPunctuation() {
        XCTAssertEqual(ScanContext(Array("  4329587629.\n".utf8), scope: .field).fieldValue, 2..<12)
        XCTAssertEqual(ScanContext(Array("4329587629?!".utf8), scope: .field).fieldValue, 0..<10)
        XCTAssertEqual(ScanContext(Array("\t4329587629 ".utf8), scope: .field).fieldValue, 1..<11)
        XCTAssertNil(ScanContext(Array("4329587629".utf8), scope: .fragment).fieldValue)
        XCTAssertNil(ScanContext(Array(" .. ".utf8), scope: .field).fieldValue)
        XCTAssertNil(ScanContext(Array("".utf8), scope: .field).fieldValue)
        // Leading punctuation is part of the field: "(4329587629" is not the bare value.
        XCTAssertEqual(ScanContext(Array("(4329587629".utf8), scope: .field).fieldValue, 0..<11)
        XCTAssertTrue(ScanContext(fieldValue: 3..<7).isWholeField(3..<7))
        XCTAssertFalse(ScanContext(fieldValue: 3..<7).isWholeField(3..<6))
        XCTAssertFalse(ScanContext.fragment.isWholeField(0..<10))
    }

    func testCheckAlgorithmsBehindTheNewAcceptances() {
        XCTAssertTrue(CheckDigits.deElsterTaxNumber([9, 1, 2, 3, 0, 9, 3, 0, 5, 2, 6, 6, 3]), "Bayern: 9 + Finanzamt, then 0")
        XCTAssertTrue(CheckDigits.deElsterTaxNumber([2, 8, 2, 3, 0, 0, 6, 9, 8, 8, 0, 9, 2]), "Baden-Württemberg: 28")
        XCTAssertTrue(CheckDigits.deElsterTaxNumber([5, 1, 3, 3, 0, 8, 1, 5, 0, 8, 1, 5, 9]), "Nordrhein-Westfalen: 5")
        XCTAssertFalse(CheckDigits.deElsterTaxNumber([6, 0, 2, 3, 0, 9, 3, 0, 5, 2, 6, 6, 3]), "60 is no Land prefix")
        XCTAssertFalse(CheckDigits.deElsterTaxNumber([1, 6, 2, 3, 0, 9, 3, 0, 5, 2, 6, 6, 3]), "16 is no Land prefix")
        XCTAssertFalse(CheckDigits.deElsterTaxNumber([9, 1, 2, 3, 4, 9, 3, 0, 5, 2, 6, 6, 3]), "fifth digit must be 0")
        XCTAssertFalse(CheckDigits.deElsterTaxNumber([9, 1, 2, 3, 0, 9, 3, 0, 5, 2, 6, 6]), "12 digits")
        XCTAssertTrue(CheckDigits.krRegistration([7, 4, 1, 0, 1, 4, 6, 7, 5, 4, 2, 0, 4]))
        XCTAssertFalse(CheckDigits.krRegistration([7, 4, 1, 0, 1, 4, 6, 7, 5, 4, 2, 0, 5]))
        // Foreigners' numbers: (13 − sum mod 11) mod 10, not the residents' (11 − …).
        XCTAssertTrue(CheckDigits.krForeignRegistration([7, 0, 0, 9, 0, 7, 6, 1, 8, 0, 3, 5, 4]))
        XCTAssertFalse(CheckDigits.krForeignRegistration([7, 4, 1, 0, 1, 4, 6, 7, 5, 4, 2, 0, 4]))
        XCTAssertFalse(CheckDigits.krRegistration([7, 0, 0, 9, 0, 7, 6, 1, 8, 0, 3, 5, 4]))
    }

    func testWholeFieldValuesWithAStructuralCheckAreReported() throws {
        for (value, _, type) in Self.values {
            for field in [value, "  \(value)\n", "\(value).", "\(value)!"] {
                let found = try scan(field, .field)
                XCTAssertEqual(found.map(\.type), [type], "\(type) as the whole field \(field.debugDescription)")
                if let first = found.first {
                    XCTAssertEqual(String(decoding: Array(field.utf8)[first.range], as: UTF8.self), value)
                }
            }
        }
    }

    func testTheSameValuesInProseWithoutContextAreNotReported() throws {
        for (value, _, type) in Self.values {
            for prose in ["Order \(value) shipped today.", "\(value) items were counted", "we counted \(value)", "ref: \(value) / \(value)"] {
                XCTAssertFalse(try types(prose, .field).contains(type), "\(type) reported in prose: \(prose)")
            }
        }
    }

    func testAFragmentIsNeverAWholeField() throws {
        for (value, _, type) in Self.values {
            XCTAssertFalse(try types(value, .fragment).contains(type), "\(type) reported in a fragment: \(value)")
        }
    }

    func testChecksumFailingVariantsAreRefused() throws {
        for (_, broken, type) in Self.values {
            XCTAssertFalse(try types(broken, .field).contains(type), "\(type) reported for the broken value \(broken)")
        }
    }

    func testTenDigitNumbersInProseAreNotReported() throws {
        // A Unix timestamp and an order number in prose: no finding of any type.
        for text in ["The job ran at 1732934400 and finished.", "created 1700000000, updated 1732934400",
                     "Your order 4329587629 ships tomorrow.", "invoice 2001845033 is paid"] {
            XCTAssertEqual(try scan(text, .field), [], text)
        }
    }

    func testRulesLeftOutOfTheSignalStayContextOnly() throws {
        // Valid check digits, but measured the whole-field signal found less than it cost on
        // these (SIN and business registration numbers pass one bare number in ten; the PH TIN
        // check is not published): grouped or named only.
        for (value, type, named) in [("394742597", "CA_SIN", "SIN 394742597"), ("662897523", "PH_TIN", "TIN 662897523"),
                                     ("2178141480", "KR_BRN", "사업자 2178141480")] {
            XCTAssertFalse(try types(value, .field).contains(type), "\(type) on the whole-field signal: \(value)")
            XCTAssertTrue(try types(named, .field).contains(type), "\(type) named: \(named)")
        }
    }

    func testOrganisationsnummerNeedsItsGroupDigitAndYieldsToOtherTypes() throws {
        // Luhn holds on each of these; the layout does not: group digit 4 (or 0) is never
        // assigned, a third digit below 2 is a personnummer's month.
        for value in ["4387403811", "0387403819", "5312403818"] {
            XCTAssertFalse(try types(value, .field).contains("SE_ORGANISATIONSNUMMER"), value)
        }
        XCTAssertTrue(try types("org.nr 538740-3818", .fragment).contains("SE_ORGANISATIONSNUMMER"))
        XCTAssertTrue(try types("165387403818", .field).contains("SE_ORGANISATIONSNUMMER"))
        // One bare ten-digit run in sixteen passes: when another type's check holds too (here
        // the Medicare weights, the NHS mod 11), that type is reported.
        XCTAssertTrue(Checksums.luhn([5, 0, 2, 0, 1, 1, 2, 3, 4, 7]))
        XCTAssertEqual(try types("5020112347", .field), ["AU_MEDICARE"])
        XCTAssertTrue(Checksums.luhn([8, 1, 7, 2, 3, 6, 1, 0, 9, 2]))
        XCTAssertEqual(try types("8172361092", .field), ["UK_NHS"])
    }

    func testRulesWithoutACheckStayContextOnly() throws {
        let withOptIn = try SensitiveDataScanner(rules: PIIRules.all)
        // Nine digits without a check (BSNR), a postcode, bare SSN-shaped digits and an account
        // number: the whole field is not enough.
        XCTAssertFalse(Set(try withOptIn.scan("174839205", scope: .field).map(\.type)).contains("DE_BSNR"))
        XCTAssertFalse(Set(try withOptIn.scan("52070", scope: .field).map(\.type)).contains("DE_PLZ"))
        XCTAssertFalse(Set(try withOptIn.scan("536224170", scope: .field).map(\.type)).contains("US_SSN"))
        XCTAssertFalse(Set(try withOptIn.scan("48213377120", scope: .field).map(\.type)).contains("US_BANK_NUMBER"))
        // Named, they are still reported.
        XCTAssertTrue(Set(try withOptIn.scan("BSNR 174839205", scope: .field).map(\.type)).contains("DE_BSNR"))
        XCTAssertTrue(Set(try withOptIn.scan("PLZ 52070", scope: .field).map(\.type)).contains("DE_PLZ"))
    }

    func testLowerCaseLayoutsOnlyAsWholeFieldValues() throws {
        // Plates, KVNR and licence numbers are printed in capitals; typed into a form they may be
        // lower case. In prose lower case is a word, so only the whole field counts.
        let cases: [(String, String)] = [
            ("k ab 4711", "DE_KFZ"), ("hh-xy-88e", "DE_KFZ"), ("06 rt 4471", "TR_LICENSE_PLATE"),
            ("k407182539", "DE_HEALTH_INSURANCE"), ("kr73920418x", "DE_FUEHRERSCHEIN"),
        ]
        for (value, type) in cases {
            XCTAssertEqual(try types(value, .field), [type], value)
            XCTAssertEqual(try types(value.uppercased(), .fragment), [type], value.uppercased())
            XCTAssertFalse(try types(value, .fragment).contains(type), "lower case in a fragment: \(value)")
            XCTAssertFalse(try types("see \(value) here", .field).contains(type), "lower case in prose: \(value)")
        }
        // Mixed case is a word even as the whole field; the KVNR check digit still applies.
        XCTAssertFalse(try types("K ab 4711", .field).contains("DE_KFZ"))
        XCTAssertFalse(try types("k407182538", .field).contains("DE_HEALTH_INSURANCE"))
        // Common words around a number are not a plate.
        XCTAssertFalse(try types("is at 5", .field).contains("DE_KFZ"))
        XCTAssertFalse(try types("go to 12", .field).contains("DE_KFZ"))
    }

    func testPANWithAnUnissuedHolderLetterAsAWholeFieldValue() throws {
        // Fourth letter S is no issued holder type: the layout alone counts only as the whole field
        // (or with the name nearby); an issued one (P) stands anywhere.
        XCTAssertTrue(try types("KQRSM4821W", .field).contains("IN_PAN"))
        XCTAssertTrue(try types("PAN KQRSM4821W", .fragment).contains("IN_PAN"))
        XCTAssertTrue(try types("ref KQRPM4821W sent", .field).contains("IN_PAN"))
        for (text, scope) in [("KQRSM4821W", ScanScope.fragment), ("ref KQRSM4821W sent", .field), ("KQRSM482W", .field)] {
            XCTAssertFalse(try types(text, scope).contains("IN_PAN"), "\(text) (\(scope))")
        }
    }

    func testAValueOfSeveralTypesNamesThemAll() throws {
        // Luhn and the organisation-number layout hold, and so do the Medicare weights / the NHS
        // mod 11: one finding, the overlap winner first, the other type as its alternative.
        for (value, first) in [("5020112347", "AU_MEDICARE"), ("8172361092", "UK_NHS")] {
            let found = try scan(value, .field)
            XCTAssertEqual(found.count, 1, value)
            XCTAssertEqual(found.first?.type, first, value)
            XCTAssertEqual(found.first?.alternatives, [.init(type: "SE_ORGANISATIONSNUMMER", category: .pii)], value)
            XCTAssertEqual(found.first?.types, [first, "SE_ORGANISATIONSNUMMER"], value)
        }
        // A value of one type has none; a shorter value inside a longer finding is no alternative.
        XCTAssertEqual(try scan("4329587629", .field).map(\.alternatives), [[]])
        XCTAssertEqual(try scan("mail jane.doe@example.com now", .field).map(\.alternatives), [[]])
    }

    func testPolicyAppliesToEveryTypeOfAValue() throws {
        // `pii.types` naming only the alternative still redacts the value (fail closed), under that type.
        for (types, expected) in [("SE_ORGANISATIONSNUMMER", "[SE_ORGANISATIONSNUMMER_1]"), ("UK_NHS", "[UK_NHS_1]"),
                                  ("EMAIL_ADDRESS", "8172361092")] {
            let config = try SanitizerConfig.parse(#"{"pii": {"types": ["\#(types)"]}}"#)
            let out = try Sanitizer(config: config).sanitize(RequestInput(prompt: "8172361092"), session: SanitizerSession())
            XCTAssertEqual(out.request.prompt, expected, types)
        }
    }

    func testReportsNameEveryTypeOfAValue() throws {
        // The finding, the denial (and so the audit line) and the output report name the types
        // the value was read as, the one policy acted on first.
        let sanitizer = try Sanitizer()
        let out = try sanitizer.sanitize(RequestInput(prompt: "8172361092"), session: SanitizerSession())
        XCTAssertEqual(out.findings, [SanitizerFinding("pii", "user: UK_NHS|SE_ORGANISATIONSNUMMER")])
        let selected = try Sanitizer(config: try SanitizerConfig.parse(#"{"pii": {"types": ["SE_ORGANISATIONSNUMMER"]}}"#))
        XCTAssertEqual(try selected.sanitize(RequestInput(prompt: "8172361092"), session: SanitizerSession()).findings,
                       [SanitizerFinding("pii", "user: SE_ORGANISATIONSNUMMER|UK_NHS")])
        let deny = try Sanitizer(config: try SanitizerConfig.parse(#"{"pii": {"action": "deny"}}"#))
        XCTAssertThrowsError(try deny.sanitize(RequestInput(prompt: "8172361092"), session: SanitizerSession())) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.message, "user content contains personal data (UK_NHS|SE_ORGANISATIONSNUMMER)")
        }
        // The output side scans fragments, where the organisation number needs its name: a
        // labelled NHS number there is one type.
        let output = try sanitizer.checkOutput("NHS no 8172361092 and jane@example.com", session: SanitizerSession())
        XCTAssertEqual(output.findings, [SanitizerFinding("output_redacted", "EMAIL_ADDRESS,UK_NHS")])
        // A value of one type reads as before.
        XCTAssertEqual(try sanitizer.sanitize(RequestInput(prompt: "mail jane@example.com"), session: SanitizerSession()).findings,
                       [SanitizerFinding("pii", "user: EMAIL_ADDRESS")])
    }

    func testReadingAFindingAsAnotherCategory() {
        let finding = SensitiveFinding(type: "UK_NHS", category: .pii, range: 0..<10,
                                       alternatives: [.init(type: "SOME_TOKEN", category: .secret), .init(type: "AU_TFN", category: .pii)])
        XCTAssertEqual(finding.reading(as: .pii), finding)
        let secret = finding.reading(as: .secret)
        XCTAssertEqual(secret?.type, "SOME_TOKEN")
        XCTAssertEqual(secret?.category, .secret)
        XCTAssertEqual(secret?.types, ["SOME_TOKEN", "UK_NHS", "AU_TFN"])
        XCTAssertEqual(finding.reading(as: .pii) { $0 == "AU_TFN" }?.type, "AU_TFN")
        XCTAssertNil(finding.reading(as: .pii) { $0 == "EMAIL_ADDRESS" })
        XCTAssertNil(SensitiveFinding(type: "UK_NHS", category: .pii, range: 0..<10).reading(as: .secret))
    }

    func testMessagesAreFieldsForTheSanitizer() throws {
        let sanitizer = try Sanitizer()
        let alone = try sanitizer.sanitize(RequestInput(messages: [MessageInput(role: .user, content: "4329587629\n")]),
                                           session: SanitizerSession())
        XCTAssertEqual(alone.request.messages[0].content, "[UK_NHS_1]\n")
        let prose = try sanitizer.sanitize(RequestInput(messages: [MessageInput(role: .user, content: "ticket 4329587629 closed")]),
                                           session: SanitizerSession())
        XCTAssertEqual(prose.request.messages[0].content, "ticket 4329587629 closed")
        let prompt = try sanitizer.sanitize(RequestInput(prompt: "4726720241"), session: SanitizerSession())
        XCTAssertEqual(prompt.request.prompt, "[AU_MEDICARE_1]")
    }

    func testOutputIsScannedAsFragmentsAndLogsAsFields() throws {
        let sanitizer = try Sanitizer()
        let session = SanitizerSession()
        _ = try sanitizer.sanitize(RequestInput(prompt: "hi"), session: session)
        // The output side never applies the signal: a chunk or the held tail is not a field.
        var out = try sanitizer.filterChunk("4329587629", session: session)
        out += try sanitizer.filterChunk("", session: session)
        XCTAssertEqual(out, "4329587629")
        XCTAssertEqual(try sanitizer.checkOutput("4329587629", session: SanitizerSession()).text, "4329587629")
        // A value logged alone is redacted wherever the request side would redact it.
        XCTAssertEqual(sanitizer.redactForLogs("4329587629"), "[UK_NHS_1]")
        XCTAssertEqual(sanitizer.redactForLogs("4329587629", scope: .fragment), "4329587629")
        XCTAssertEqual(sanitizer.redactForLogs("ticket 4329587629 closed"), "ticket 4329587629 closed")
    }
}

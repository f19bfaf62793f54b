import XCTest
@testable import RampartSanitizerCore

/// IP addresses of every range, the private-address option, and the recognisers tightened or
/// widened for issue 6 (PESEL dates, Singapore M-series FINs, printed NHS numbers, named
/// Steuer-IDs, grouped USt-IdNr., glued Discord tokens, digit groups inside longer runs). Every
/// value is invented: valid ones were computed to satisfy the check, invalid ones differ from
/// them in one place.
final class SanitizerPIIRecallTests: XCTestCase, ScannerAssertions {

    func testEveryValidIPAddressIsReportedByDefault() throws {
        try assertFound([
            ("gateway 192.168.1.1", "IP_ADDRESS"), ("loopback 127.0.0.1", "IP_ADDRESS"), ("metadata 169.254.169.254", "IP_ADDRESS"),
            ("local ::1", "IP_ADDRESS"), ("link fe80::1%eth0", "IP_ADDRESS"), ("mapped ::ffff:10.0.0.1", "IP_ADDRESS"),
            ("bcast 255.255.255.255", "IP_ADDRESS"), ("(10.20.30.40)", "IP_ADDRESS"), ("route 10.0.0.0/8.", "IP_ADDRESS"),
            ("prefix fd12:3456:789a::/48", "IP_ADDRESS"), ("[::ffff:172.16.5.4]:443", "IP_ADDRESS"),
            ("full 2a02:8070:1c2:0:0:0:0:41", "IP_ADDRESS"), ("host 81.2.69.160", "IP_ADDRESS"),
            // Three of its groups read as a Verhoeff-valid Aadhaar number: the address wins.
            ("ip 2a02:1111:2345:6789:0124:5555:6:77", "IP_ADDRESS"),
        ])
        try assertNotFound([
            ("std::cout << x", "IP_ADDRESS"), ("x :: Int", "IP_ADDRESS"), ("A::B and Base::run", "IP_ADDRESS"),
            ("at 12:34:56", "IP_ADDRESS"), ("ratio 1:2:3:4", "IP_ADDRESS"), ("ports 80:443", "IP_ADDRESS"),
            ("version 1.2.3", "IP_ADDRESS"), ("version 1.2.3.4.5", "IP_ADDRESS"), ("ip 256.1.1.1", "IP_ADDRESS"),
            ("ip 1.2.3.04", "IP_ADDRESS"), ("bad 2001::db8::1", "IP_ADDRESS"), ("odd :::", "IP_ADDRESS"),
            ("glued text10.1.2.3", "IP_ADDRESS"), ("short 192.168.1", "IP_ADDRESS"),
        ])
        try assertNotFound([("ip 2a02:1111:2345:6789:0124:5555:6:77", "IN_AADHAAR"), ("t 11:2345 6789 0124", "IN_AADHAAR")])
        try assertFound([("Aadhaar:2345 6789 0124", "IN_AADHAAR"), ("UID:2345 6789 0124.", "IN_AADHAAR")])
    }

    func testPrivateAddressesCanBeExempted() throws {
        let config = try SanitizerConfig.parse(#"{"pii": {"private_ip_addresses": false}}"#)
        XCTAssertFalse(config.privateIPAddresses)
        XCTAssertTrue(try SanitizerConfig.parse("").privateIPAddresses, "reported by default")
        XCTAssertThrowsError(try SanitizerConfig.parse(#"{"pii": {"private_ip_addresses": "no"}}"#))

        let exempting = try Sanitizer(config: config)
        let request = RequestInput(messages: [MessageInput(
            role: .user, content: "ping 10.0.0.1, ::1, fe80::1 and ::ffff:192.168.1.1 but also 81.2.69.160 and 2001:db8::7")])
        let text = try exempting.sanitize(request, session: SanitizerSession()).request.messages[0].content
        for kept in ["10.0.0.1", "::1", "fe80::1", "::ffff:192.168.1.1"] { XCTAssertTrue(text.contains(kept), "\(kept) redacted: \(text)") }
        XCTAssertFalse(text.contains("81.2.69.160"), text)
        XCTAssertFalse(text.contains("2001:db8::7"), text)

        let reporting = try Sanitizer()
        let all = try reporting.sanitize(request, session: SanitizerSession()).request.messages[0].content
        for redacted in ["10.0.0.1", "fe80::1", "81.2.69.160"] { XCTAssertFalse(all.contains(redacted), "\(redacted) kept: \(all)") }
    }

    func testPESELNeedsAnExistingBirthDateOfALivingCentury() throws {
        try assertFound([("PESEL 87120415378", "PL_PESEL"), ("nr 03251708411", "PL_PESEL")])
        try assertNotFound([
            ("nr 87120415379", "PL_PESEL"),   // check digit
            ("nr 87130415379", "PL_PESEL"),   // month 13
            ("nr 87410415376", "PL_PESEL"),   // the 2100s
            ("nr 87023015374", "PL_PESEL"),   // 30 February
        ])
    }

    func testSingaporeMSeriesUsesItsOwnCheckTable() throws {
        try assertFound([("FIN M5071234J", "SG_NRIC_FIN"), ("FIN M6243187X", "SG_NRIC_FIN")])
        // Unlabelled: a letter from the other table fails (labelled, the label route of
        // ``ValueLabels`` reports a value of the shape whatever its check letter).
        try assertNotFound([("ref M5071234K", "SG_NRIC_FIN"), ("ref M6243187K", "SG_NRIC_FIN")])
    }

    func testPrintedNHSNumbers() throws {
        try assertFound([
            ("ref 485 017 2636", "UK_NHS"),         // exchange 0xx: no North American number
            ("ref 120-563-4800", "UK_NHS"),         // area 1xx
            ("NHS number 943 476 5919", "UK_NHS"),  // could be a phone: named
        ])
        try assertNotFound([
            ("ref 485 017 2637", "UK_NHS"),         // check digit
            ("call 943 476 5919", "UK_NHS"),        // phone-shaped and not named
            ("ref 4850172636", "UK_NHS"),           // bare ten digits, not named
        ])
    }

    func testSteuerIDNamedOrDistributed() throws {
        try assertFound([
            ("Steuer-ID: 29384756103", "DE_TAX_ID"),              // named: the check digit suffices
            ("IdNr. 81739250465 liegt vor", "DE_TAX_ID"),
            ("tax 29384756120", "DE_TAX_ID"),                     // loosely named: one digit twice
        ])
        try assertNotFound([
            ("Steuer-ID: 29384756104", "DE_TAX_ID"),              // check digit
            ("order 29384756103", "DE_TAX_ID"),                   // not named
            ("tax 29384756103", "DE_TAX_ID"),                     // loosely named, no repeated digit
        ])
    }

    func testGermanVATIDGroupings() throws {
        try assertFound([
            ("USt DE273819400", "DE_VAT_ID"), ("USt DE 273 819 400", "DE_VAT_ID"), ("USt DE-273-819-400", "DE_VAT_ID"),
            ("USt DE.315.928.608", "DE_VAT_ID"),
        ])
        try assertNotFound([("USt DE 273 819 401", "DE_VAT_ID"), ("USt DE-2738-19400", "DE_VAT_ID")])
    }

    func testDiscordTokenGluedToPrecedingText() throws {
        let token = "M" + String(repeating: "Tk4N", count: 6) + ".GaBcDe." + String(repeating: "x1Y2z", count: 6)
        try assertFound([(token, "DISCORD_BOT_TOKEN"), ("AT" + token, "DISCORD_BOT_TOKEN"), ("=" + token, "DISCORD_BOT_TOKEN")])
        // First part one character too long (and no M/N/O inside that leaves a valid length).
        let long = "P" + String(repeating: "Tk4X", count: 6) + "q.GaBcDe." + String(repeating: "x1Y2z", count: 6)
        try assertNotFound([(long, "DISCORD_BOT_TOKEN")])
    }

    func testBareTurkishNumbersNeedATurkishName() throws {
        try assertFound([
            ("Cep telefonum 5417382960", "TR_PHONE_NUMBER"), ("GSM: 3124857390", "TR_PHONE_NUMBER"),
            ("iletişim numarası 2164839205 olarak", "TR_PHONE_NUMBER"),
        ])
        try assertNotFound([
            ("order 5417382960", "TR_PHONE_NUMBER"), ("telefon 6417382960", "TR_PHONE_NUMBER"),   // no name; 6XX no code
            ("GSM: 54173829601", "TR_PHONE_NUMBER"), ("GSM: 5555555555", "TR_PHONE_NUMBER"),
        ])
    }

    func testAWSSecretKeyHasExactlyFortyCharacters() throws {
        let key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz1234ABCD"
        try assertFound([("aws_secret_access_key = " + key, "AWS_SECRET_ACCESS_KEY"),
                         ("aws_secret_access_key = \"" + key + "\"\nnext", "AWS_SECRET_ACCESS_KEY")])
        try assertNotFound([("aws_secret_access_key = \"" + key + "a\"", "AWS_SECRET_ACCESS_KEY")])
    }

    func testDigitGroupsInsideALongerRunAreNotPhonesCardsOrAadhaar() throws {
        // An IBAN-like run with a wrong checksum: its groups are not separate numbers.
        try assertNotFound([
            ("XK05 1212 0123 4567 8907", "PHONE_NUMBER"), ("QZ12 4111 1111 1111 1111 22", "CREDIT_CARD"),
            ("QZ12 2345 6789 0124 7777", "IN_AADHAAR"), ("IBAN BR97 0036 0305 0000", "IN_VEHICLE_REGISTRATION"),
            ("reg HR 12345", "IN_VEHICLE_REGISTRATION"),
        ])
        // The same values on their own.
        try assertFound([
            ("Tel 0123 4567 8901", "PHONE_NUMBER"), ("uid 2345 6789 0124", "IN_AADHAAR"), ("card 4111 1111 1111 1111 exp 12/29", "CREDIT_CARD"),
            ("ref 12 4111 1111 1111 1111", "CREDIT_CARD"), ("plate HR 26 DQ 5551", "IN_VEHICLE_REGISTRATION"),
            ("plate DL 1 1234", "IN_VEHICLE_REGISTRATION"),
        ])
        XCTAssertTrue(Text.inGroupedRun(Array("AB12 3456 7890".utf8), 5..<9))
        XCTAssertFalse(Text.inGroupedRun(Array("call 3456 7890 now".utf8), 5..<14))
        XCTAssertFalse(Text.inGroupedRun(Array("card 3456 7890 12/29".utf8), 5..<14), "a date after the number is no group")
    }
}

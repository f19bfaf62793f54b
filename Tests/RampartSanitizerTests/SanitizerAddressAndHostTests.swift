import XCTest
@testable import RampartSanitizerCore

/// Host names without a scheme (`URL`), German postcodes in an address (`DE_PLZ`), Chinese
/// mobile numbers named nearby, and the eval's label families. Every value here is invented.
final class SanitizerAddressAndHostTests: XCTestCase, ScannerAssertions {
    /// The values each finding of `type` covers in `text` (default scanner, fragment scope).
    func values(_ text: String, _ type: String) throws -> [String] {
        let bytes = Array(text.utf8)
        return try XCTUnwrap(defaultScanner).scan(bytes: bytes).filter { $0.type == type }
            .map { String(decoding: bytes[$0.range], as: UTF8.self) }
    }

    func testBareHostNamesWithARealTopLevelLabel() throws {
        try assertFound([
            ("the docs are on example.org today", "URL"), ("mirror: files.example-mirror.net", "URL"),
            ("Order it from Shopname.com", "URL"), ("our office site example.co.uk", "URL"),
            ("see example.de", "URL"), ("contact desk.example.com.au.", "URL"),
        ])
        XCTAssertEqual(try values("read example.org/guide/start.html, then reply", "URL"), ["example.org/guide/start.html"])
        XCTAssertEqual(try values("mirrors a.example.com.au and b.example.co.jp", "URL"), ["a.example.com.au", "b.example.co.jp"])
        // The scheme form stays one finding over the whole URL.
        XCTAssertEqual(try values("go to https://www.example.com/x now", "URL"), ["https://www.example.com/x"])
    }

    func testDottedWordsThatAreNoHosts() throws {
        try assertNotFound([
            ("built with ASP.NET and VB.NET", "URL"),  // upper-case top-level label: a product name
            ("open README.md and setup.py", "URL"),  // file extensions, no accepted label
            ("run deploy.sh or main.rs", "URL"), ("example.comx", "URL"), ("version 1.5.com", "URL"),
            ("example.zz", "URL"), ("example.co.z", "URL"), ("path/to/example.com", "URL"),
            ("C:\\share\\example.com", "URL"), ("my_module.com", "URL"),
        ])
        // An e-mail address is reported as one, not as a host inside it.
        XCTAssertEqual(try types("write to jo@example.com"), ["EMAIL_ADDRESS"])
    }

    func testPostcodeInAGermanAddress() throws {
        try assertFound([
            ("Hauptstraße 5, 34127 Kassel", "DE_PLZ"), ("Lindenweg 12a\n34127 Kassel", "DE_PLZ"),
            ("Bahnhofstr. 3-5, 34127 Kassel", "DE_PLZ"), ("Am Markt 1, 04109 Leipzig", "DE_PLZ"),
            ("Anschrift: 34127 Kassel", "DE_PLZ"), ("34127 ist meine Postleitzahl", "DE_PLZ"),
            ("Ich wohne in 34127 Kassel", "DE_PLZ"), ("Rosenweg 2, 97070 Würzburg", "DE_PLZ"),
        ])
        XCTAssertEqual(try values("Hauptstraße 5, 34127 Kassel", "DE_PLZ"), ["34127"])
    }

    func testFiveDigitNumbersOutsideAnAddress() throws {
        try assertNotFound([
            ("in 34127 Fällen", "DE_PLZ"),  // a capitalised noun after a number is no address
            ("Hauptstraße 5 34127 Kassel", "DE_PLZ"),  // no comma or line break after the house number
            ("Hauptstraße 5, 34127 kassel", "DE_PLZ"),  // no place name
            ("Zimmer 5, 34127 Kassel", "DE_PLZ"),  // not a street
            ("Hauptstraße 5, 00999 Kassel", "DE_PLZ"),  // below 01001
            ("Hauptstraße 5, 341270 Kassel", "DE_PLZ"), ("34127", "DE_PLZ"), ("34127 Kassel", "DE_PLZ"),
        ])
    }

    func testChineseMobileNumbersNamedNearby() throws {
        try assertFound([
            ("my China mobile: 13912345678", "PHONE_NUMBER"), ("13912345678 (cell)", "PHONE_NUMBER"),
            ("我的手机号码是13912345678", "PHONE_NUMBER"), ("CN: 18612345678", "PHONE_NUMBER"),
        ])
        try assertNotFound([
            ("13912345678", "PHONE_NUMBER"), ("order 13912345678 shipped", "PHONE_NUMBER"),
            ("phone 12912345678", "PHONE_NUMBER"),  // 12x is no mobile prefix
            ("phone 139123456789", "PHONE_NUMBER"),  // twelve digits
            ("scn 13912345678", "PHONE_NUMBER"),  // "cn" inside a word
        ])
    }

    func testNPIPrintedInGroupsAsAWholeFieldOrNamed() throws {
        let scanner = try XCTUnwrap(defaultScanner)
        func field(_ text: String) throws -> Set<String> { Set(try scanner.scan(text, scope: .field).map(\.type)) }
        XCTAssertTrue(try field("1987-654-328").contains("US_NPI"))
        XCTAssertTrue(try field("1987 654 328").contains("US_NPI"))
        XCTAssertTrue(try field("1987654328").contains("US_NPI"))
        try assertFound([("1987 654 328 is the provider's NPI", "US_NPI")])  // named after the value
        XCTAssertFalse(try field("1987-654-329").contains("US_NPI"), "check digit")
        XCTAssertFalse(try field("1987-654 328").contains("US_NPI"), "mixed separators")
        XCTAssertFalse(try field("3987-654-328").contains("US_NPI"), "first digit 1 or 2 only")
        try assertNotFound([("ticket 1987-654-328 closed", "US_NPI")])  // in prose, not named
    }

    func testLabelFamiliesFollowTheSourceToolsTypes() {
        XCTAssertEqual(LabelFamilies.reportedTypes(for: "AWS_ACCESS_KEY"), ["AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"])
        XCTAssertEqual(LabelFamilies.reportedTypes(for: "SLACK_TOKEN"), ["SLACK_TOKEN", "SLACK_WEBHOOK"])
        XCTAssertEqual(LabelFamilies.reportedTypes(for: "AWS_SECRET_ACCESS_KEY"), ["AWS_SECRET_ACCESS_KEY"])
        XCTAssertEqual(LabelFamilies.reportedTypes(for: "EMAIL_ADDRESS"), ["EMAIL_ADDRESS"])
        // Every type of a family is one the scanner reports.
        let known = Set((PIIRules.all + SecretRules.all).map(\.type))
        for (_, family) in LabelFamilies.families { XCTAssertTrue(family.isSubset(of: known), "\(family)") }
    }
}

import XCTest
@testable import RampartSanitizerCore

/// Formats added from the published layouts: Turkish numbers outside the North American plan,
/// the spaced Korean business number, hyphenated Medicare numbers, "HR B" / lower-case
/// Handelsregister numbers, Swedish organisation numbers named in English and the Philippine TIN.
/// Every value is invented; the valid ones satisfy their check digit, the invalid ones differ in
/// the check digit, the grouping, the code or the name.
final class SanitizerNumberingPlanTests: XCTestCase, ScannerAssertions {
    func testTurkishNumbersThatCannotBeNorthAmerican() throws {
        try assertFound([
            ("541 087 2960", "TR_PHONE_NUMBER"),          // Vodafone 54X, exchange 0XX: not NANP
            ("312-187-3960", "TR_PHONE_NUMBER"),          // Ankara 312
            ("Phone: 5410872960", "TR_PHONE_NUMBER"),     // named in English, not NANP
            ("call 2161873960 after nine", "TR_PHONE_NUMBER"),
            ("+90.541.837.29.60", "TR_PHONE_NUMBER"),     // dots right after the country code
            ("541 837 2960", "PHONE_NUMBER"),             // NANP-possible: a phone, not claimed as Turkish
        ])
        try assertNotFound([
            ("541 837 2960", "TR_PHONE_NUMBER"),          // exchange 837 fits the NANP: ambiguous
            ("641 087 2960", "TR_PHONE_NUMBER"),          // 641 is no Turkish code
            ("556 087 2960", "TR_PHONE_NUMBER"),          // 556 is no operator code
            ("Phone: 5568372960", "TR_PHONE_NUMBER"),
            ("5410872960", "TR_PHONE_NUMBER"),            // ten bare digits, unnamed
            ("Phone: 5418372960", "TR_PHONE_NUMBER"),     // NANP-possible
            ("ref 541 087 2960 1234", "TR_PHONE_NUMBER"), // a piece of a longer grouped run
            ("541 087-2960", "TR_PHONE_NUMBER"),          // mixed separators
        ])
    }

    func testNumberingPlanHelpers() {
        XCTAssertTrue(ContactRules.turkishCode(212))
        XCTAssertTrue(ContactRules.turkishCode(532))
        XCTAssertTrue(ContactRules.turkishCode(561))
        XCTAssertFalse(ContactRules.turkishCode(550))
        XCTAssertFalse(ContactRules.turkishCode(213))
        XCTAssertTrue(ContactRules.nanpPossible([4, 1, 5, 5, 5, 5, 0, 1, 3, 2]))
        XCTAssertFalse(ContactRules.nanpPossible([4, 1, 5, 1, 5, 5, 0, 1, 3, 2]))
        XCTAssertFalse(ContactRules.nanpPossible([1, 1, 5, 5, 5, 5, 0, 1, 3, 2]))
    }

    func testKoreanBusinessNumberSpacedAndAustralianMedicareHyphenated() throws {
        try assertFound([
            ("214 87 30652", "KR_BRN"), ("사업자등록번호 2148730652", "KR_BRN"),
            ("3987-65435-2", "AU_MEDICARE"), ("3987 65435 2", "AU_MEDICARE"),
        ])
        try assertNotFound([
            ("214 87 30653", "KR_BRN"),                   // check digit
            ("2148 7 30652", "KR_BRN"),                   // not the 3-2-5 grouping
            ("214 87-30652", "KR_BRN"),                   // mixed separators
            ("3987-65436-2", "AU_MEDICARE"),              // check digit
            ("3987-65435 2", "AU_MEDICARE"),              // mixed separators
            ("398-765435-2", "AU_MEDICARE"),              // not 4-5-1
        ])
    }

    func testHandelsregisterSpacedAndLowerCase() throws {
        try assertFound([("HR B 48213", "DE_HANDELSREGISTER"), ("hrb 48213", "DE_HANDELSREGISTER"), ("HRA 7", "DE_HANDELSREGISTER")])
        try assertNotFound([
            ("Hrb 48213", "DE_HANDELSREGISTER"), ("HR C 48213", "DE_HANDELSREGISTER"), ("hrb 0481", "DE_HANDELSREGISTER"),
            ("HRB 4821377", "DE_HANDELSREGISTER"),
        ])
    }

    func testSwedishOrganisationNumberNamedInEnglishOrSwedish() throws {
        try assertFound([
            ("organisation number 7382452196", "SE_ORGANISATIONSNUMMER"), ("org nr 7382452196", "SE_ORGANISATIONSNUMMER"),
            ("Org. nr: 7382452196", "SE_ORGANISATIONSNUMMER"),
        ])
        try assertNotFound([
            ("organisation number 7382452197", "SE_ORGANISATIONSNUMMER"),  // Luhn
            ("number 7382452196", "SE_ORGANISATIONSNUMMER"),               // not named
            ("organisation number 7312452196", "SE_ORGANISATIONSNUMMER"),  // third digit < 2 (and Luhn)
        ])
    }

    func testPhilippineTIN() throws {
        XCTAssertTrue(CheckDigits.phTIN([2, 1, 4, 3, 8, 7, 9, 0, 2]))
        XCTAssertFalse(CheckDigits.phTIN([2, 1, 4, 3, 8, 7, 9, 0, 5]))
        XCTAssertFalse(CheckDigits.phTIN([0, 0, 0, 0, 0, 0, 0, 0, 0]), "no taxpayer number")
        XCTAssertFalse(CheckDigits.phTIN([5, 0, 0, 0, 0, 0, 0, 0, 0]), "remainder 10 is never issued")
        try assertFound([
            ("my TIN is 214-387-902-000", "PH_TIN"), ("TIN 214 387 902 00000", "PH_TIN"), ("TIN: 318-274-656", "PH_TIN"),
            ("BIR no. 214387902", "PH_TIN"), ("taxpayer identification number 214387902000", "PH_TIN"),
        ])
        try assertNotFound([
            ("my TIN is 214-387-905-000", "PH_TIN"),      // check digit
            ("TIN: 318-274-659", "PH_TIN"),
            ("meeting 214-387-902-000", "PH_TIN"),        // "tin" inside a word is no name
            ("birthday 214-387-902-000", "PH_TIN"),
            ("214-387-902-000", "PH_TIN"),                // unnamed
            ("TIN 000-000-000-000", "PH_TIN"),            // no taxpayer number
            ("TIN 214-387-9020-00", "PH_TIN"),            // not the grouping
            ("TIN 214-387 902-000", "PH_TIN"),            // mixed separators
            ("TIN 214-387-902-0000", "PH_TIN"),           // branch code of four digits
        ])
    }

    func testContextWordsStandAsWholeWords() {
        let text = Array("the meeting is at 10, birthday on 5, TIN: 42".utf8)
        let end = text.count
        XCTAssertTrue(Text.hasContextWord(text, (end - 2)..<end, ["tin"]))
        XCTAssertFalse(Text.hasContextWord(text, (end - 2)..<end, ["bir"]))
        XCTAssertFalse(Text.hasContextWord(Array("meeting 42".utf8), 8..<10, ["tin"]))
        XCTAssertTrue(Text.hasContextWord(Array("tin42".utf8), 3..<5, ["tin"]))
    }
}

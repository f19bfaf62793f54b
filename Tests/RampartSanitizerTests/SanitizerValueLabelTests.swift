import XCTest
@testable import RampartSanitizerCore

/// The label route (``ValueLabels``): a value of its type's shape whose check fails is reported
/// only when a label of that type names it right before it. Every value here is invented; the
/// failing ones differ from a passing one in the check character only.
final class SanitizerValueLabelTests: XCTestCase, ScannerAssertions {
    // Passing / failing pairs (the check computed for these tests).
    static let vatOK = "DE315728642", vatBad = "DE315728647"
    static let taxIDOK = "86420975314", taxIDBad = "86420975317"
    static let nricOK = "S5029174Z", nricBad = "S5029174B"
    static let nhsOK = "738 402 9155", nhsBad = "738 402 9151"
    static let aadhaarOK = "5291 7364 0822", aadhaarBad = "5291 7364 0825"
    static let nifOK = "48291736Q", nifBad = "48291736R"
    static let fiscalOK = "BNCLCU72E45F205S", fiscalBad = "BNCLCU72E45F205X"
    /// Thirteen digits whose first two (47) are no Land code: fails the Steuernummer's layout.
    static let taxNumberBad = "4721508150013"

    func testEveryRouteBelongsToARule() {
        let ruleTypes = Set(PIIRules.all.map(\.type))
        XCTAssertFalse(ValueLabels.types.isEmpty)
        XCTAssertTrue(ValueLabels.types.isSubset(of: ruleTypes), "routes for unknown types: \(ValueLabels.types.subtracting(ruleTypes))")
        // Types whose labelled failed-check values are negatives have no route.
        for type in ["CREDIT_CARD", "MEDICAL_LICENSE", "UK_NINO", "PH_TIN", "US_ITIN", "IBAN_CODE", "CRYPTO", "DE_TAX_ID", "ES_NIF",
                     "ES_NIE", "IT_FISCAL_CODE", "UK_NHS", "IN_AADHAAR"] {
            XCTAssertFalse(ValueLabels.types.contains(type), type)
        }
    }

    func testPassingChecksStillStandWithoutTheLabel() throws {
        try assertFound([
            (Self.vatOK, "DE_VAT_ID"), ("NRIC \(Self.nricOK)", "SG_NRIC_FIN"), (Self.nricOK, "SG_NRIC_FIN"),
            ("Steuer-ID: \(Self.taxIDOK)", "DE_TAX_ID"), ("NHS number \(Self.nhsOK)", "UK_NHS"),
            ("Aadhaar \(Self.aadhaarOK)", "IN_AADHAAR"), (Self.aadhaarOK, "IN_AADHAAR"), (Self.nifOK, "ES_NIF"),
            (Self.fiscalOK, "IT_FISCAL_CODE"),
        ])
    }

    func testFailedCheckWithItsLabelIsReported() throws {
        try assertFound([
            ("USt-IdNr.: \(Self.vatBad)", "DE_VAT_ID"), ("Rechnung, UST-IDNR \(Self.vatBad).", "DE_VAT_ID"),
            ("VAT ID: \(Self.vatBad)", "DE_VAT_ID"), ("VAT Reg. No.: \(Self.vatBad)", "DE_VAT_ID"),
            ("NRIC \(Self.nricBad)", "SG_NRIC_FIN"), ("NRIC no. \(Self.nricBad)", "SG_NRIC_FIN"),
            ("NRIC/FIN: \(Self.nricBad)", "SG_NRIC_FIN"),
            ("Steuernummer: \(Self.taxNumberBad)", "DE_TAX_NUMBER"), ("Die Steuernummer lautet \(Self.taxNumberBad).", "DE_TAX_NUMBER"),
            ("St.-Nr. \(Self.taxNumberBad)", "DE_TAX_NUMBER"),
        ])
    }

    /// A published check holds even when the label names the type: a failing value is a wrong number.
    func testPublishedChecksHoldEvenWhenLabelled() throws {
        try assertNotFound([
            ("Steuer-ID: \(Self.taxIDBad)", "DE_TAX_ID"), ("IdNr. \(Self.taxIDBad) liegt vor", "DE_TAX_ID"),
            ("NHS number: \(Self.nhsBad)", "UK_NHS"), ("my Aadhaar number is \(Self.aadhaarBad)", "IN_AADHAAR"),
            ("DNI \(Self.nifBad)", "ES_NIF"), ("codice fiscale: \(Self.fiscalBad)", "IT_FISCAL_CODE"),
            ("card number 4111 1111 1111 1112", "CREDIT_CARD"), ("NINO: NT 12 34 56 C", "UK_NINO"),
        ])
    }

    func testFailedCheckWithoutALabelIsNot() throws {
        try assertNotFound([
            (Self.vatBad, "DE_VAT_ID"), ("Reference \(Self.vatBad) was sent", "DE_VAT_ID"),
            (Self.nricBad, "SG_NRIC_FIN"), ("order \(Self.nricBad) shipped", "SG_NRIC_FIN"),
            ("Invoice \(Self.taxNumberBad)", "DE_TAX_NUMBER"), ("Kunde \(Self.taxIDBad)", "DE_TAX_ID"),
            (Self.nifBad, "ES_NIF"), (Self.fiscalBad, "IT_FISCAL_CODE"),
        ])
    }

    /// A whole-field value counts as labelled where the shape is a letter-and-digit layout (USt-IdNr.,
    /// NRIC/FIN), not where it is a bare digit run (the 13-digit Steuernummer).
    func testAWholeFieldValueCountsAsLabelledForLetterLayouts() throws {
        let scanner = try XCTUnwrap(defaultScanner)
        func fieldTypes(_ text: String) throws -> Set<String> { Set(try scanner.scan(text, scope: .field).flatMap(\.types)) }
        for (text, type) in [(Self.vatBad, "DE_VAT_ID"), (" \(Self.vatBad).\n", "DE_VAT_ID"), ("DE 315 728 647", "DE_VAT_ID"),
                             (Self.nricBad, "SG_NRIC_FIN"), ("T5029174B", "SG_NRIC_FIN")] {
            XCTAssertTrue(try fieldTypes(text).contains(type), "\(type) not found in the field \(text)")
        }
        // The VAT reading wins over the driving-licence layout the same characters also fit.
        XCTAssertEqual(try scanner.scan(Self.vatBad, scope: .field).map(\.type), ["DE_VAT_ID"])
        // Not in prose, not in a fragment, not without the shape, not for a bare digit run.
        for (text, type) in [("Reference \(Self.vatBad) was sent", "DE_VAT_ID"), ("order \(Self.nricBad) shipped", "SG_NRIC_FIN"),
                             ("DE31572864", "DE_VAT_ID"), ("De315728647", "DE_VAT_ID"), ("DE111111111", "DE_VAT_ID"),
                             ("s5029174B", "SG_NRIC_FIN"), ("S1111111B", "SG_NRIC_FIN"), (Self.taxNumberBad, "DE_TAX_NUMBER")] {
            XCTAssertFalse(try fieldTypes(text).contains(type), "\(type) wrongly found in the field \(text)")
        }
        XCTAssertFalse(try types(Self.vatBad).contains("DE_VAT_ID"), "a fragment is no field")
        XCTAssertFalse(try types(Self.nricBad).contains("SG_NRIC_FIN"), "a fragment is no field")
    }

    func testLabelTooFarOrWithOtherWordsInBetween() throws {
        let gap = String(repeating: " ", count: ValueLabels.maxGap + 1)
        try assertNotFound([
            ("USt-IdNr.:\(gap)\(Self.vatBad)", "DE_VAT_ID"),
            ("USt-IdNr. laut Vertrag vom Januar \(Self.vatBad)", "DE_VAT_ID"),
            ("NRIC holder reference \(Self.nricBad)", "SG_NRIC_FIN"),
            ("Steuernummer des Lieferanten und Auftrag \(Self.taxNumberBad)", "DE_TAX_NUMBER"),
            // More fillers than allowed.
            ("NRIC no no no \(Self.nricBad)", "SG_NRIC_FIN"),
            // The value after the label is another token, not this one.
            ("Steuer-ID 4711, Bestellung \(Self.taxIDBad)", "DE_TAX_ID"),
        ])
        // Within the gap it still counts.
        let near = String(repeating: " ", count: ValueLabels.maxGap - 2)
        try assertFound([("NRIC:\(near)\(Self.nricBad)", "SG_NRIC_FIN")])
    }

    func testALabelOfAnotherTypeDoesNotName() throws {
        try assertNotFound([
            ("Steuernummer: \(Self.vatBad)", "DE_VAT_ID"), ("USt-IdNr.: \(Self.taxNumberBad)", "DE_TAX_NUMBER"),
            ("Steuernummer: \(Self.nricBad)", "SG_NRIC_FIN"), ("NRIC \(Self.vatBad)", "DE_VAT_ID"),
            ("passport \(Self.nricBad)", "SG_NRIC_FIN"), ("USt-IdNr. \(Self.nricBad)", "SG_NRIC_FIN"),
            // Generic words are no labels.
            ("tax number \(Self.vatBad)", "DE_VAT_ID"), ("number: \(Self.nricBad)", "SG_NRIC_FIN"),
        ])
    }

    func testANegatedLabelDoesNotName() throws {
        try assertNotFound([
            ("Invalid NRIC \(Self.nricBad)", "SG_NRIC_FIN"), ("Not a NRIC: \(Self.nricBad)", "SG_NRIC_FIN"),
            ("This isn't a valid NRIC \(Self.nricBad)", "SG_NRIC_FIN"), ("ungültige USt-IdNr. \(Self.vatBad)", "DE_VAT_ID"),
            ("keine Steuernummer: \(Self.taxNumberBad)", "DE_TAX_NUMBER"), ("fake VAT ID \(Self.vatBad)", "DE_VAT_ID"),
        ])
        // A passing check is reported whatever the words before it say (the label route only
        // waives a failed check).
        try assertFound([("Invalid NRIC \(Self.nricOK)", "SG_NRIC_FIN")])
    }

    func testLabelMustBeAWholeWord() throws {
        try assertNotFound([
            ("Delfin \(Self.nricBad)", "SG_NRIC_FIN"), ("Coffin: \(Self.nricBad)", "SG_NRIC_FIN"),
            ("Hauptsteuernummer \(Self.taxNumberBad)", "DE_TAX_NUMBER"), ("Coust-id \(Self.vatBad)", "DE_VAT_ID"),
        ])
        try assertFound([("FIN \(Self.nricBad)", "SG_NRIC_FIN"), ("(fin) \(Self.nricBad)", "SG_NRIC_FIN")])
    }

    func testTheShapeIsStillRequired() throws {
        try assertNotFound([
            ("USt-IdNr.: DE31572864", "DE_VAT_ID"), ("USt-IdNr.: DE3157286471", "DE_VAT_ID"),
            ("USt-IdNr.: De315728647", "DE_VAT_ID"), ("NRIC S502917B", "SG_NRIC_FIN"), ("NRIC s5029174B", "SG_NRIC_FIN"),
            ("Steuernummer: 4444444444444", "DE_TAX_NUMBER"), ("Steuernummer: 472150815001", "DE_TAX_NUMBER"), ("Steuer-ID: 0864209753", "DE_TAX_ID"),
            ("Steuer-ID: 11111111111", "DE_TAX_ID"), ("NHS number 738-402 9151", "UK_NHS"),
            ("codice fiscale BNCLCU72E45F205", "IT_FISCAL_CODE"),
        ])
    }

    func testNamesDirectly() {
        func names(_ type: String, _ text: String, _ value: String) -> Bool {
            let bytes = Array(text.utf8)
            guard let r = text.range(of: value) else { return false }
            let start = text.utf8.distance(from: text.startIndex, to: r.lowerBound)
            return ValueLabels.names(type, bytes, start..<(start + value.utf8.count))
        }
        XCTAssertTrue(names("DE_VAT_ID", "ust-idnr DE1", "DE1"))
        XCTAssertTrue(names("DE_VAT_ID", "UST-IDNR=DE1", "DE1"))
        XCTAssertTrue(names("DE_TAX_NUMBER", "Steuernummer ist 1", "1"))
        XCTAssertFalse(names("DE_VAT_ID", "DE1", "DE1"), "nothing before the value")
        XCTAssertFalse(names("EMAIL_ADDRESS", "email a@b", "a@b"), "a type without a route")
        XCTAssertFalse(names("SG_NRIC_FIN", "nric, x S1", "S1"), "another word in between")
        XCTAssertFalse(names("SG_NRIC_FIN", "nricfin S1", "S1"), "label inside a longer word")
    }

    /// The look-back is bounded: separators and fillers before a value cost at most the gap.
    func testBoundedOnHostileInput() throws {
        let scanner = try XCTUnwrap(defaultScanner)
        let fillers = String(repeating: "no. ", count: 50_000) + Self.nricBad
        XCTAssertFalse(try scanner.scan(fillers).contains { $0.type == "SG_NRIC_FIN" })
        let separators = "NRIC" + String(repeating: ":", count: 100_000) + Self.nricBad
        XCTAssertFalse(try scanner.scan(separators).contains { $0.type == "SG_NRIC_FIN" })
        // Many labelled failing values: each found, in one scan.
        let many = String(repeating: "NRIC \(Self.nricBad), ", count: 2_000)
        XCTAssertEqual(try scanner.scan(many).filter { $0.type == "SG_NRIC_FIN" }.count, 2_000)
        // A value at the very start of the text has nothing before it.
        XCTAssertFalse(try scanner.scan("\(Self.nricBad) NRIC").contains { $0.type == "SG_NRIC_FIN" })
    }
}

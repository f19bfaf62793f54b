import XCTest
@testable import RampartSanitizerCore

/// The national-id, document, vehicle and contact recognisers. Every value here is invented: the
/// valid ones were made to satisfy the check digit, the invalid ones differ in that digit only.
final class SanitizerRegionalPIITests: XCTestCase, ScannerAssertions {
    static let scanner = defaultScanner  // the direct scans below

    func testCheckDigitAlgorithms() {
        XCTAssertTrue(CheckDigits.auABN([1, 2, 3, 4, 5, 6, 7, 9, 0, 1, 6]))
        XCTAssertFalse(CheckDigits.auABN([1, 2, 3, 4, 5, 6, 7, 9, 0, 1, 7]))
        XCTAssertTrue(CheckDigits.auACN([3, 1, 2, 4, 5, 6, 7, 8, 7]))
        XCTAssertFalse(CheckDigits.auACN([3, 1, 2, 4, 5, 6, 7, 8, 6]))
        XCTAssertTrue(CheckDigits.auTFN([3, 7, 1, 2, 4, 5, 6, 0, 1]))
        XCTAssertFalse(CheckDigits.auTFN([3, 7, 1, 2, 4, 5, 6, 0, 2]))
        XCTAssertTrue(CheckDigits.deKVNR(Array("K407182539".utf8)))
        XCTAssertFalse(CheckDigits.deKVNR(Array("K407182538".utf8)))
        XCTAssertTrue(CheckDigits.deRVNR(Array("42110385M278".utf8)))
        XCTAssertFalse(CheckDigits.deRVNR(Array("42110385M279".utf8)))
        XCTAssertFalse(CheckDigits.deRVNR(Array("42113385M278".utf8)), "month 33")
        XCTAssertTrue(CheckDigits.deLANR([7, 3, 6, 2, 5, 1, 4, 4, 2]))
        XCTAssertFalse(CheckDigits.deLANR([7, 3, 6, 2, 5, 1, 5, 4, 2]))
        XCTAssertTrue(CheckDigits.krBRN([2, 1, 4, 8, 7, 3, 0, 6, 5, 2]))
        XCTAssertFalse(CheckDigits.krBRN([2, 1, 4, 8, 7, 3, 0, 6, 5, 3]))
        XCTAssertTrue(CheckDigits.thTNIN([3, 1, 0, 5, 9, 8, 4, 7, 2, 0, 6, 3, 2]))
        XCTAssertFalse(CheckDigits.thTNIN([3, 1, 0, 5, 9, 8, 4, 7, 2, 0, 6, 3, 3]))
        XCTAssertTrue(CheckDigits.itVAT([0, 4, 8, 2, 7, 1, 6, 0, 0, 5, 4]))
        XCTAssertFalse(CheckDigits.itVAT([0, 4, 8, 2, 7, 1, 6, 0, 0, 5, 5]))
        XCTAssertFalse(CheckDigits.itVAT([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "no company number")
        XCTAssertTrue(CheckDigits.dea([4, 7, 3, 9, 2, 0, 1]))
        XCTAssertFalse(CheckDigits.dea([4, 7, 3, 9, 2, 0, 2]))
        XCTAssertTrue(CheckDigits.sgUEN(Array("61823947B".utf8)))
        XCTAssertFalse(CheckDigits.sgUEN(Array("61823947C".utf8)))
        XCTAssertTrue(CheckDigits.sgUEN(Array("201987654K".utf8)))
        XCTAssertFalse(CheckDigits.sgUEN(Array("201987654Z".utf8)))
        XCTAssertTrue(CheckDigits.sgUEN(Array("T09LL4821E".utf8)))
        XCTAssertFalse(CheckDigits.sgUEN(Array("T09LL4821F".utf8)))
        XCTAssertEqual(CheckDigits.icao(Array("M7R2KX041".utf8)[...]), 2)
        XCTAssertEqual(CheckDigits.icao(Array("H4F9N2314".utf8)[...]), 8)
    }

    func testNationalIdentifiers() throws {
        try assertFound([
            ("ABN 12 345 679 016", "AU_ABN"), ("12345679016", "AU_ABN"), ("ACN 312 456 787", "AU_ACN"),
            ("my TFN is 371 245 601", "AU_TFN"), ("Medicare 3987 65435 2", "AU_MEDICARE"),
            ("KVNR K407182539", "DE_HEALTH_INSURANCE"), ("RVNR 42110385M278", "DE_SOCIAL_SECURITY"),
            ("LANR: 736251442", "DE_LANR"), ("BSNR 174839205", "DE_BSNR"), ("USt-IdNr. DE273819467", "DE_VAT_ID"),
            ("Steuernummer 21/815/08150", "DE_TAX_NUMBER"), ("eingetragen unter HRB 48213", "DE_HANDELSREGISTER"),
            ("FRN 850317-5123456", "KR_FRN"), ("사업자 214-87-30652", "KR_BRN"), ("3105984720632", "TH_TNIN"),
            ("orgnr 738245-2196", "SE_ORGANISATIONSNUMMER"), ("UEN 61823947B", "SG_UEN"), ("201987654K", "SG_UEN"),
            ("T09LL4821E", "SG_UEN"), ("GSTIN 29KLMNO4321P1Z7", "IN_GSTIN"), ("EPIC RTX4718203", "IN_VOTER"),
            ("P.IVA 04827160054", "IT_VAT_CODE"), ("MBI 4TW7-HK2-RA58", "US_MBI"),
        ])
        try assertNotFound([
            ("ABN 12 345 679 017", "AU_ABN"), ("ACN 312 456 786", "AU_ACN"), ("312456787", "AU_ACN"),
            ("my TFN is 371 245 602", "AU_TFN"), ("KVNR K407182538", "DE_HEALTH_INSURANCE"),
            ("RVNR 42110385M279", "DE_SOCIAL_SECURITY"), ("LANR: 736251542", "DE_LANR"), ("736251442", "DE_LANR"),
            ("174839205", "DE_BSNR"), ("DE273819468", "DE_VAT_ID"), ("HRC 48213", "DE_HANDELSREGISTER"),
            ("HRB 4821377", "DE_HANDELSREGISTER"), ("850317-1123456", "KR_FRN"), ("851317-5123456", "KR_FRN"),
            ("214-87-30653", "KR_BRN"), ("3105984720633", "TH_TNIN"), ("0105984720632", "TH_TNIN"),
            ("738245-2197", "SE_ORGANISATIONSNUMMER"), ("61823947C", "SG_UEN"), ("29KLMNO4321P1Y7", "IN_GSTIN"),
            ("45KLMNO4321P1Z7", "IN_GSTIN"), ("Rtx4718203", "IN_VOTER"), ("04827160055", "IT_VAT_CODE"),
            ("4SW7-HK2-RA58", "US_MBI"), ("4TW7-HK2RA58", "US_MBI"),
        ])
    }

    func testDocuments() throws {
        try assertFound([
            ("Personalausweis M7R2KX041", "DE_ID_CARD"), ("M7R2KX0412", "DE_ID_CARD"), ("Reisepass H4F9N2314", "DE_PASSPORT"),
            ("H4F9N23148", "DE_PASSPORT"), ("Führerschein KS73920184B", "DE_FUEHRERSCHEIN"),
            ("licence WALKE703128JT7QX", "UK_DRIVING_LICENCE"), ("licence BO999561247AB9XY", "UK_DRIVING_LICENCE"),
            ("pasaporte QRT482913", "ES_PASSPORT"), ("passport no. K4829173", "IN_PASSPORT"),
            ("my passport number is 583920174", "US_PASSPORT"), ("my bank account number is 7730192846", "US_BANK_NUMBER"),
            ("driver's license: W4829-3817-22", "US_DRIVER_LICENSE"), ("DEA AW4739201", "MEDICAL_LICENSE"),
            ("면허 13-19-482716-30", "KR_DRIVER_LICENSE"), ("운전면허 241948271630", "KR_DRIVER_LICENSE"),
        ])
        try assertNotFound([
            ("M7R2KX0413", "DE_ID_CARD"), ("H4F9N23149", "DE_PASSPORT"), ("KS7392018", "DE_FUEHRERSCHEIN"),
            ("WALKE713128JT7QX", "UK_DRIVING_LICENCE"), ("WALKE703428JT7QX", "UK_DRIVING_LICENCE"),
            ("QRT482913", "ES_PASSPORT"), ("K4829173", "IN_PASSPORT"), ("583920174", "US_PASSPORT"),
            ("order 7730192846", "US_BANK_NUMBER"), ("driver's license: pending", "US_DRIVER_LICENSE"),
            ("DEA AW4739202", "MEDICAL_LICENSE"), ("31-19-482716-30", "KR_DRIVER_LICENSE"), ("241948271630", "KR_DRIVER_LICENSE"),
            ("13-19-482716 30", "KR_DRIVER_LICENSE"),
        ])
    }

    func testVehicleRegistrations() throws {
        try assertFound([
            ("reg KY21 PXD", "UK_VEHICLE_REGISTRATION"), ("reg ky71pxd", "UK_VEHICLE_REGISTRATION"), ("Kennzeichen F-TR 482", "DE_KFZ"),
            ("plaka 41 KTY 207", "TR_LICENSE_PLATE"), ("plate EKY-482TR", "NG_VEHICLE_REGISTRATION"),
            ("vehicle MH12KT4821", "IN_VEHICLE_REGISTRATION"),
        ])
        try assertNotFound([
            ("reg KY31 PXD", "UK_VEHICLE_REGISTRATION"), ("reg KQ21 PXD", "UK_VEHICLE_REGISTRATION"),
            ("reg Ky21 pXd", "UK_VEHICLE_REGISTRATION"), ("I AM 2", "DE_KFZ"), ("FTR 482", "DE_KFZ"),
            ("92 KTY 207", "TR_LICENSE_PLATE"), ("at 10 AM 2024", "TR_LICENSE_PLATE"), ("EKYR-482TR", "NG_VEHICLE_REGISTRATION"),
            ("XY12KT4821", "IN_VEHICLE_REGISTRATION"),
        ])
    }

    func testCountryPhonesURLsAndPostcodes() throws {
        try assertFound([
            ("+63 938 472 9105", "PH_MOBILE_NUMBER"), ("09384729105", "PH_MOBILE_NUMBER"), ("+90 541 837 29 60", "TR_PHONE_NUMBER"),
            ("0 (312) 8372960", "TR_PHONE_NUMBER"), ("541 837 29 60", "TR_PHONE_NUMBER"), ("phone: 6478319205", "PHONE_NUMBER"),
            ("see https://portal.example.org/a/b?x=1.", "URL"), ("www.example.net", "URL"), ("PLZ 34127", "DE_PLZ"),
            ("D-34127 Kassel", "DE_PLZ"),
        ])
        try assertNotFound([
            ("0938472910", "PH_MOBILE_NUMBER"), ("093847291051", "PH_MOBILE_NUMBER"), ("0 (712) 8372960", "TR_PHONE_NUMBER"),
            ("6478319205", "PHONE_NUMBER"), ("http://intranet", "URL"), ("www.example", "URL"), ("34127", "DE_PLZ"),
            ("PLZ 00000", "DE_PLZ"),
        ])
        let bytes = Array("see https://portal.example.org/a/b?x=1.".utf8)
        let url = try XCTUnwrap(Self.scanner).scan(bytes: bytes).first { $0.type == "URL" }
        XCTAssertEqual(url.map { String(decoding: bytes[$0.range], as: UTF8.self) }, "https://portal.example.org/a/b?x=1")
    }

    func testValidationRejectsNonIdentifyingValues() throws {
        try assertFound([
            ("host 81.2.69.160", "IP_ADDRESS"), ("peer 2a02:8070:1c2::41.", "IP_ADDRESS"), ("amex 3714 496353 98431", "CREDIT_CARD"),
            ("mac 3C:22:FB:91:0A:7E", "MAC_ADDRESS"), ("hetu 290200A9875", "FI_PERSONAL_IDENTITY_CODE"),
            ("pnr 198507149873", "SE_PERSONNUMMER"), ("NIE y4827163y", "ES_NIE"), ("RRN 850317-1234568", "KR_RRN"),
            ("glimt-" + "Ab3dE5fG7hJ9kL1mN3pQ5rS7t", "GITLAB_TOKEN"),
            (#"if ("Xq7!vR2#pL9" == admin_password) {"#, "PASSWORD_OR_SECRET_ASSIGNMENT"),
            (#"char secret[16] = "Xq7!vR2#pL9";"#, "PASSWORD_OR_SECRET_ASSIGNMENT"),
            (#"std::string secret("Xq7!vR2#pL9");"#, "PASSWORD_OR_SECRET_ASSIGNMENT"),
        ])
        try assertNotFound([
            ("ref 1748503543012", "CREDIT_CARD"), ("ref 7992739871300008", "CREDIT_CARD"),
            ("mac FF:FF:FF:FF:FF:FF", "MAC_ADDRESS"), ("mac 00:00:00:00:00:00", "MAC_ADDRESS"),
            ("hetu 290201A987D", "FI_PERSONAL_IDENTITY_CODE"), ("RRN 850317-5234568", "KR_RRN"),
            ("glimt-" + "Ab3dE5fG7hJ9kL1mN3pQ5rS7tU", "GITLAB_TOKEN"), ("glagent-" + String(repeating: "X", count: 60), "GITLAB_TOKEN"),
            (#"if ("" == password) {"#, "PASSWORD_OR_SECRET_ASSIGNMENT"),
        ])
        XCTAssertTrue(CardIssuers.plausible([4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]))
        XCTAssertFalse(CardIssuers.plausible([4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), "Visa has no 15-digit cards")
        XCTAssertFalse(CardIssuers.plausible([7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), "no issuer starts with 7")
        XCTAssertTrue(CalendarDate.isValid(year: 2000, month: 2, day: 29))
        XCTAssertFalse(CalendarDate.isValid(year: 1900, month: 2, day: 29))
        XCTAssertFalse(CalendarDate.isValid(year: 1989, month: 2, day: 31))
    }

    func testOptInTypesAreNotRedactedByDefault() throws {
        let sanitizer = try Sanitizer()
        let request = RequestInput(messages: [MessageInput(role: .user, content: "read https://docs.example.org/guide please")])
        let outcome = try sanitizer.sanitize(request, session: SanitizerSession())
        XCTAssertTrue(outcome.request.messages[0].content.contains("https://docs.example.org/guide"))
    }

    func testScanIsDeterministicAcrossRuns() throws {
        let scanner = try XCTUnwrap(Self.scanner)
        let text = "H4F9N2314 and M7R2KX041, call +90 541 837 29 60 or mail a.b@example.com; IBAN DE89370400440532013000"
        let first = try scanner.scan(text)
        for _ in 0..<20 { XCTAssertEqual(try scanner.scan(text), first) }
    }
}

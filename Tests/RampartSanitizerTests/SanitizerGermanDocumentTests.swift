import XCTest
@testable import RampartSanitizerCore

/// German identity card and passport numbers: a nine-character document number with no check of
/// its own, and the ten-character form that carries the ICAO 9303 check digit over the nine (as
/// printed in the machine-readable zone). Every value is invented; the check digits were computed
/// with weights 7, 3, 1 (letters A = 10 … Z = 35).
final class SanitizerGermanDocumentTests: XCTestCase {
    func types(_ text: String, _ scope: ScanScope) throws -> Set<String> {
        Set(try XCTUnwrap(defaultScanner).scan(text, scope: scope).map(\.type))
    }

    func testTheCheckDigitCoversAllNineCharacters() {
        // The tenth character is the check of the nine before it, not the ninth of the eight.
        XCTAssertEqual(CheckDigits.icao(Array("LZ6R47VN3".utf8)[...]), 5)
        XCTAssertEqual(CheckDigits.icao(Array("GR7N40C25".utf8)[...]), 8)
        XCTAssertEqual(CheckDigits.icao(Array("K4M9T82XF".utf8)[...]), 0)
    }

    func testTheTenCharacterFormStandsAlone() throws {
        for (text, type) in [("LZ6R47VN35", "DE_ID_CARD"), ("card LZ6R47VN35 on file", "DE_ID_CARD"),
                             ("GR7N40C258", "DE_PASSPORT"), ("K4M9T82XF0", "DE_PASSPORT")] {
            XCTAssertTrue(try types(text, .fragment).contains(type), "\(type) not found in: \(text)")
        }
        // Lower case counts when it is the whole field, or named.
        XCTAssertTrue(try types("lz6r47vn35", .field).contains("DE_ID_CARD"))
        XCTAssertFalse(try types("see lz6r47vn35 here", .field).contains("DE_ID_CARD"))
    }

    func testAWrongCheckDigitOnTheTenCharacterFormIsRefused() throws {
        for (text, type) in [("LZ6R47VN34", "DE_ID_CARD"), ("GR7N40C259", "DE_PASSPORT"), ("Personalausweis LZ6R47VN36", "DE_ID_CARD"),
                             ("Reisepass GR7N40C250", "DE_PASSPORT")] {
            for scope in [ScanScope.field, .fragment] {
                XCTAssertFalse(try types(text, scope).contains(type), "\(type) reported for \(text)")
            }
        }
    }

    func testTheNineCharacterNumberIsReportedNamedOrAsTheWholeField() throws {
        // Named: whatever its leading letter, the name decides.
        XCTAssertTrue(try types("Personalausweis LZ6R47VN3", .fragment).contains("DE_ID_CARD"))
        XCTAssertTrue(try types("Reisepass K4M9T82XF", .fragment).contains("DE_PASSPORT"))
        XCTAssertTrue(try types("Ausweisnummer lz6r47vn3", .fragment).contains("DE_ID_CARD"))
        // The whole field: the leading letter tells the documents apart.
        XCTAssertEqual(try types("LZ6R47VN3", .field), ["DE_ID_CARD"])
        XCTAssertEqual(try types("lz6r47vn3", .field), ["DE_ID_CARD"])
        XCTAssertEqual(try types(" GR7N40C25.\n", .field), ["DE_PASSPORT"])
        XCTAssertEqual(try types("K4M9T82XF", .field), ["DE_PASSPORT"])
    }

    func testTheNineCharacterNumberInProseOrAFragmentIsNotReported() throws {
        for value in ["LZ6R47VN3", "GR7N40C25", "K4M9T82XF"] {
            XCTAssertEqual(try types(value, .fragment), [], value)
            for prose in ["order \(value) shipped", "ref \(value) and \(value)", "build \(value) passed"] {
                XCTAssertEqual(try types(prose, .field), [], prose)
            }
        }
    }

    func testCharactersOutsideTheSerialAlphabetAreRefused() throws {
        // A vowel, or B, D, Q or S, is never in a German document number; nor a leading letter
        // of neither set (Z, or a digit); mixed case is a word; nine letters and no digit are not
        // a number.
        for value in ["LA6R47VN3", "LZ6R47VB3", "LZ6D47VN3", "QZ6R47VN3", "SZ6R47VN3", "ZZ6R47VN3", "7Z6R47VN3",
                      "Lz6R47vN3", "NTHWKLCRT", "LA6R47VN35"] {
            let found = try types(value, .field)
            XCTAssertFalse(found.contains("DE_ID_CARD") || found.contains("DE_PASSPORT"), "\(value): \(found)")
        }
    }

    func testTheOtherDocumentNamedWins() throws {
        // A passport letter named as an identity card is the identity card, and the reverse.
        XCTAssertEqual(try types("Personalausweis GR7N40C25", .fragment), ["DE_ID_CARD"])
        XCTAssertEqual(try types("Reisepass LZ6R47VN3", .fragment), ["DE_PASSPORT"])
    }

    func testAnotherTypesCheckOnTheSameCharactersWins() throws {
        // A DEA number (registrant letter, letter, seven digits with its check) and a KVNR (letter,
        // nine digits with its check) can also be shaped like a German document number; their own
        // check is the stronger evidence.
        XCTAssertEqual(try types("KX4739201", .field), ["MEDICAL_LICENSE"])
        XCTAssertTrue(CheckDigits.deKVNR(Array("M407182572".utf8)))
        XCTAssertEqual(CheckDigits.icao(Array("M40718257".utf8)[...]), 2)
        XCTAssertEqual(try types("M407182572", .fragment), ["DE_HEALTH_INSURANCE"])
    }
}

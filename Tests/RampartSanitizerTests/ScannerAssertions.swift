import XCTest
@testable import RampartSanitizerCore

/// The default PII/secret scanner, compiled once for the recogniser tests.
let defaultScanner = try? SensitiveDataScanner()

/// Found / not-found checks of a type in texts against ``defaultScanner``.
protocol ScannerAssertions: XCTestCase {}

extension ScannerAssertions {
    func types(_ text: String) throws -> Set<String> {
        Set(try XCTUnwrap(defaultScanner).scan(text).map(\.type))
    }

    func assertFound(_ cases: [(String, String)], file: StaticString = #filePath, line: UInt = #line) throws {
        for (text, type) in cases {
            XCTAssertTrue(try types(text).contains(type), "\(type) not found in: \(text)", file: file, line: line)
        }
    }

    func assertNotFound(_ cases: [(String, String)], file: StaticString = #filePath, line: UInt = #line) throws {
        for (text, type) in cases {
            XCTAssertFalse(try types(text).contains(type), "\(type) wrongly found in: \(text)", file: file, line: line)
        }
    }
}

import XCTest
@testable import RampartSanitizerCore

/// `JSONValue.replacingStrings`: the one walk that rewrites a tool call's string values (secret
/// redaction and placeholder restore).
final class JSONReplacingStringsTests: XCTestCase {
    private let value = try! JSONParser().parse(#"{"to":"a@x.io","cc":["b@x.io",1,null,{"note":"keep"}],"a@x.io":true}"#)

    func testEveryStringValueIsVisitedAndKeysAreNot() {
        var seen: [String] = []
        XCTAssertNil(value.replacingStrings { seen.append($0); return nil }, "nothing changed: nil")
        XCTAssertEqual(seen.sorted(), ["a@x.io", "b@x.io", "keep"])
    }

    func testOnlyTheChangedStringsChange() throws {
        let replaced = try XCTUnwrap(value.replacingStrings { $0.hasSuffix("@x.io") ? "[EMAIL]" : nil })
        XCTAssertEqual(replaced.serialized, #"{"a@x.io":true,"cc":["[EMAIL]",1,null,{"note":"keep"}],"to":"[EMAIL]"}"#)
    }

    func testTheOrderMatchesAnotherWalkOfTheSameValue() {
        // Callers pair values with a list built by an earlier walk in the same order.
        var first: [String] = []
        _ = value.replacingStrings { first.append($0); return nil }
        var index = 0
        let numbered = value.replacingStrings { text in
            defer { index += 1 }
            return text == first[index] ? "#\(index)" : "order differs"
        }
        XCTAssertFalse(numbered?.serialized.contains("order differs") ?? true)
    }

    func testScalarsAreLeftAlone() {
        for scalar in [JSONValue.null, .bool(true), .number(3)] {
            XCTAssertNil(scalar.replacingStrings { _ in "x" })
        }
        XCTAssertEqual(JSONValue.string("a").replacingStrings { _ in "b" }, .string("b"))
    }
}

import Foundation
import XCTest
@testable import RampartSigning

final class ParsingTests: XCTestCase {
    func testSHA256KnownAnswer() {
        XCTAssertEqual(sha256Hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testBase64() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let encoded = Base64.encode(bytes)
            XCTAssertEqual(encoded, Data(bytes).base64EncodedString())
            XCTAssertEqual(Base64.decode(encoded), bytes)
        }
        XCTAssertNil(Base64.decode("YQ"))  // padding required
        XCTAssertNil(Base64.decode("YQ=a"))
        XCTAssertNil(Base64.decode("Y==="))
        XCTAssertNil(Base64.decode("===="))
        XCTAssertNil(Base64.decode("YW Jj"))
        XCTAssertNil(Base64.decode("YWJj\n"))
        XCTAssertNil(Base64.decode("_-8="))
        XCTAssertEqual(Base64.decode("YQ=="), [0x61])
        XCTAssertEqual(Base64.decode(""), [])
    }

    func testHex() {
        XCTAssertEqual(parseHex("00ff", byteCount: 2), [0, 255])
        XCTAssertEqual(parseHex("00FF", byteCount: 2), [0, 255])
        XCTAssertNil(parseHex("00f", byteCount: 2))
        XCTAssertNil(parseHex("0g00", byteCount: 2))
        XCTAssertNil(parseHex("00 ff", byteCount: 2))
    }

    func testJSONAccepts() throws {
        let value = try JSONReader.parse(Array(#" {"a": [1, -2.5e+3, true, false, null, "x\u00e9\ud83d\ude00\n\/"], "b": {}} "#.utf8))
        guard case .object(let object) = value, case .array(let array)? = object["a"] else { return XCTFail("\(value)") }
        XCTAssertEqual(array, [.number("1"), .number("-2.5e+3"), .bool(true), .bool(false), .null, .string("xé😀\n/")])
        XCTAssertEqual(object["b"], .object(JSONObject()))
    }

    func testJSONRejects() {
        let bad: [String] = [
            "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "1e", "+1",
            "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\u{01}b\"", "tru", "nul", "[1] [2]",
            "{\"a\":1,\"a\":2}", "NaN", "Infinity", "'a'",
        ]
        for text in bad {
            XCTAssertThrowsError(try JSONReader.parse(Array(text.utf8)), "accepted \(text.debugDescription)")
        }
        XCTAssertThrowsError(try JSONReader.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)))
        for invalid: [UInt8] in [[0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22]] {
            XCTAssertThrowsError(try JSONReader.parse(invalid))
        }
    }

    func testJSONDepthCap() {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try JSONReader.parse(Array(ok.utf8)))
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        XCTAssertThrowsError(try JSONReader.parse(Array(deep.utf8)))
    }

    func testJSONWriterRoundTrip() throws {
        let value = JSONValue.object(JSONObject([
            ("s", .string("quote\" backslash\\ nl\n tab\t ctl\u{01} del\u{7F} é 😀")),
            ("a", .array([.bool(true), .null, .number("3")])),
        ]))
        XCTAssertEqual(try JSONReader.parse(JSONWriter.serialize(value)), value)
        let foundation = try JSONSerialization.jsonObject(with: Data(JSONWriter.serialize(value))) as? [String: Any]
        XCTAssertEqual(foundation?["s"] as? String, "quote\" backslash\\ nl\n tab\t ctl\u{01} del\u{7F} é 😀")
    }

    func testStatementRoundTrip() throws {
        let statement = ModelStatement(
            modelName: "m\"odel", resources: [(ManifestPath(canonical: "a/b")!, [UInt8](repeating: 7, count: 32))],
            ignorePaths: ["model.sig"], allowSymlinks: false)
        let parsed = try ModelStatement.parse(statement.serialize())
        XCTAssertEqual(parsed.modelName, "m\"odel")
        XCTAssertEqual(parsed.resources.map(\.path), [ManifestPath(canonical: "a/b")!])
        XCTAssertEqual(parsed.rootDigest, statement.rootDigest)
        XCTAssertEqual(parsed.ignorePaths, ["model.sig"])
    }

    func testStatementShapeErrors() {
        func parse(_ text: String) throws -> ModelStatement { try ModelStatement.parse(Array(text.utf8)) }
        XCTAssertThrowsSigningError(.malformedStatement("the statement has no '_type'")) { try parse("{}") }
        XCTAssertThrowsSigningError(.malformedStatement("the statement._type must be a string, found a number")) { try parse(#"{"_type":1}"#) }
        let head = #"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://model_signing/signature/v1.0","#
        XCTAssertThrowsSigningError(.malformedStatement("expected exactly one subject, found 0")) { try parse(head + #""subject":[]}"#) }
        XCTAssertThrowsSigningError(.malformedStatement("subject[0].digest.sha256 is not 64 hex digits")) {
            try parse(head + #""subject":[{"name":"m","digest":{"sha256":"abc"}}]}"#)
        }
        let subject = #""subject":[{"name":"m","digest":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],"#
        XCTAssertThrowsSigningError(.malformedStatement("predicate.serialization.allow_symlinks must be a boolean")) {
            try parse(head + subject + #""predicate":{"serialization":{"method":"files","hash_type":"sha256","allow_symlinks":"false"},"resources":[]}}"#)
        }
        XCTAssertNoThrow(try parse(head + subject + #""predicate":{"serialization":{"method":"files","hash_type":"sha256","allow_symlinks":false},"resources":[]}}"#))
        let digest = "\"digest\":\"" + String(repeating: "0", count: 64) + "\""
        XCTAssertThrowsSigningError({
            try parse(head + subject + #""predicate":{"serialization":{"method":"files","hash_type":"sha256","allow_symlinks":false},"resources":[{"name":"a","algorithm":"sha256",\#(digest)},{"name":"a","algorithm":"sha256",\#(digest)}]}}"#)
        }) {
            if case .malformedStatement(let m) = $0 { return m.contains("more than once") }
            return false
        }
    }
}

import XCTest
@testable import RampartSanitizerCore

final class SanitizerSchemaTests: XCTestCase {
    let weather = #"""
    {"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":64,"pattern":"^[A-Za-z ]+$"},
     "days":{"type":"integer","minimum":1,"maximum":14},"unit":{"enum":["c","f"]},
     "tags":{"type":"array","items":{"$ref":"#/$defs/tag"},"uniqueItems":true,"maxItems":3}},
     "required":["city"],"additionalProperties":false,"$defs":{"tag":{"type":"string","maxLength":8}}}
    """#

    func violations(_ schema: JSONSchema, _ json: String) throws -> [String] {
        try schema.validate(JSONParser().parse(json)).map(\.keyword)
    }

    func testValidationOfTheSupportedKeywords() throws {
        let schema = try JSONSchema(text: weather)
        XCTAssertEqual(try violations(schema, #"{"city":"Paris","days":3,"unit":"c","tags":["a","b"]}"#), [])
        XCTAssertEqual(try violations(schema, #"{"days":3}"#), ["required"])
        XCTAssertEqual(try violations(schema, #"{"city":"Paris","days":30}"#), ["maximum"])
        XCTAssertEqual(try violations(schema, #"{"city":"Paris","days":2.5}"#), ["type"])
        XCTAssertEqual(try violations(schema, #"{"city":"Paris","unit":"k"}"#), ["enum"])
        XCTAssertEqual(try violations(schema, #"{"city":"Paris; rm -rf /"}"#), ["pattern"])
        XCTAssertEqual(try violations(schema, #"{"city":"Paris","extra":1}"#), ["additionalProperties"])
        XCTAssertEqual(try violations(schema, #"{"city":"Paris","tags":["a","a"]}"#), ["uniqueItems"])
        XCTAssertEqual(try violations(schema, #"{"city":"Paris","tags":["toolongtag"]}"#), ["maxLength"])
        let combinators = try JSONSchema(text: #"{"oneOf":[{"type":"string"},{"type":"integer"}],"not":{"const":"x"}}"#)
        XCTAssertEqual(try violations(combinators, #""a""#), [])
        XCTAssertEqual(try violations(combinators, #""x""#), ["not"])
        XCTAssertEqual(try violations(combinators, "true"), ["oneOf"])
        let prefix = try JSONSchema(text: #"{"prefixItems":[{"type":"string"},{"type":"number"}],"items":false,"minItems":2}"#)
        XCTAssertEqual(try violations(prefix, #"["a",1]"#), [])
        XCTAssertEqual(try violations(prefix, #"["a",1,2]"#), ["false"])
    }

    /// Found while writing the json-schema fuzz target (docs/FUZZING.md), reproduced by it: a size
    /// keyword above Int.max (`"minLength": 1e300`) made the violation message convert it to Int,
    /// which traps. The tool definition and the tool call both come from the client's request, so
    /// one request crashed the process hosting the sanitizer.
    func testSizeKeywordsBeyondIntAreReportedNotTrapped() throws {
        // The harness input, as bytes: `schema NUL arguments`.
        let input: [UInt8] = Array(#"{"minLength":1e300}"#.utf8) + [0x00] + Array(#""x""#.utf8)
        let split = try XCTUnwrap(input.firstIndex(of: 0))
        let schema = try JSONSchema(text: String(decoding: input[..<split], as: UTF8.self))
        XCTAssertEqual(try violations(schema, String(decoding: input[(split + 1)...], as: UTF8.self)), ["minLength"])
        for (keyword, instance) in [("minItems", "[]"), ("minProperties", "{}"), ("maxLength", #""x""#)] {
            let huge = try JSONSchema(text: #"{"\#(keyword)":1e300}"#)
            XCTAssertEqual(try violations(huge, instance), keyword.hasPrefix("min") ? [keyword] : [], keyword)
        }
        // The same through the sanitizer: a clean denial of the tool call.
        let sanitizer = try Sanitizer()
        let request = RequestInput(
            messages: [
                MessageInput(role: .user, content: "hi"),
                MessageInput(role: .assistant, content: "", toolCalls: [ToolCallInput(name: "t", arguments: #"{"a":"x"}"#)]),
            ],
            tools: [ToolDefinitionInput(name: "t", parameters: #"{"type":"object","properties":{"a":{"type":"string","minLength":1e300}}}"#)])
        XCTAssertThrowsError(try sanitizer.sanitize(request, session: SanitizerSession())) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.code, .toolArguments)
            XCTAssertTrue("\(error)".contains("minLength"), "\(error)")
        }
    }

    func testUnsupportedKeywordsAndUnsafePatternsAreRefused() {
        XCTAssertThrowsError(try JSONSchema(text: #"{"if":{"type":"string"}}"#))
        XCTAssertThrowsError(try JSONSchema(text: #"{"$ref":"https://example.com/schema.json"}"#))
        // Backreferences need backtracking: Hyperscan refuses them, so the schema is refused.
        XCTAssertThrowsError(try JSONSchema(text: #"{"pattern":"(a)\\1"}"#))
        XCTAssertThrowsError(try JSONSchema(text: #"{"type":"strin"}"#))
    }

    func testCatastrophicPatternRunsInLinearTime() throws {
        let schema = try JSONSchema(text: #"{"type":"string","pattern":"^(a+)+$"}"#)
        let evil = String(repeating: "a", count: 60_000) + "!"
        XCTAssertEqual(try schema.validate(.string(evil)).map(\.keyword), ["pattern"])
    }

    /// Wide containers keep every element in order (the parser grows them in place; speed is
    /// measured, not asserted: docs/SANITIZER.md).
    func testWideArraysAndObjectsParseCompletely() throws {
        let parser = JSONParser(limits: JSONLimits(maxBytes: 1 << 20, maxDepth: 64, maxValues: 100_000, maxStringBytes: 256 << 10))
        let n = 16_000
        let array = try parser.parse("[" + (0..<n).map { "\"v\($0)\"" }.joined(separator: ",") + "]")
        XCTAssertEqual(array.arrayValue?.count, n)
        XCTAssertEqual(array.arrayValue?.first, .string("v0"))
        XCTAssertEqual(array.arrayValue?.last, .string("v\(n - 1)"))
        let object = try parser.parse("{" + (0..<n).map { "\"k\($0)\":[\($0)]" }.joined(separator: ",") + "}")
        XCTAssertEqual(object.objectValue?.count, n)
        XCTAssertEqual(object["k7"], .array([.number(7)]))
        XCTAssertEqual(object["k\(n - 1)"], .array([.number(Double(n - 1))]))
        XCTAssertThrowsError(try parser.parse("{" + (0..<3).map { _ in "\"same\":1" }.joined(separator: ",") + "}"))
    }

    func testRecursiveReferenceLoopIsBounded() throws {
        let schema = try JSONSchema(text: ##"{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}"##)
        XCTAssertThrowsError(try schema.validate(.string("x")))
        XCTAssertFalse(schema.isValid(.string("x")))
    }

    func testDeeplyNestedArgumentsAreRefusedWithoutRecursion() throws {
        let nested = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSONParser(limits: JSONLimits(maxBytes: 1 << 20)).parse(nested)) { error in
            XCTAssertEqual((error as? JSONParseError)?.code, .tooDeep)
        }
        let objects = String(repeating: #"{"a":"#, count: 100_000) + "1" + String(repeating: "}", count: 100_000)
        XCTAssertThrowsError(try JSONParser(limits: JSONLimits(maxBytes: 1 << 20)).parse(objects)) { error in
            XCTAssertEqual((error as? JSONParseError)?.code, .tooDeep)
        }
        // Through the sanitizer: a clear denial.
        let sanitizer = try Sanitizer()
        let session = SanitizerSession()
        var findings: [SanitizerFinding] = []
        XCTAssertThrowsError(try sanitizer.checkToolCall(ToolCallInput(name: "t", arguments: String(repeating: "[", count: 30_000)),
                                                         session: session, findings: &findings)) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.code, .toolArguments)
            XCTAssertTrue((error as? SanitizerDenial)?.message.contains("too_deep") ?? false)
        }
    }

    func testHugeArgumentsAreRefusedBySize() throws {
        let sanitizer = try Sanitizer()
        var findings: [SanitizerFinding] = []
        let huge = "[" + Array(repeating: "1", count: 2_000_000).joined(separator: ",") + "]"
        XCTAssertThrowsError(try sanitizer.checkToolCall(ToolCallInput(name: "t", arguments: huge), session: SanitizerSession(),
                                                         findings: &findings)) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.code, .tooLarge)
        }
        // Many small values within the byte limit hit the value-count limit.
        let many = "[" + Array(repeating: "1", count: 30_000).joined(separator: ",") + "]"
        XCTAssertThrowsError(try JSONParser(limits: JSONLimits(maxValues: 10_000)).parse(many)) { error in
            XCTAssertEqual((error as? JSONParseError)?.code, .tooManyValues)
        }
    }

    func testParserStrictness() {
        for bad in ["{\"a\":1,\"a\":2}", "[1,]", "01", "\"\\ud800\"", "{\"a\" 1}", "[1] x", "nul", "\"a\u{01}\""] {
            XCTAssertThrowsError(try JSONParser().parse(bad), bad)
        }
        XCTAssertEqual(try JSONParser().parse(#"{"a":[1,2.5,"\u00e9",true,null]}"#),
                       .object(["a": .array([.number(1), .number(2.5), .string("é"), .bool(true), .null])]))
    }

    func testModelToolCallIsRefusedOrRepairedPerConfig() throws {
        let tools = [ToolDefinitionInput(name: "weather", parameters: weather)]
        let call = ToolCallInput(name: "weather", arguments: #"{"city":"Paris","days":"3","debug":true}"#)
        var findings: [SanitizerFinding] = []

        let strict = try Sanitizer()
        let s1 = SanitizerSession()
        _ = try strict.sanitize(RequestInput(prompt: "x", tools: tools), session: s1)
        XCTAssertThrowsError(try strict.checkToolCall(call, session: s1, findings: &findings)) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.code, .toolArguments)
        }

        var config = SanitizerConfig()
        config.toolArgumentsAction = .strip
        let repairing = try Sanitizer(config: config)
        let s2 = SanitizerSession()
        _ = try repairing.sanitize(RequestInput(prompt: "x", tools: tools), session: s2)
        let repaired = try repairing.checkToolCall(call, session: s2, findings: &findings)
        XCTAssertEqual(repaired.arguments, #"{"city":"Paris","days":3}"#)
        // Where the caller cannot use a rewritten call, a repair would be reported but never
        // reach the client, so the call is refused.
        var responseFindings: [SanitizerFinding] = []
        XCTAssertThrowsError(try repairing.checkToolCall(call, session: s2, findings: &responseFindings, rewritable: false)) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.code, .toolArguments)
            XCTAssertTrue((error as? SanitizerDenial)?.message.contains("cannot be repaired here") ?? false, "\(error)")
        }
        XCTAssertEqual(responseFindings, [])
        // A valid one passes there untouched.
        let valid = ToolCallInput(name: "weather", arguments: #"{"city":"Paris","days":3}"#)
        XCTAssertEqual(try repairing.checkToolCall(valid, session: s2, findings: &responseFindings, rewritable: false), valid)
        // Unknown tools are refused once tools were offered.
        XCTAssertThrowsError(try repairing.checkToolCall(ToolCallInput(name: "shell", arguments: "{}"), session: s2, findings: &findings))
        // An invalid tool definition refuses the request.
        XCTAssertThrowsError(try strict.sanitize(RequestInput(prompt: "x", tools: [ToolDefinitionInput(name: "bad", parameters: #"{"type":7}"#)]),
                                                 session: SanitizerSession()))
    }
}

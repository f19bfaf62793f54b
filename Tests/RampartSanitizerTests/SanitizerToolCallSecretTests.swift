import XCTest
@testable import RampartSanitizerCore

/// Secrets in tool-call arguments: every string value is scanned as one field; `secrets.action`
/// decides. Personal data in arguments is left alone (tool calls carry it on purpose). Every value
/// here is invented.
final class SanitizerToolCallSecretTests: XCTestCase {
    static let key = "AKIA" + "QWERTYUIOPASDFGH"
    static let slack = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
    var arguments: String {
        #"{"to":"jane.doe@example.com","body":"use \#(Self.key) today","meta":{"tags":["a","\#(Self.slack)"],"n":3}}"#
    }

    func sanitizer(_ json: String = "") throws -> Sanitizer {
        try Sanitizer(config: json.isEmpty ? SanitizerConfig() : SanitizerConfig.parse(json))
    }

    func testSecretsAreRedactedWhereTheCallCanBeRewritten() throws {
        var findings: [SanitizerFinding] = []
        let out = try sanitizer().checkToolCall(ToolCallInput(name: "send", arguments: arguments), session: SanitizerSession(),
                                                findings: &findings)
        XCTAssertFalse(out.arguments.contains(Self.key), out.arguments)
        XCTAssertFalse(out.arguments.contains(Self.slack), out.arguments)
        XCTAssertTrue(out.arguments.contains("jane.doe@example.com"), "personal data stays: \(out.arguments)")
        XCTAssertTrue(out.arguments.contains(#""n":3"#), out.arguments)
        XCTAssertTrue(out.arguments.contains("[AWS_ACCESS_KEY_1]"), out.arguments)
        XCTAssertEqual(findings.map(\.kind), ["secret"])
        XCTAssertTrue(findings.first?.detail.hasPrefix("tool call send: ") ?? false)
    }

    func testAResponseToolCallWithASecretIsRefused() throws {
        var findings: [SanitizerFinding] = []
        XCTAssertThrowsError(try sanitizer().checkToolCall(ToolCallInput(name: "send", arguments: arguments),
                                                            session: SanitizerSession(), findings: &findings, rewritable: false)) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.code, .secret)
        }
    }

    func testDenyFlagAndOff() throws {
        var findings: [SanitizerFinding] = []
        let call = ToolCallInput(name: "send", arguments: arguments)
        XCTAssertThrowsError(try sanitizer(#"{"secrets": {"action": "deny"}}"#).checkToolCall(call, session: SanitizerSession(),
                                                                                              findings: &findings)) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.code, .secret)
        }
        let flagged = try sanitizer(#"{"secrets": {"action": "flag"}}"#).checkToolCall(call, session: SanitizerSession(), findings: &findings,
                                                                                       rewritable: false)
        XCTAssertEqual(flagged.arguments, arguments)
        XCTAssertEqual(findings.map(\.kind), ["secret"])
        findings = []
        let off = try sanitizer(#"{"secrets": {"action": "off"}}"#).checkToolCall(call, session: SanitizerSession(), findings: &findings,
                                                                                  rewritable: false)
        XCTAssertEqual(off.arguments, arguments)
        XCTAssertEqual(findings, [])
    }

    func testArgumentsWithoutSecretsAreReturnedAsWritten() throws {
        var findings: [SanitizerFinding] = []
        let text = #"{ "to" : "jane.doe@example.com", "n": 1.50 }"#
        let out = try sanitizer().checkToolCall(ToolCallInput(name: "send", arguments: text), session: SanitizerSession(),
                                                findings: &findings, rewritable: false)
        XCTAssertEqual(out.arguments, text)
        XCTAssertEqual(findings, [])
    }

    func testAssignmentsReadTheMemberName() throws {
        // The value alone is no secret; under the name `password` it is, as `password: "…"` in a prompt.
        var findings: [SanitizerFinding] = []
        let out = try sanitizer().checkToolCall(ToolCallInput(name: "login", arguments: #"{"user":"jane","password":"Tr0ub4dor-3horse!"}"#),
                                                session: SanitizerSession(), findings: &findings)
        XCTAssertFalse(out.arguments.contains("Tr0ub4dor"), out.arguments)
        XCTAssertTrue(out.arguments.contains(#""user":"jane""#), out.arguments)
        let plain = try sanitizer().checkToolCall(ToolCallInput(name: "note", arguments: #"{"text":"Tr0ub4dor-3horse!"}"#),
                                                  session: SanitizerSession(), findings: &findings)
        XCTAssertEqual(plain.arguments, #"{"text":"Tr0ub4dor-3horse!"}"#)
    }

    func testALongNameOverALongArrayIsNotRepeated() throws {
        // 40 KB of name over 5,000 elements: the scanned text stays near the arguments' size
        // (repeated per element it would be 200 MB, past the scanner's limit: refused).
        let arguments = "{\"" + String(repeating: "n", count: 40_000) + "\":[" + Array(repeating: #""a""#, count: 5_000).joined(separator: ",") + "]}"
        var findings: [SanitizerFinding] = []
        let out = try sanitizer().checkToolCall(ToolCallInput(name: "t", arguments: arguments), session: SanitizerSession(),
                                                findings: &findings, rewritable: false)
        XCTAssertEqual(out.arguments, arguments)
        XCTAssertEqual(findings, [])
    }

    func testASecretInAnArgumentNameIsRefused() throws {
        var findings: [SanitizerFinding] = []
        XCTAssertThrowsError(try sanitizer().checkToolCall(ToolCallInput(name: "t", arguments: #"{"\#(Self.key)":"x"}"#),
                                                            session: SanitizerSession(), findings: &findings)) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.code, .secret)
        }
    }

    func testEachValueGetsItsOwnRedactions() throws {
        // Thousands of values, secrets in a few of them: each lands in its own value.
        var values = Array(repeating: #""a""#, count: 5_000)
        values[0] = #""\#(Self.key)""#
        values[2_500] = #""x \#(Self.slack) y""#
        values[4_999] = #""\#(Self.key)""#
        var findings: [SanitizerFinding] = []
        let out = try sanitizer().checkToolCall(ToolCallInput(name: "t", arguments: "[" + values.joined(separator: ",") + "]"),
                                                session: SanitizerSession(), findings: &findings)
        let parsed = try JSONParser().parse(out.arguments).arrayValue ?? []
        XCTAssertEqual(parsed.count, 5_000)
        XCTAssertEqual(parsed[0], .string("[AWS_ACCESS_KEY_1]"))
        XCTAssertEqual(parsed[2_500].stringValue?.hasPrefix("x [SLACK_"), true, "\(parsed[2_500])")
        XCTAssertEqual(parsed[2_500].stringValue?.hasSuffix("] y"), true, "\(parsed[2_500])")
        XCTAssertEqual(parsed[4_999], .string("[AWS_ACCESS_KEY_1]"))
        XCTAssertEqual(parsed[1], .string("a"))
        XCTAssertEqual(parsed[4_998], .string("a"))
    }

    func testTheRequestHistoryIsRedacted() throws {
        let request = RequestInput(messages: [
            MessageInput(role: .user, content: "send it"),
            MessageInput(role: .assistant, content: "", toolCalls: [ToolCallInput(name: "send", arguments: arguments)]),
        ])
        let out = try sanitizer().sanitize(request, session: SanitizerSession())
        let sent = try XCTUnwrap(out.request.messages[1].toolCalls.first?.arguments)
        XCTAssertFalse(sent.contains(Self.key), sent)
        XCTAssertTrue(sent.contains("jane.doe@example.com"), sent)
    }
}

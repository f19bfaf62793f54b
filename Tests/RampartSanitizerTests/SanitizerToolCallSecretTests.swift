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

import XCTest
@testable import RampartSanitizerCore

/// Secrets in tool-call arguments: the string values are scanned as `name: "value"` lines;
/// `secrets.action` decides. Personal data in arguments is left alone (tool calls carry it on
/// purpose). Every value here is invented.
final class SanitizerToolCallSecretTests: XCTestCase {
    static let key = "AKIA" + "QWERTYUIOPASDFGH"
    static let slack = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
    var arguments: String {
        #"{"to":"jane.doe@example.com","body":"use \#(Self.key) today","meta":{"tags":["a","\#(Self.slack)"],"n":3}}"#
    }

    func sanitizer(_ json: String = "") throws -> Sanitizer {
        try Sanitizer(config: json.isEmpty ? SanitizerConfig() : SanitizerConfig.parse(json))
    }

    /// The checked call's arguments under `config`, with the findings it added.
    func check(_ arguments: String, name: String = "t", config: String = "", rewritable: Bool = true) throws
        -> (arguments: String, findings: [SanitizerFinding]) {
        var findings: [SanitizerFinding] = []
        let out = try sanitizer(config).checkToolCall(ToolCallInput(name: name, arguments: arguments), session: SanitizerSession(),
                                                      findings: &findings, rewritable: rewritable)
        return (out.arguments, findings)
    }

    func assertRefused(_ arguments: String, config: String = "", rewritable: Bool = true, line: UInt = #line) {
        XCTAssertThrowsError(try check(arguments, config: config, rewritable: rewritable), line: line) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.code, .secret, line: line)
        }
    }

    func assertUntouched(_ arguments: String, config: String = "", line: UInt = #line) throws {
        let out = try check(arguments, config: config, rewritable: false)
        XCTAssertEqual(out.arguments, arguments, line: line)
        XCTAssertEqual(out.findings, [], line: line)
    }

    func testSecretsAreRedactedWhereTheCallCanBeRewritten() throws {
        let (out, findings) = try check(arguments, name: "send")
        XCTAssertFalse(out.contains(Self.key), out)
        XCTAssertFalse(out.contains(Self.slack), out)
        XCTAssertTrue(out.contains("jane.doe@example.com"), "personal data stays: \(out)")
        XCTAssertTrue(out.contains(#""n":3"#), out)
        XCTAssertTrue(out.contains("[AWS_ACCESS_KEY_1]"), out)
        XCTAssertEqual(findings.map(\.kind), ["secret"])
        XCTAssertTrue(findings.first?.detail.hasPrefix("tool call send: ") ?? false)
    }

    /// A caller that cannot use a rewritten call (an embedding host without ABI 1.3's
    /// `replace_tool_calls`) gets a refusal, never the secret.
    func testACallThatCannotBeRewrittenIsRefused() {
        assertRefused(arguments, rewritable: false)
    }

    func testDenyFlagAndOff() throws {
        assertRefused(arguments, config: #"{"secrets": {"action": "deny"}}"#)
        let flagged = try check(arguments, config: #"{"secrets": {"action": "flag"}}"#, rewritable: false)
        XCTAssertEqual(flagged.arguments, arguments)
        XCTAssertEqual(flagged.findings.map(\.kind), ["secret"])
        try assertUntouched(arguments, config: #"{"secrets": {"action": "off"}}"#)
    }

    func testArgumentsWithoutSecretsAreReturnedAsWritten() throws {
        try assertUntouched(#"{ "to" : "jane.doe@example.com", "n": 1.50 }"#)
    }

    func testAssignmentsReadTheMemberName() throws {
        // The value alone is no secret; under the name `password` it is, as `password: "…"` in a prompt.
        let out = try check(#"{"user":"jane","password":"Tr0ub4dor-3horse!"}"#, name: "login").arguments
        XCTAssertFalse(out.contains("Tr0ub4dor"), out)
        XCTAssertTrue(out.contains(#""user":"jane""#), out)
        try assertUntouched(#"{"text":"Tr0ub4dor-3horse!"}"#)
    }

    func testALongNameOverALongArrayIsNotRepeated() throws {
        // 40 KB of name over 5,000 elements: the scanned text stays near the arguments' size
        // (repeated per element it would be 200 MB, past the scanner's limit: refused).
        try assertUntouched("{\"" + String(repeating: "n", count: 40_000) + "\":["
                            + Array(repeating: #""a""#, count: 5_000).joined(separator: ",") + "]}")
    }

    func testASecretInAnArgumentNameIsRefused() {
        assertRefused(#"{"\#(Self.key)":"x"}"#)
    }

    func testEachValueGetsItsOwnRedactions() throws {
        // Thousands of values, secrets in a few of them: each lands in its own value.
        var values = Array(repeating: #""a""#, count: 5_000)
        values[0] = #""\#(Self.key)""#
        values[2_500] = #""x \#(Self.slack) y""#
        values[4_999] = #""\#(Self.key)""#
        let out = try check("[" + values.joined(separator: ",") + "]").arguments
        let parsed = try JSONParser().parse(out).arrayValue ?? []
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

/// `redaction = "reversible"` and tool calls: a model's tool call gets the request's originals
/// back inside its string values, as the output text does; placeholders made from the response
/// itself are never turned back, and the request's own tool calls (history sent to the model)
/// keep their placeholders.
final class SanitizerToolCallRestoreTests: XCTestCase {
    func testAResponseToolCallGetsTheRequestsOriginalsBack() throws {
        let sanitizer = try Sanitizer(config: SanitizerConfig.parse(#"{"redaction": "reversible"}"#))
        let session = SanitizerSession()
        let out = try sanitizer.sanitize(RequestInput(prompt: "Mail alice@example.com that the key is \(SanitizerToolCallSecretTests.key)"),
                                         session: session)
        XCTAssertEqual(out.request.prompt, "Mail [EMAIL_ADDRESS_1] that the key is [AWS_ACCESS_KEY_1]")
        var findings: [SanitizerFinding] = []
        let call = ToolCallInput(id: "c1", name: "send_mail", arguments: #"{"to":"[EMAIL_ADDRESS_1]","cc":["[EMAIL_ADDRESS_1]"],"n":1}"#)
        let restored = try sanitizer.checkToolCall(call, origin: .response, session: session, findings: &findings)
        XCTAssertEqual(try JSONParser().parse(restored.arguments),
                       try JSONParser().parse(#"{"to":"alice@example.com","cc":["alice@example.com"],"n":1}"#))
        XCTAssertEqual(restored.id, "c1")
        // A secret the model wrote itself is redacted and never restored, in the call or in the text.
        let leaked = ToolCallInput(name: "send_mail", arguments: #"{"body":"key \#(SanitizerToolCallSecretTests.slack)"}"#)
        let redacted = try sanitizer.checkToolCall(leaked, origin: .response, session: session, findings: &findings)
        XCTAssertFalse(redacted.arguments.contains(SanitizerToolCallSecretTests.slack), redacted.arguments)
        let placeholder = try XCTUnwrap(redacted.arguments.range(of: #"\[SLACK_[A-Z_]+_1\]"#, options: .regularExpression)
            .map { String(redacted.arguments[$0]) }, redacted.arguments)
        XCTAssertEqual(try sanitizer.checkOutput("echo \(placeholder)", session: session).text, "echo \(placeholder)")
        // The request's own tool calls keep the placeholders (they go to the model).
        let history = try sanitizer.checkToolCall(call, session: session, findings: &findings)
        XCTAssertEqual(history.arguments, call.arguments)
        // Other modes leave the placeholders, and an untouched call keeps its bytes.
        let typed = try Sanitizer(config: SanitizerConfig.parse(#"{"redaction": "typed"}"#))
        let typedSession = SanitizerSession()
        _ = try typed.sanitize(RequestInput(prompt: "Mail alice@example.com"), session: typedSession)
        XCTAssertEqual(try typed.checkToolCall(call, origin: .response, session: typedSession, findings: &findings).arguments, call.arguments)
        let plain = ToolCallInput(name: "send_mail", arguments: #"{ "to" : "nobody" }"#)
        XCTAssertEqual(try sanitizer.checkToolCall(plain, origin: .response, session: session, findings: &findings).arguments, plain.arguments)
    }

    /// The URL policy judges the call the application receives: with the originals back in.
    func testTheURLPolicySeesTheRestoredCall() throws {
        let sanitizer = try Sanitizer(config: SanitizerConfig.parse(#"{"redaction": "reversible"}"#))
        let session = SanitizerSession()
        let out = try sanitizer.sanitize(RequestInput(prompt: "the box is at 10.0.0.5"), session: session)
        XCTAssertEqual(out.request.prompt, "the box is at [IP_ADDRESS_1]")
        var findings: [SanitizerFinding] = []
        let call = ToolCallInput(name: "fetch", arguments: #"{"url":"https://[IP_ADDRESS_1]/admin"}"#)
        XCTAssertThrowsError(try sanitizer.checkToolCall(call, origin: .response, session: session, findings: &findings)) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.code, .url)
            XCTAssertTrue((error as? SanitizerDenial)?.message.contains("address 10.0.0.5 is") ?? false, "\(error)")
        }
    }
}

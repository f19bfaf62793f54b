import XCTest

@testable import RampartConfig

final class SyntaxAndReportingTests: XCTestCase {
    func testSyntaxErrorHasLineAndColumn() {
        let error = configError("[server]\nlz4 = true\nmax_frame_size = \n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .syntax)
        XCTAssertEqual(issue?.line, 3)
        XCTAssertNotNil(issue?.column)
        XCTAssertTrue(error.description.hasPrefix("rampart.toml:3:"), error.description)
        XCTAssertTrue(error.description.contains("TOML syntax error: "), error.description)
    }

    func testUnclosedTableHeader() {
        let issue = singleIssue(configError("# config\n\n[server\nlz4 = true\n"))
        XCTAssertEqual(issue?.kind, .syntax)
        XCTAssertEqual(issue?.line, 3)
    }

    func testDuplicateKeyAndTable() {
        XCTAssertEqual(singleIssue(configError("[server]\nlz4 = true\nlz4 = false\n"))?.line, 3)
        XCTAssertEqual(singleIssue(configError("[server]\nlz4 = true\n[limits]\n[server]\n"))?.line, 4)
    }

    func testUnterminatedString() {
        let issue = singleIssue(configError("[backend]\nkind = \"builtin\nmodel_path = \"\"\n"))
        XCTAssertEqual(issue?.kind, .syntax)
        XCTAssertEqual(issue?.line, 2)
    }

    func testNULCharacterIsRejectedWithPosition() {
        let error = configError("[server]\nlz4 = tr\u{0}ue\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .syntax)
        XCTAssertEqual(issue?.line, 2)
        XCTAssertEqual(issue?.column, 9)
        XCTAssertEqual(error.description, "rampart.toml:2:9: TOML syntax error: NUL character (U+0000) is not allowed")
    }

    func testNULEscapeInStringIsRejected() {
        // TOMLKit would hand back "run/a" here, silently truncated.
        let error = configError("[server]\nsocket = \"run/a\\u0000.sock\"\n")
        XCTAssertEqual(error.issues.map(\.kind), [.syntax])
        XCTAssertEqual(error.issues.first?.line, 2)
        XCTAssertEqual(error.issues.first?.column, 16)
        let key = configError("[server]\n\"a\\u0000b\" = 1\n")
        XCTAssertTrue(key.issues.contains { $0.kind == .syntax && $0.line == 2 }, "\(key)")
    }

    func testSeveralErrorsAreReportedTogetherInFileOrder() {
        let error = configError(
            """
            [server]
            sockt = "r.sock"
            max_frame_size = 0
            lz4 = "yes"

            [limits]
            max_tokens = 10
            default_max_tokens = 20

            [logging]
            level = "loud"

            [extras]
            x = 1
            """)
        XCTAssertEqual(
            error.issues.map(\.keyPath),
            [
                "server.sockt", "server.max_frame_size", "server.lz4", "limits.default_max_tokens", "logging.level",
                "extras",
            ])
        XCTAssertEqual(error.issues.map(\.line), [2, 3, 4, 8, 11, 13])
        XCTAssertEqual(
            error.issues.map(\.kind), [.unknownKey, .outOfRange, .wrongType, .conflict, .invalidValue, .unknownKey])
        XCTAssertEqual(
            error.description,
            """
            rampart.toml:2: unknown key 'server.sockt' (did you mean 'server.socket'?)
            rampart.toml:3: server.max_frame_size: must be between 1024 and 67108864, got 0
            rampart.toml:4: server.lz4: expected a boolean (true or false), got string "yes"
            rampart.toml:8: limits.default_max_tokens: must be at most limits.max_tokens = 10, got 20
            rampart.toml:11: logging.level: must be one of "trace", "debug", "info", "notice", "warning", "error" or "critical", got "loud"
            rampart.toml:13: unknown table 'extras'
            """)
    }

    func testLinesOfDottedInlineAndMultilineForms() {
        let error = configError(
            """
            description = '''
            [limits]
            max_tokens = 0
            '''
            server.max_frame_size = 1
            limits = { max_tokens = 100, max_messages = 0 }
            logging = { level = "x" }
            """)
        // description (unknown, line 1), the dotted key (line 5), inline-table keys.
        XCTAssertEqual(error.issues(at: "description").first?.line, 1)
        XCTAssertEqual(error.issues(at: "server.max_frame_size").first?.line, 5)
        XCTAssertEqual(error.issues(at: "limits.max_messages").first?.line, 6)
        XCTAssertEqual(error.issues(at: "logging.level").first?.line, 7)
    }

    func testLinesWithByteOrderMarkAndCRLF() {
        let error = configError("\u{FEFF}[server]\r\nlz4 = 2\r\n\r\n[limits]\r\nmax_tokens = 0\r\n")
        XCTAssertEqual(error.issues.map(\.line), [2, 5])
        let first = configError("\u{FEFF}sockt = 1\n")
        XCTAssertEqual(first.issues.first?.line, 1)
    }

    func testIssueFormatting() {
        let located = ConfigError.Issue(kind: .outOfRange, keyPath: "a.b", line: 3, message: "bad")
        XCTAssertEqual(located.formatted(source: "f.toml"), "f.toml:3: a.b: bad")
        let unlocated = ConfigError.Issue(kind: .conflict, keyPath: "a.b", message: "bad")
        XCTAssertEqual(unlocated.formatted(source: "f.toml"), "f.toml: a.b: bad")
        let syntax = ConfigError.Issue(kind: .syntax, keyPath: nil, line: 1, column: 2, message: "oops")
        XCTAssertEqual(syntax.formatted(source: "f.toml"), "f.toml:1:2: oops")
    }
}

import XCTest

@testable import RampartConfig

final class TypeTests: XCTestCase {
    func testStringWhereIntegerExpected() {
        let error = configError("[server]\nmax_frame_size = \"4MiB\"\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .wrongType)
        XCTAssertEqual(issue?.keyPath, "server.max_frame_size")
        XCTAssertEqual(
            error.description, "rampart.toml:2: server.max_frame_size: expected an integer, got string \"4MiB\"")
    }

    func testQuotedNumberGetsAHint() {
        let error = configError("[limits]\nmax_tokens = \"4096\"\n")
        XCTAssertEqual(
            error.description,
            "rampart.toml:2: limits.max_tokens: expected an integer, got string \"4096\" (write the number without quotes)"
        )
    }

    func testFloatWhereIntegerExpected() {
        let error = configError("[server]\nworker_threads = 2.0\n")
        XCTAssertEqual(singleIssue(error)?.kind, .wrongType)
        XCTAssertTrue(error.description.contains("expected an integer, got floating-point number 2.0"), "\(error)")
    }

    func testIntegerWhereBooleanExpected() {
        let error = configError("[server]\nlz4 = 1\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .wrongType)
        XCTAssertEqual(error.description, "rampart.toml:2: server.lz4: expected a boolean (true or false), got integer 1")
        XCTAssertEqual(
            configError("[server]\nlz4 = \"true\"\n").description,
            "rampart.toml:2: server.lz4: expected a boolean (true or false), got string \"true\" (write true without quotes)"
        )
    }

    func testTableWhereValueExpected() {
        let inline = configError("[server]\nmax_frame_size = { value = 1 }\n")
        XCTAssertEqual(singleIssue(inline)?.kind, .wrongType)
        XCTAssertEqual(inline.description, "rampart.toml:2: server.max_frame_size: expected an integer, got a table")

        let header = configError("[server]\nlz4 = true\n\n[server.socket]\npath = \"x\"\n")
        XCTAssertEqual(header.issues.map(\.keyPath), ["server.socket"])
        XCTAssertEqual(header.issues.first?.kind, .wrongType)
        XCTAssertEqual(header.issues.first?.line, 4)
    }

    func testArrayAndDateWhereStringExpected() {
        XCTAssertEqual(
            configError("[server]\nsocket = [\"a\", \"b\"]\n").description,
            "rampart.toml:2: server.socket: expected a string, got an array")
        XCTAssertEqual(
            configError("[backend]\nmodel_path = 1979-05-27\n").description,
            "rampart.toml:2: backend.model_path: expected a string, got a date")
    }

    func testSectionThatIsNotATable() {
        let error = configError("server = 5\n")
        XCTAssertEqual(error.description, "rampart.toml:1: server: expected a table ([server]), got integer 5")
    }

    func testInvalidEnumValues() {
        XCTAssertEqual(
            configError("[logging]\nlevel = \"warn\"\n").description,
            "rampart.toml:2: logging.level: must be one of \"trace\", \"debug\", \"info\", \"notice\", \"warning\", "
                + "\"error\" or \"critical\", got \"warn\" (did you mean \"warning\"?)")
        XCTAssertEqual(
            configError("[logging]\nformat = \"JSON\"\n").description,
            "rampart.toml:2: logging.format: must be one of \"text\" or \"json\", got \"JSON\" (did you mean \"json\"?)")
        let kind = configError("[backend]\nkind = \"openai\"\n")
        XCTAssertEqual(singleIssue(kind)?.kind, .invalidValue)
        XCTAssertEqual(
            kind.description, "rampart.toml:2: backend.kind: must be one of \"builtin\" or \"null\", got \"openai\"")
        XCTAssertEqual(
            configError("[logging]\nlevel = 3\n").description,
            "rampart.toml:2: logging.level: expected a string, one of \"trace\", \"debug\", \"info\", \"notice\", "
                + "\"warning\", \"error\" or \"critical\", got integer 3")
    }

    func testInvalidSocketModes() {
        for bad in ["0644", "600", "0777", "", "0o600"] {
            let error = configError("[server]\nsocket_mode = \"\(bad)\"\n")
            XCTAssertEqual(singleIssue(error)?.kind, .invalidValue, bad)
            XCTAssertEqual(
                error.description, "rampart.toml:2: server.socket_mode: must be \"0600\" or \"0660\", got \"\(bad)\"")
        }
        let integer = configError("[server]\nsocket_mode = 0o600\n")
        XCTAssertEqual(singleIssue(integer)?.kind, .wrongType)
        XCTAssertEqual(
            integer.description,
            "rampart.toml:2: server.socket_mode: expected a string, \"0600\" or \"0660\", got integer 384 "
                + "(write the mode as a quoted octal string, e.g. \"0600\")")
    }

    func testInvalidSocketGroups() {
        let cases: [(String, ConfigError.Issue.Kind)] = [
            ("\"\"", .invalidValue),
            ("\"bad group\"", .invalidValue),
            ("\"-dash\"", .invalidValue),
            ("\"a:b\"", .invalidValue),
            ("\"" + String(repeating: "g", count: 33) + "\"", .invalidValue),
            ("-1", .outOfRange),
            ("4294967295", .outOfRange),
            ("\"99999999999\"", .outOfRange),
            ("true", .wrongType),
        ]
        for (literal, kind) in cases {
            let error = configError("[server]\nsocket_group = \(literal)\n")
            XCTAssertEqual(error.issues.map(\.kind), [kind], literal)
            XCTAssertEqual(error.issues.first?.keyPath, "server.socket_group", literal)
        }
    }
}

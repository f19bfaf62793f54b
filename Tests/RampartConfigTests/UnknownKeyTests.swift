import XCTest

@testable import RampartConfig

final class UnknownKeyTests: XCTestCase {
    func testUnknownTopLevelTableWithSuggestion() {
        let error = configError("[sever]\nsocket = \"x.sock\"\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .unknownKey)
        XCTAssertEqual(issue?.keyPath, "sever")
        XCTAssertEqual(issue?.line, 1)
        XCTAssertEqual(error.description, "rampart.toml:1: unknown table 'sever' (did you mean 'server'?)")
    }

    func testUnknownTopLevelTableWithoutSuggestion() {
        let error = configError("[server]\nlz4 = true\n\n[frobnicator]\nx = 1\n")
        XCTAssertEqual(error.description, "rampart.toml:4: unknown table 'frobnicator'")
    }

    func testUnknownTopLevelKeyThatBelongsInASection() {
        let error = configError("socket = \"x.sock\"\n")
        XCTAssertEqual(error.description, "rampart.toml:1: unknown key 'socket' (did you mean 'server.socket'?)")
        let typo = configError("\n\nmax_token = 5\n")
        XCTAssertEqual(typo.description, "rampart.toml:3: unknown key 'max_token' (did you mean 'limits.max_tokens'?)")
    }

    func testUnknownKeyInKnownTableWithSuggestion() {
        let error = configError("[server]\nsocket_mode = \"0600\"\nsockt = \"r.sock\"\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .unknownKey)
        XCTAssertEqual(issue?.keyPath, "server.sockt")
        XCTAssertEqual(issue?.line, 3)
        XCTAssertEqual(error.description, "rampart.toml:3: unknown key 'server.sockt' (did you mean 'server.socket'?)")
    }

    func testSuggestionsForCommonTypos() {
        let cases: [(String, String)] = [
            ("[server]\nmax_frame_sise = 1", "server.max_frame_size"),
            ("[server]\nMAX_FRAME_SIZE = 1", "server.max_frame_size"),
            ("[server]\nlz4_treshold = 1", "server.lz4_threshold"),
            ("[server]\nworker_thread = 1", "server.worker_threads"),
            ("[server]\nsocket_gruop = 1", "server.socket_group"),
            ("[server]\nread_timeout = 1", "server.read_timeout_ms"),
            ("[limits]\nmax_mesages = 1", "limits.max_messages"),
            ("[logging]\nlvl = \"info\"", "logging.level"),
            ("[backend]\nmodel = \"x\"", "backend.model_path"),
            // In the wrong section: points at the right one.
            ("[server]\nmax_tokens = 1", "limits.max_tokens"),
            ("[limits]\nmax_frame_size = 1", "server.max_frame_size"),
        ]
        for (toml, suggestion) in cases {
            let error = configError(toml)
            XCTAssertTrue(error.description.hasSuffix("(did you mean '\(suggestion)'?)"), "\(toml) → \(error)")
        }
    }

    func testNoSuggestionWhenNothingIsClose() {
        let error = configError("[server]\nbanana = 1\n")
        XCTAssertEqual(error.description, "rampart.toml:2: unknown key 'server.banana'")
    }

    func testUnknownSubtableOfKnownSection() {
        let error = configError("[server]\nlz4 = true\n[server.tls]\ncert = \"x\"\n")
        XCTAssertEqual(error.issues.map(\.keyPath), ["server.tls"])
        XCTAssertEqual(error.issues.first?.line, 3)
        XCTAssertEqual(error.issues.first?.kind, .unknownKey)
    }

    func testQuotedUnknownKeyIsPrintedQuoted() {
        let error = configError("[server]\n\"so cket\" = 1\n")
        XCTAssertEqual(error.description, "rampart.toml:2: unknown key 'server.\"so cket\"' (did you mean 'server.socket'?)")
        let other = configError("[limits]\n\"a b\" = 1\n")
        XCTAssertEqual(other.description, "rampart.toml:2: unknown key 'limits.\"a b\"'")
    }

    func testUnknownArrayOfTables() {
        let error = configError("[[plugin]]\nname = \"x\"\n")
        XCTAssertEqual(error.issues.map(\.keyPath), ["plugin"])
        XCTAssertEqual(error.issues.first?.line, 1)
        XCTAssertEqual(error.description, "rampart.toml:1: unknown array of tables 'plugin' (did you mean 'plugins'?)")
        let other = configError("\n[[extras]]\nx = 1\n")
        XCTAssertEqual(other.description, "rampart.toml:2: unknown array of tables 'extras'")
    }
}

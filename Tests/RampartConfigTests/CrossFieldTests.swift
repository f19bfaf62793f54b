import XCTest

@testable import RampartConfig

final class CrossFieldTests: XCTestCase {
    func testDefaultMaxTokensAboveMaxTokens() {
        let error = configError("[limits]\nmax_tokens = 100\ndefault_max_tokens = 101\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .conflict)
        XCTAssertEqual(issue?.keyPath, "limits.default_max_tokens")
        XCTAssertEqual(
            error.description,
            "rampart.toml:3: limits.default_max_tokens: must be at most limits.max_tokens = 100, got 101")
        XCTAssertNoThrow(try parseConfig("[limits]\nmax_tokens = 100\ndefault_max_tokens = 100\n"))
    }

    func testConflictWithADefaultSaysSoAndPointsAtTheKeyInTheFile() {
        // default_max_tokens (128) is not in the file: the line is max_tokens'.
        let error = configError("[limits]\n\nmax_tokens = 64\n")
        XCTAssertEqual(
            error.description,
            "rampart.toml:3: limits.default_max_tokens: must be at most limits.max_tokens = 64, got 128 (the default)")
        let other = configError("[limits]\ndefault_max_tokens = 4096\n")
        XCTAssertEqual(
            other.description,
            "rampart.toml:2: limits.default_max_tokens: must be at most limits.max_tokens = 2048 (the default), got 4096")
    }

    func testLZ4ThresholdAboveMaxFrameSize() {
        let error = configError("[server]\nmax_frame_size = 4096\nlz4_threshold = 8192\n[limits]\nmax_prompt_bytes = 4096\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .conflict)
        XCTAssertEqual(issue?.keyPath, "server.lz4_threshold")
        XCTAssertEqual(issue?.line, 3)
        XCTAssertEqual(issue?.message, "must be at most server.max_frame_size = 4096, got 8192")
    }

    func testMaxPromptBytesAboveMaxFrameSize() {
        let error = configError("[server]\nmax_frame_size = 1048576\n[limits]\nmax_prompt_bytes = 1048577\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.keyPath, "limits.max_prompt_bytes")
        XCTAssertEqual(issue?.line, 4)
        XCTAssertEqual(issue?.kind, .conflict)
        XCTAssertNoThrow(try parseConfig("[server]\nmax_frame_size = 1048576\n[limits]\nmax_prompt_bytes = 1048576\n"))
    }

    func testSmallFrameSizeConflictsWithDefaultPromptBytes() {
        let error = configError("[server]\nmax_frame_size = 1024\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.keyPath, "limits.max_prompt_bytes")
        XCTAssertEqual(issue?.line, 2)
        XCTAssertEqual(issue?.message, "must be at most server.max_frame_size = 1024, got 1048576 (the default)")
    }

    func testGroupModeNeedsGroup() {
        let error = configError("[server]\nsocket_mode = \"0660\"\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .conflict)
        XCTAssertEqual(
            error.description,
            "rampart.toml:2: server.socket_mode: \"0660\" lets a group connect, so server.socket_group must name that group"
        )
        XCTAssertEqual(
            try parseConfig("[server]\nsocket_mode = \"0660\"\nsocket_group = \"rampart\"\n").server.socketMode,
            .ownerAndGroup)
    }

    func testModelPathOnlyWithBuiltin() {
        let error = configError("[backend]\nkind = \"null\"\nmodel_path = \"/models/tiny\"\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .conflict)
        XCTAssertEqual(
            error.description,
            "rampart.toml:3: backend.model_path: only applies to backend.kind = \"builtin\", but kind is \"null\"")
        XCTAssertNoThrow(try parseConfig("[backend]\nkind = \"null\"\nmodel_path = \"\"\n"))
    }

    func testRulesAreSkippedWhenAnInvolvedKeyIsInvalid() {
        // max_frame_size = 0 is out of range; the rules comparing against it must not pile on.
        let error = configError("[server]\nmax_frame_size = 0\n")
        XCTAssertEqual(error.issues.map(\.keyPath), ["server.max_frame_size"])
        let wrongType = configError("[limits]\nmax_tokens = \"many\"\ndefault_max_tokens = 4000\n")
        XCTAssertEqual(wrongType.issues.map(\.keyPath), ["limits.max_tokens"])
        let badKind = configError("[backend]\nkind = \"nul\"\nmodel_path = \"x\"\n")
        XCTAssertEqual(badKind.issues.map(\.keyPath), ["backend.kind"])
    }
}

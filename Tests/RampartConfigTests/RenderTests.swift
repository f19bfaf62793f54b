import XCTest

@testable import RampartConfig

final class RenderTests: XCTestCase {
    func assertRoundTrip(_ config: RampartConfig, file: StaticString = #filePath, line: UInt = #line) {
        let text = config.render()
        do {
            let parsed = try ConfigLoader.parse(text, baseDirectory: "/elsewhere", source: "rendered.toml")
            XCTAssertEqual(parsed, config, text, file: file, line: line)
            XCTAssertEqual(parsed.render(), text, file: file, line: line)
        } catch {
            XCTFail("\(error)\n\(text)", file: file, line: line)
        }
    }

    func testRoundTripOfDefaults() {
        assertRoundTrip(RampartConfig.defaults(baseDirectory: "/etc/rampart"))
    }

    func testRoundTripOfDev() {
        assertRoundTrip(RampartConfig.dev(runDirectory: "/run/rampart"))
    }

    func testRoundTripOfFullFile() throws {
        assertRoundTrip(try parseConfig(ValidFileTests.full))
    }

    func testRoundTripOfEveryEnumAndGroupForm() {
        var config = RampartConfig.defaults(baseDirectory: "/srv")
        for level in RampartConfig.Logging.Level.allCases {
            config.logging.level = level
            assertRoundTrip(config)
        }
        config.logging.format = .json
        config.server.socketMode = .ownerAndGroup
        config.server.socketGroup = .gid(1234)
        assertRoundTrip(config)
        config.server.socketGroup = .name("ops_team$")
        assertRoundTrip(config)
        config.backend = .init(kind: .null)
        assertRoundTrip(config)
    }

    func testRoundTripOfAwkwardStrings() {
        for socket in ["/tmp/a \"quoted\" \\ back.sock", "/tmp/tab\there.sock", "/tmp/ünïcødé-☃.sock", "/tmp/new\nline", "/tmp/del\u{7F}"] {
            var config = RampartConfig.defaults(baseDirectory: "/")
            config.server.socket = socket
            config.backend.modelPath = socket + "-model"
            assertRoundTrip(config)
        }
    }

    func testRenderIsCommentedAndComplete() throws {
        let text = RampartConfig.defaults(baseDirectory: "/etc/rampart").render()
        XCTAssertTrue(text.hasPrefix("# Rampart configuration (schema v1)."))
        for section in ["[server]", "[limits]", "[backend]", "[logging]", "[plugin_trust]", "[chain]"] {
            XCTAssertTrue(text.contains("\n" + section + "\n"), section)
        }
        XCTAssertTrue(text.contains("\nsocket = \"/etc/rampart/run/rampart.sock\"\n"))
        XCTAssertTrue(text.contains("\nsocket_mode = \"0600\"\n"))
        XCTAssertTrue(text.contains("\n# socket_group = \"rampart\"\n"))
        XCTAssertTrue(text.contains("\nmax_frame_size = 4194304\n"))
        XCTAssertTrue(text.contains("\nlz4 = true\n"))
        XCTAssertTrue(text.contains("\nflush_every = \"auto\"\n"))
        XCTAssertTrue(text.contains("\nkind = \"builtin\"\n"))
        XCTAssertTrue(text.contains("\nmodel_path = \"\"\n"))
        XCTAssertTrue(text.contains("\nlevel = \"info\"\n"))
        // Every key is preceded by a comment line.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where line.contains(" = ") && !line.hasPrefix("#") {
            XCTAssertTrue(index > 0 && lines[index - 1].hasPrefix("#"), "no comment above \(line)")
        }
        let keyLines = lines.filter { $0.contains(" = ") && !$0.hasPrefix("# ") || $0.hasPrefix("# socket_group = ") }
        XCTAssertEqual(keyLines.count, 13 + 4 + 2 + 2 + 3 + 1 + 2)
    }
}

import Foundation
import XCTest

@testable import RampartConfig

final class ExamplesAndDocsTests: XCTestCase {
    var configsDirectory: String { repositoryRoot + "/examples/configs" }

    func testExampleConfigLoadsCleanly() throws {
        let path = configsDirectory + "/rampart.toml"
        let config = try ConfigLoader.load(path: path)
        var expected = RampartConfig.defaults(baseDirectory: ConfigPath.normalize(configsDirectory))
        expected.server.socket = ConfigPath.normalize(configsDirectory) + "/run/rampart.sock"
        XCTAssertEqual(config, expected)
    }

    func testBenchNullConfigLoadsCleanly() throws {
        let config = try ConfigLoader.load(path: configsDirectory + "/bench-null.toml")
        XCTAssertEqual(config.backend.kind, .null)
        XCTAssertNil(config.backend.modelPath)
        XCTAssertEqual(config.logging.level, .warning)
        XCTAssertTrue(config.server.socket.hasSuffix("/examples/configs/run/rampart-bench.sock"))
        XCTAssertNoThrow(try config.validate())
    }

    func testExampleMentionsEveryKey() throws {
        let text = try String(contentsOfFile: configsDirectory + "/rampart.toml", encoding: .utf8)
        for binding in RampartConfig.schema {
            XCTAssertTrue(text.contains("[\(binding.name)]"), binding.name)
            for key in binding.keyNames {
                XCTAssertTrue(text.contains("\n\(key) = ") || text.contains("\n# \(key) = "), "\(binding.name).\(key)")
            }
        }
    }

    func testDocsExampleParses() throws {
        let text = try String(contentsOfFile: repositoryRoot + "/docs/CONFIG.md", encoding: .utf8)
        guard let section = text.range(of: "\n## Example\n"),
            let start = text.range(of: "```toml\n", range: section.upperBound..<text.endIndex),
            let end = text.range(of: "\n```", range: start.upperBound..<text.endIndex)
        else { return XCTFail("docs/CONFIG.md has no ## Example toml block") }
        let config = try parseConfig(String(text[start.upperBound..<end.lowerBound]))
        XCTAssertEqual(config.backend.modelPath, "/etc/rampart/models/rampart-tiny")
        XCTAssertEqual(config.pluginTrust.trustedKeys, ["/etc/rampart/keys/plugins.pub"])
        XCTAssertEqual(config.plugins.map(\.name), ["keyword-guard", "pii-redactor"])
        XCTAssertEqual(config.plugins.first?.path, "/etc/rampart/plugins/keyword-guard")
    }

    func testDocsDescribeEveryKey() throws {
        let text = try String(contentsOfFile: repositoryRoot + "/docs/CONFIG.md", encoding: .utf8)
        for binding in RampartConfig.schema {
            for key in binding.keyNames {
                // `server.socket`; `plugins[].name` for the entries of an array of tables.
                let path = "`\(binding.pathPrefix).\(key)`"
                XCTAssertTrue(text.contains(path), "docs/CONFIG.md lacks \(path)")
            }
        }
    }
}

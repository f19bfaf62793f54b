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

    func testDocsDescribeEveryKey() throws {
        let text = try String(contentsOfFile: repositoryRoot + "/docs/CONFIG.md", encoding: .utf8)
        for binding in RampartConfig.schema {
            for key in binding.keyNames {
                XCTAssertTrue(text.contains("`\(binding.name).\(key)`"), "docs/CONFIG.md lacks `\(binding.name).\(key)`")
            }
        }
    }
}

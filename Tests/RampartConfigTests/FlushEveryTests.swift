import XCTest

@testable import RampartConfig

/// `server.flush_every`: "auto" or a number of answers.
final class FlushEveryTests: XCTestCase {
    func testTheDefaultIsAuto() throws {
        XCTAssertEqual(try parseConfig("[server]\n").server.flushEvery, .auto)
    }

    func testAutoAndNumbersParse() throws {
        XCTAssertEqual(try parseConfig("[server]\nflush_every = \"auto\"\n").server.flushEvery, .auto)
        XCTAssertEqual(try parseConfig("[server]\nflush_every = 0\n").server.flushEvery, .answers(0))
        XCTAssertEqual(try parseConfig("[server]\nflush_every = 16\n").server.flushEvery, .answers(16))
    }

    func testAnotherWordIsRefusedWithASuggestion() {
        let issues = configError("[server]\nflush_every = \"Auto\"\n").issues(at: "server.flush_every")
        XCTAssertEqual(issues.map(\.kind), [.invalidValue])
        XCTAssertEqual(issues.first?.line, 2)
        let message = issues.first?.message ?? ""
        XCTAssertTrue(message.contains("must be \"auto\" or a number of answers (0 ... 1024)"), message)
        XCTAssertTrue(message.contains("did you mean \"auto\""), message)
    }

    func testOtherTypesAreRefused() {
        for value in ["2.5", "true", "[2]"] {
            let issues = configError("[server]\nflush_every = \(value)\n").issues(at: "server.flush_every")
            XCTAssertEqual(issues.map(\.kind), [.wrongType], value)
        }
    }

    func testRenderingRoundTrips() throws {
        for value in [RampartConfig.FlushEvery.auto, .answers(0), .answers(7)] {
            var config = RampartConfig()
            config.server.flushEvery = value
            XCTAssertEqual(try parseConfig(config.render()).server.flushEvery, value)
        }
    }
}

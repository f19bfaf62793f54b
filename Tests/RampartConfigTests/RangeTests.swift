import XCTest

@testable import RampartConfig

final class RangeTests: XCTestCase {
    /// The ranges of schema v1, written out independently of the implementation.
    static let ranges: [(section: String, key: String, range: ClosedRange<Int>)] = [
        ("server", "max_frame_size", 1024...67_108_864),
        ("server", "max_concurrent_streams", 1...10_000),
        ("server", "read_timeout_ms", 100...600_000),
        ("server", "idle_timeout_ms", 1000...86_400_000),
        ("server", "drain_timeout_ms", 0...3_600_000),
        ("server", "event_loop_threads", 1...64),
        ("server", "worker_threads", 1...256),
        ("server", "lz4_threshold", 64...67_108_864),
        ("server", "flush_every", 0...1024),
        ("limits", "max_tokens", 1...1_000_000),
        ("limits", "default_max_tokens", 1...1_000_000),
        ("limits", "max_prompt_bytes", 1...67_108_864),
        ("limits", "max_messages", 1...100_000),
    ]

    func testBoundariesOfEveryIntegerKey() {
        for (section, key, range) in Self.ranges {
            let path = "\(section).\(key)"
            for outside in [range.lowerBound - 1, range.upperBound + 1, Int.min, Int.max] {
                let toml = "# line 1\n[\(section)]\n\(key) = \(outside)\n"
                let error = configError(toml)
                let issues = error.issues(at: path)
                XCTAssertEqual(issues.map(\.kind), [.outOfRange], "\(path) = \(outside): \(error)")
                XCTAssertEqual(issues.first?.line, 3, path)
                XCTAssertEqual(
                    issues.first?.message,
                    "must be between \(range.lowerBound) and \(range.upperBound), got \(outside)")
            }
            for inside in [range.lowerBound, range.upperBound] {
                let toml = "[\(section)]\n\(key) = \(inside)\n"
                do {
                    _ = try parseConfig(toml)
                } catch let error as ConfigError {
                    // Cross-key rules may object (e.g. lz4_threshold above the default frame
                    // size); the range itself must not.
                    XCTAssertFalse(
                        error.issues(at: path).contains { $0.kind == .outOfRange }, "\(path) = \(inside): \(error)")
                } catch {
                    XCTFail("\(error)")
                }
            }
        }
    }

    func testBoundaryValuesParseCleanlyWithRoomyNeighbours() throws {
        let upper = try parseConfig(
            """
            [server]
            max_frame_size = 67108864
            max_concurrent_streams = 10000
            read_timeout_ms = 600000
            idle_timeout_ms = 86400000
            drain_timeout_ms = 3600000
            event_loop_threads = 64
            worker_threads = 256
            lz4_threshold = 67108864
            [limits]
            max_tokens = 1000000
            default_max_tokens = 1000000
            max_prompt_bytes = 67108864
            max_messages = 100000
            """)
        XCTAssertEqual(upper.server.maxFrameSize, 67_108_864)
        XCTAssertEqual(upper.limits.defaultMaxTokens, 1_000_000)

        let lower = try parseConfig(
            """
            [server]
            max_frame_size = 1024
            max_concurrent_streams = 1
            read_timeout_ms = 100
            idle_timeout_ms = 1000
            drain_timeout_ms = 0
            event_loop_threads = 1
            worker_threads = 1
            lz4_threshold = 64
            [limits]
            max_tokens = 1
            default_max_tokens = 1
            max_prompt_bytes = 1
            max_messages = 1
            """)
        XCTAssertEqual(lower.server.maxFrameSize, 1024)
        XCTAssertEqual(lower.server.drainTimeoutMs, 0)
    }

    func testSchemaRangesMatchTheDocumentedOnes() {
        var schema: [String: ClosedRange<Int>] = [:]
        for key in RampartConfig.Server.keys { if let range = key.range { schema["server.\(key.name)"] = range } }
        for key in RampartConfig.Limits.keys { if let range = key.range { schema["limits.\(key.name)"] = range } }
        for key in RampartConfig.Backend.keys { if let range = key.range { schema["backend.\(key.name)"] = range } }
        for key in RampartConfig.Logging.keys { if let range = key.range { schema["logging.\(key.name)"] = range } }
        var documented: [String: ClosedRange<Int>] = [:]
        for (section, key, range) in Self.ranges { documented["\(section).\(key)"] = range }
        XCTAssertEqual(schema, documented)
    }

    func testOutOfRangeMessageFormat() {
        let error = configError(
            """
            # Rampart
            [server]
            socket = "r.sock"
            lz4 = true

            # frames
            max_frame_size = 0
            """)
        XCTAssertEqual(error.description, "rampart.toml:7: server.max_frame_size: must be between 1024 and 67108864, got 0")
    }

    func testHugeIntegerLiteralIsASyntaxError() {
        let error = configError("[server]\nmax_frame_size = 99999999999999999999\n")
        XCTAssertEqual(singleIssue(error)?.kind, .syntax)
        XCTAssertEqual(error.issues.first?.line, 2)
    }
}

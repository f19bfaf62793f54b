import XCTest

@testable import RampartConfig

final class ValidFileTests: XCTestCase {
    static let full = """
        [server]
        socket = "/var/run/rampart/r.sock"
        socket_mode = "0660"
        socket_group = "inference"
        max_frame_size = 8388608
        max_concurrent_streams = 64
        read_timeout_ms = 5000
        idle_timeout_ms = 60000
        drain_timeout_ms = 0
        event_loop_threads = 4
        worker_threads = 8
        lz4 = false
        lz4_threshold = 4096
        flush_every = 4

        [limits]
        max_tokens = 4096
        default_max_tokens = 256
        max_prompt_bytes = 2097152
        max_messages = 64

        [backend]
        kind = "builtin"
        model_path = "models/tiny"

        [logging]
        level = "debug"
        format = "json"
        """

    static var fullExpected: RampartConfig {
        var expected = RampartConfig.defaults(baseDirectory: testBase)
        expected.server.socket = "/var/run/rampart/r.sock"
        expected.server.socketMode = .ownerAndGroup
        expected.server.socketGroup = .name("inference")
        expected.server.maxFrameSize = 8_388_608
        expected.server.maxConcurrentStreams = 64
        expected.server.readTimeoutMs = 5000
        expected.server.idleTimeoutMs = 60000
        expected.server.drainTimeoutMs = 0
        expected.server.eventLoopThreads = 4
        expected.server.workerThreads = 8
        expected.server.lz4 = false
        expected.server.lz4Threshold = 4096
        expected.server.flushEvery = .answers(4)
        expected.limits.maxTokens = 4096
        expected.limits.defaultMaxTokens = 256
        expected.limits.maxPromptBytes = 2_097_152
        expected.limits.maxMessages = 64
        expected.backend = .init(kind: .builtin, modelPath: "/etc/rampart/models/tiny")
        expected.logging.level = .debug
        expected.logging.format = .json
        return expected
    }

    func testFullValidFile() throws {
        XCTAssertEqual(try parseConfig(Self.full), Self.fullExpected)
    }

    func testEveryKeyDiffersFromItsDefaultInTheFullFile() throws {
        // Guards the test above: a key left at its default would not prove it is read.
        let parsed = try parseConfig(Self.full)
        let defaults = RampartConfig.defaults(baseDirectory: testBase)
        let server = Mirror(reflecting: parsed.server).children.map { "\($0.value)" }
        let defaultServer = Mirror(reflecting: defaults.server).children.map { "\($0.value)" }
        XCTAssertEqual(server.count, 13)
        for (value, defaultValue) in zip(server, defaultServer) { XCTAssertNotEqual(value, defaultValue) }
        let limits = Mirror(reflecting: parsed.limits).children.map { "\($0.value)" }
        let defaultLimits = Mirror(reflecting: defaults.limits).children.map { "\($0.value)" }
        for (value, defaultValue) in zip(limits, defaultLimits) { XCTAssertNotEqual(value, defaultValue) }
        XCTAssertNotEqual(parsed.backend.modelPath, defaults.backend.modelPath)
        XCTAssertNotEqual(parsed.logging.level, defaults.logging.level)
        XCTAssertNotEqual(parsed.logging.format, defaults.logging.format)
    }

    func testEveryEnumValueIsAccepted() throws {
        for level in RampartConfig.Logging.Level.allCases {
            XCTAssertEqual(try parseConfig("[logging]\nlevel = \"\(level.rawValue)\"").logging.level, level)
        }
        for format in RampartConfig.Logging.Format.allCases {
            XCTAssertEqual(try parseConfig("[logging]\nformat = \"\(format.rawValue)\"").logging.format, format)
        }
        XCTAssertEqual(try parseConfig("[backend]\nkind = \"null\"").backend.kind, .null)
        XCTAssertEqual(try parseConfig("[backend]\nkind = \"null\"\nmodel_path = \"\"").backend.modelPath, nil)
    }

    func testSocketGroupForms() throws {
        let base = "[server]\nsocket_mode = \"0660\"\n"
        XCTAssertEqual(try parseConfig(base + "socket_group = \"rampart\"").server.socketGroup, .name("rampart"))
        XCTAssertEqual(try parseConfig(base + "socket_group = \"www-data\"").server.socketGroup, .name("www-data"))
        XCTAssertEqual(try parseConfig(base + "socket_group = \"1001\"").server.socketGroup, .gid(1001))
        XCTAssertEqual(try parseConfig(base + "socket_group = 0").server.socketGroup, .gid(0))
        XCTAssertEqual(try parseConfig(base + "socket_group = 4294967294").server.socketGroup, .gid(4_294_967_294))
        // A group with mode 0600 is allowed (the socket is chowned, only the owner may connect).
        XCTAssertEqual(try parseConfig("[server]\nsocket_group = 50").server.socketGroup, .gid(50))
    }

    func testDottedKeysAndInlineTables() throws {
        let config = try parseConfig(
            """
            server.max_frame_size = 65536
            limits = { max_tokens = 100, default_max_tokens = 10, max_prompt_bytes = 1000 }

            [logging]
            level = "error"
            """)
        XCTAssertEqual(config.server.maxFrameSize, 65536)
        XCTAssertEqual(config.limits.maxTokens, 100)
        XCTAssertEqual(config.limits.defaultMaxTokens, 10)
        XCTAssertEqual(config.logging.level, .error)
    }

    func testTOMLIntegerSpellings() throws {
        let config = try parseConfig("[server]\nmax_frame_size = 0x10_0000\nmax_concurrent_streams = 1_000\n")
        XCTAssertEqual(config.server.maxFrameSize, 1_048_576)
        XCTAssertEqual(config.server.maxConcurrentStreams, 1000)
    }
}

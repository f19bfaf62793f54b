import XCTest

@testable import RampartConfig

final class DefaultsTests: XCTestCase {
    func testEmptyFileGivesAllDefaults() throws {
        let config = try parseConfig("")
        XCTAssertEqual(config, RampartConfig.defaults(baseDirectory: testBase))

        XCTAssertEqual(config.server.socket, "/etc/rampart/run/rampart.sock")
        XCTAssertEqual(config.server.socketMode, .ownerOnly)
        XCTAssertEqual(config.server.socketMode.permissions, 0o600)
        XCTAssertNil(config.server.socketGroup)
        XCTAssertEqual(config.server.maxFrameSize, 4_194_304)
        XCTAssertEqual(config.server.maxConcurrentStreams, 100)
        XCTAssertEqual(config.server.readTimeoutMs, 10_000)
        XCTAssertEqual(config.server.idleTimeoutMs, 300_000)
        XCTAssertEqual(config.server.drainTimeoutMs, 30_000)
        XCTAssertEqual(config.server.eventLoopThreads, 1)
        XCTAssertEqual(config.server.workerThreads, 2)
        XCTAssertTrue(config.server.lz4)
        XCTAssertEqual(config.server.lz4Threshold, 1024)
        XCTAssertEqual(config.server.readTimeout, .seconds(10))

        XCTAssertEqual(config.limits.maxTokens, 2048)
        XCTAssertEqual(config.limits.defaultMaxTokens, 128)
        XCTAssertEqual(config.limits.maxPromptBytes, 1_048_576)
        XCTAssertEqual(config.limits.maxMessages, 256)

        XCTAssertEqual(config.backend.kind, .builtin)
        XCTAssertNil(config.backend.modelPath)

        XCTAssertEqual(config.logging.level, .info)
        XCTAssertEqual(config.logging.format, .text)
    }

    func testCommentsAndEmptySectionsGiveDefaults() throws {
        let config = try parseConfig(
            """
            # nothing but comments

            [server]
            [limits]   # trailing comment
            [backend]
            [logging]
            """)
        XCTAssertEqual(config, RampartConfig.defaults(baseDirectory: testBase))
    }

    func testDevDefaults() throws {
        let dev = RampartConfig.dev(runDirectory: "/run/rampart-dev")
        XCTAssertEqual(dev.server.socket, "/run/rampart-dev/rampart.sock")
        XCTAssertEqual(dev.backend, RampartConfig.Backend(kind: .builtin, modelPath: nil))
        XCTAssertEqual(dev.server.socketMode, .ownerOnly)
        XCTAssertEqual(dev.limits, RampartConfig.Limits())
        XCTAssertEqual(dev.logging, RampartConfig.Logging())
        XCTAssertNoThrow(try dev.validate())

        XCTAssertEqual(RampartConfig.dev(runDirectory: "/run/x/").server.socket, "/run/x/rampart.sock")
        XCTAssertEqual(RampartConfig.dev(runDirectory: "").server.socket, "rampart.sock")
    }

    func testDevWithTooLongRunDirectoryFailsValidation() {
        let dev = RampartConfig.dev(runDirectory: "/" + String(repeating: "d", count: 120))
        XCTAssertThrowsError(try dev.validate()) { error in
            XCTAssertEqual((error as? ConfigError)?.issues.map(\.keyPath), ["server.socket"])
        }
    }

    func testValidateChecksConfigsBuiltInCode() {
        var config = RampartConfig.defaults(baseDirectory: "/srv")
        XCTAssertNoThrow(try config.validate())
        config.server.workerThreads = 0
        config.limits.defaultMaxTokens = 5000
        config.backend = .init(kind: .null, modelPath: "/models/x")
        XCTAssertThrowsError(try config.validate(source: "code")) { error in
            guard let error = error as? ConfigError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.source, "code")
            XCTAssertEqual(
                error.issues.map(\.keyPath), ["server.worker_threads", "limits.default_max_tokens", "backend.model_path"])
            XCTAssertTrue(error.issues.allSatisfy { $0.line == nil })
            XCTAssertEqual(
                error.issues.first?.formatted(source: "code"),
                "code: server.worker_threads: must be between 1 and 256, got 0")
        }
    }

    func testSocketModeSpelling() {
        XCTAssertEqual(RampartConfig.SocketMode.ownerOnly.octalString, "0600")
        XCTAssertEqual(RampartConfig.SocketMode.ownerAndGroup.octalString, "0660")
        XCTAssertEqual(RampartConfig.SocketMode(octalString: "0660"), .ownerAndGroup)
        XCTAssertNil(RampartConfig.SocketMode(octalString: "660"))
        XCTAssertNil(RampartConfig.SocketMode(octalString: "0644"))
    }
}

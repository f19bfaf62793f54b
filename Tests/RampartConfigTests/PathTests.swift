import Foundation
import XCTest

@testable import RampartConfig

final class PathTests: XCTestCase {
    func testRelativeSocketResolvesAgainstBaseDirectory() throws {
        XCTAssertEqual(try parseConfig("[server]\nsocket = \"sock/r.sock\"").server.socket, "/etc/rampart/sock/r.sock")
        XCTAssertEqual(try parseConfig("[server]\nsocket = \"./r.sock\"").server.socket, "/etc/rampart/r.sock")
        XCTAssertEqual(
            try parseConfig("[server]\nsocket = \"r.sock\"", base: "/srv/app/").server.socket, "/srv/app/r.sock")
        XCTAssertEqual(
            try parseConfig("[server]\nsocket = \"../run/r.sock\"").server.socket, "/etc/rampart/../run/r.sock")
        XCTAssertEqual(try parseConfig("[server]\nsocket = \"r.sock\"", base: ".").server.socket, "r.sock")
    }

    func testAbsoluteSocketIsKept() throws {
        XCTAssertEqual(try parseConfig("[server]\nsocket = \"/run/rampart.sock\"").server.socket, "/run/rampart.sock")
    }

    func testDefaultSocketIsResolvedToo() throws {
        XCTAssertEqual(try parseConfig("", base: "/opt/r").server.socket, "/opt/r/run/rampart.sock")
    }

    func testModelPathResolvesAndEmptyMeansBundled() throws {
        XCTAssertEqual(try parseConfig("[backend]\nmodel_path = \"models/x\"").backend.modelPath, "/etc/rampart/models/x")
        XCTAssertEqual(try parseConfig("[backend]\nmodel_path = \"/m\"").backend.modelPath, "/m")
        XCTAssertNil(try parseConfig("[backend]\nmodel_path = \"\"").backend.modelPath)
    }

    func testSunPathLimit() throws {
        let limit = RampartConfig.maxSocketPathBytes
        #if os(Linux)
            XCTAssertEqual(limit, 107)
        #endif
        let fits = "/tmp/" + String(repeating: "s", count: limit - 5)
        XCTAssertEqual(fits.utf8.count, limit)
        XCTAssertEqual(try parseConfig("[server]\nsocket = \"\(fits)\"").server.socket, fits)

        let tooLong = fits + "x"
        let error = configError("[server]\nsocket = \"\(tooLong)\"")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .invalidValue)
        XCTAssertEqual(issue?.keyPath, "server.socket")
        XCTAssertEqual(issue?.line, 2)
        XCTAssertTrue(
            issue?.message.hasPrefix("path is \(limit + 1) bytes after resolution, over the Unix socket limit of \(limit)")
                ?? false, "\(error)")
    }

    func testSunPathLimitAppliesAfterResolution() {
        // 16 bytes in the file, too long once joined to a deep base directory.
        let base = "/" + String(repeating: "b", count: 95)
        let error = configError("[server]\nsocket = \"run/rampart.sock\"", base: base)
        XCTAssertEqual(error.issues.map(\.keyPath), ["server.socket"])
        // The default socket is resolved and checked as well.
        XCTAssertEqual(configError("", base: base).issues.map(\.keyPath), ["server.socket"])
    }

    func testEmptyAndDirectorySocketPaths() {
        let empty = configError("[server]\nsocket = \"\"")
        XCTAssertEqual(empty.description, "rampart.toml:2: server.socket: must not be empty")
        let directory = configError("[server]\nsocket = \"run/\"")
        XCTAssertEqual(
            directory.description, "rampart.toml:2: server.socket: must name a socket file, not a directory, got \"run/\"")
    }

    func testGroupModeWithoutGroup() {
        let error = configError("[server]\nsocket = \"r.sock\"\nsocket_mode = \"0660\"")
        XCTAssertEqual(error.issues.map(\.keyPath), ["server.socket_mode"])
        XCTAssertEqual(error.issues.map(\.kind), [.conflict])
    }

    func testPathHelpers() {
        XCTAssertEqual(ConfigPath.normalize("/a//b/./c/"), "/a/b/c")
        XCTAssertEqual(ConfigPath.normalize("./"), ".")
        XCTAssertEqual(ConfigPath.directory(of: "/etc/rampart.toml"), "/etc")
        XCTAssertEqual(ConfigPath.directory(of: "/rampart.toml"), "/")
        XCTAssertEqual(ConfigPath.directory(of: "rampart.toml"), ".")
        XCTAssertEqual(ConfigPath.resolve("x", against: ""), "x")
    }
}

final class LoadTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "rampart-config-tests-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = directory + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    func testLoadResolvesAgainstTheFilesDirectory() throws {
        let path = try write("rampart.toml", Array("[server]\nsocket = \"s/r.sock\"\n".utf8))
        let config = try ConfigLoader.load(path: path)
        XCTAssertEqual(config.server.socket, ConfigPath.normalize(directory) + "/s/r.sock")
    }

    func testLoadErrorsNameTheFile() throws {
        let path = try write("bad.toml", Array("[server]\nmax_frame_size = 0\n".utf8))
        XCTAssertThrowsError(try ConfigLoader.load(path: path)) { error in
            XCTAssertEqual(
                "\(error)", "\(path):2: server.max_frame_size: must be between 1024 and 67108864, got 0")
        }
    }

    func testMissingFile() {
        let path = directory + "/missing.toml"
        XCTAssertThrowsError(try ConfigLoader.load(path: path)) { error in
            XCTAssertEqual("\(error)", "\(path): cannot open the config file: No such file or directory")
            XCTAssertEqual((error as? ConfigError)?.issues.first?.kind, .unreadable)
        }
    }

    func testDirectoryInsteadOfFile() {
        XCTAssertThrowsError(try ConfigLoader.load(path: directory)) { error in
            XCTAssertEqual((error as? ConfigError)?.issues.map(\.kind), [.unreadable])
            XCTAssertTrue("\(error)".contains("Is a directory"), "\(error)")
        }
    }

    func testInvalidUTF8() throws {
        let path = try write("latin1.toml", Array("[logging]\nlevel = \"".utf8) + [0xE9] + Array("\"\n".utf8))
        XCTAssertThrowsError(try ConfigLoader.load(path: path)) { error in
            let issue = (error as? ConfigError)?.issues.first
            XCTAssertEqual(issue?.kind, .unreadable)
            XCTAssertEqual(issue?.line, 2)
            XCTAssertEqual(issue?.column, 10)
        }
    }

    func testOversizedFile() throws {
        let path = try write("huge.toml", [UInt8](repeating: UInt8(ascii: "#"), count: ConfigLoader.maxFileBytes + 1))
        XCTAssertThrowsError(try ConfigLoader.load(path: path)) { error in
            XCTAssertEqual((error as? ConfigError)?.issues.map(\.kind), [.unreadable])
        }
    }
}

/// `[audit]` and structured plugin configs (`[plugins.config]` tables).
extension LoadTests {
    func testAuditSectionResolvesItsPathAndRejectsUnknownFsync() throws {
        XCTAssertEqual(RampartConfig().audit.fsync, .interval, "the default")
        let path = try write("audit.toml", Array("[audit]\npath = \"logs/audit.jsonl\"\nfsync = \"always\"\n".utf8))
        let config = try ConfigLoader.load(path: path)
        XCTAssertEqual(config.audit.path, ConfigPath.normalize(directory) + "/logs/audit.jsonl")
        XCTAssertEqual(config.audit.fsync, .always)
        let bad = try write("bad-audit.toml", Array("[audit]\nfsync = \"sometimes\"\n".utf8))
        XCTAssertThrowsError(try ConfigLoader.load(path: bad)) { error in
            XCTAssertTrue("\(error)".contains("audit.fsync"), "\(error)")
        }
    }

    func testPluginConfigMayBeATableHandedOverAsJSON() throws {
        let text = """
            [plugin_trust]
            allow_unsigned = true
            [[plugins]]
            name = "auth"
            path = "plugins/auth"
            [plugins.config]
            issuer = "rampart"
            ttl_seconds = 900
            trusted_uids = [0, 1000]
            [plugins.config.rbac]
            "rampart.v1.Admin/ReloadChain" = "admin"

            """
        let config = try ConfigLoader.load(path: try write("table.toml", Array(text.utf8)))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(config.plugins[0].configBytes)) as? [String: Any])
        XCTAssertEqual(json["issuer"] as? String, "rampart")
        XCTAssertEqual(json["ttl_seconds"] as? Int, 900)
        XCTAssertEqual(json["trusted_uids"] as? [Int], [0, 1000])
        XCTAssertEqual((json["rbac"] as? [String: String])?["rampart.v1.Admin/ReloadChain"], "admin")
    }

    func testPluginConfigOfAnotherTypeIsRefused() throws {
        let text = "[[plugins]]\nname = \"a\"\npath = \"p\"\nconfig = 5\n"
        XCTAssertThrowsError(try ConfigLoader.load(path: try write("int.toml", Array(text.utf8)))) { error in
            XCTAssertTrue("\(error)".contains("expected a string, or a table"), "\(error)")
        }
    }
}

import Foundation
import XCTest
@testable import RampartThrottleCore

/// A throwaway `redis-server` on a free port (no persistence), started by the test itself.
final class RedisServer: @unchecked Sendable {
    static let binary = "/usr/bin/redis-server"
    let port: Int
    private var process: Process?

    /// Starts a server, or skips the test when redis-server is not installed.
    init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw XCTSkip("\(Self.binary) is not installed (Debian package redis-server; scripts/install-deps.sh --test)")
        }
        port = try Self.freePort()
        try start()
    }

    deinit { stop() }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--protected-mode", "no"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let pool = RedisConnectionPool(settings: settings())
        for _ in 0..<200 {
            if case .status("PONG")? = try? pool.command(["PING"]) { return }
            usleep(20_000)
        }
        throw XCTSkip("redis-server on port \(port) did not answer PING")
    }

    /// Kills the server (SIGKILL: like a crash).
    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    func settings() -> RedisSettings {
        var settings = RedisSettings()
        settings.port = Int64(port)
        settings.retryIntervalMicros = 50_000
        return settings
    }

    /// A throttle config JSON fragment pointing at this server.
    func redisJSON(failMode: String = "closed", prefix: String = "t:", lease: Int = 30000) -> String {
        #""redis": {"port": \#(port), "fail_mode": "\#(failMode)", "key_prefix": "\#(prefix)", "retry_interval_ms": 50, "lease_ms": \#(lease), "command_timeout_ms": 200}"#
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("cannot open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw XCTSkip("cannot bind a socket to find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

import Foundation
import RampartClient
import RampartCore
import RampartProto
import RampartServer
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The socket file: permissions, live/stale handling, peer credentials.
final class SocketTests: XCTestCase {
    func mode(of path: String) -> mode_t {
        var st = stat()
        lstat(path, &st)
        return st.st_mode & 0o777
    }

    func testSocketIsCreatedOwnerOnly() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        XCTAssertEqual(mode(of: settings.socketPath), 0o600)
        await server.shutdown()
    }

    func testGroupMode0660() async throws {
        var settings = testSettings()
        settings.socketMode = 0o660
        settings.socketGroup = String(getgid())
        let server = try startServer(settings)
        XCTAssertEqual(mode(of: settings.socketPath), 0o660)
        await server.shutdown()
        settings.socketGroup = "no-such-group-rampart"
        XCTAssertThrowsError(try startServer(settings)) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
        }
    }

    func testRefusesToStartOnALiveSocket() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        XCTAssertThrowsError(try startServer(settings)) { error in
            XCTAssertTrue("\(error)".contains("already listening"), "\(error)")
        }
        // The first server still works.
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        _ = try await client.health()
        await client.close()
        await server.shutdown()
    }

    func testReplacesAStaleSocketAndRefusesANonSocket() async throws {
        let settings = testSettings()
        // A stale socket: bound, never listened on, left behind.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let bytes = Array(settings.socketPath.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(rc, 0)
        close(fd)
        let server = try startServer(settings)
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        _ = try await client.health()
        await client.close()
        await server.shutdown()

        let other = testSettings()
        FileManager.default.createFile(atPath: other.socketPath, contents: Data("not a socket".utf8))
        XCTAssertThrowsError(try startServer(other)) { error in
            XCTAssertTrue("\(error)".contains("not a socket"), "\(error)")
        }
    }

    func testPeerCredentialsReachTheCallContext() async throws {
        let settings = testSettings()
        let server = try startServer(settings) { dispatcher in
            dispatcher.register("/test.Peer/Who") { call in
                var response = Rampart_V1_PeerCredentials()
                if let peer = call.context.peer {
                    response.pid = peer.pid
                    response.uid = peer.uid
                    response.gid = peer.gid
                }
                call.responder.finish(with: response)
            }
        }
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        let who: Rampart_V1_PeerCredentials = try await client.unary("/test.Peer/Who", Rampart_V1_HealthCheckRequest())
        XCTAssertEqual(who.pid, getpid())
        XCTAssertEqual(who.uid, getuid())
        XCTAssertEqual(who.gid, getgid())
        await client.close()
        await server.shutdown()
    }
}

import Foundation
import XCTest
@testable import RampartAuthCore

/// The SQLite store: first start, migrations, concurrency, the secret file.
final class StoreTests: XCTestCase {
    func temp() throws -> String {
        let dir = NSTemporaryDirectory() + "rampart-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testFirstStartCreatesStoreSecretAndASigningKey() throws {
        let dir = try temp()
        let engine = try AuthEngine(config: AuthConfig(db: dir + "/auth.db"), now: 1000)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/auth.db"))
        XCTAssertEqual(try engine.store.signingKeys().count, 1)
        let kid = try XCTUnwrap(engine.keyring.activeKey()?.info.kid)
        var info = stat()
        XCTAssertEqual(stat(dir + "/signing-keys/\(kid).pem", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        // A second start reuses everything.
        let again = try AuthEngine(config: AuthConfig(db: dir + "/auth.db"), now: 2000)
        XCTAssertEqual(again.keyring.activeKey()?.info.kid, kid)
    }

    func testASecretFileReadableByOthersIsRefused() throws {
        let dir = try temp()
        _ = try AuthStore(path: dir + "/a.db", secretFile: dir + "/a.secret")
        chmod(dir + "/a.secret", 0o644)
        XCTAssertThrowsError(try AuthStore(path: dir + "/a.db", secretFile: dir + "/a.secret")) { error in
            XCTAssertTrue((error as? AuthError)?.message.contains("readable by group or others") ?? false)
        }
    }

    func testAnotherStoreSecretDoesNotMatchTheKeys() throws {
        let dir = try temp()
        let store = try AuthStore(path: dir + "/a.db", secretFile: dir + "/a.secret")
        try store.upsertPrincipal(Principal(id: "p", scopes: ["infer"]), now: 0)
        let key = try store.createKey(principalID: "p", scopes: nil, now: 0)
        let other = try AuthStore(path: dir + "/a.db", secretFile: dir + "/b.secret")
        XCTAssertNotEqual(other.keyHash(Array(key.key.utf8)), try store.keyRecord(key.info.id)?.hash)
    }

    func testConcurrentWritersFromTwoHandles() throws {
        let dir = try temp()
        let a = try AuthStore(path: dir + "/a.db", secretFile: dir + "/a.secret")
        let b = try AuthStore(path: dir + "/a.db", secretFile: dir + "/a.secret")
        try a.upsertPrincipal(Principal(id: "p", scopes: ["infer"]), now: 0)
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            do {
                _ = try (i % 2 == 0 ? a : b).createKey(principalID: "p", scopes: nil, now: Double(i))
            } catch {
                failures.add("\(error)")
            }
        }
        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(try a.keys(principalID: "p").count, 64)
    }

    func testATOTPStepIsAcceptedExactlyOnceUnderConcurrency() throws {
        let dir = try temp()
        let a = try AuthStore(path: dir + "/a.db", secretFile: dir + "/a.secret")
        let b = try AuthStore(path: dir + "/a.db", secretFile: dir + "/a.secret")
        try a.upsertPrincipal(Principal(id: "p", scopes: ["admin"]), now: 0)
        _ = try a.enrollTOTP(principalID: "p", now: 0)
        let wins = Failures()
        DispatchQueue.concurrentPerform(iterations: 32) { i in
            if (try? (i % 2 == 0 ? a : b).acceptTOTPStep(principalID: "p", step: 1000)) == true { wins.add("win") }
        }
        XCTAssertEqual(wins.all.count, 1)
        XCTAssertFalse(try a.acceptTOTPStep(principalID: "p", step: 999))
        XCTAssertTrue(try a.acceptTOTPStep(principalID: "p", step: 1001))
    }

    func testTOTPSeedIsSealedAtRest() throws {
        let dir = try temp()
        let store = try AuthStore(path: dir + "/a.db", secretFile: dir + "/a.secret")
        try store.upsertPrincipal(Principal(id: "p", scopes: ["admin"]), now: 0)
        let totp = try store.enrollTOTP(principalID: "p", now: 0)
        XCTAssertEqual(try store.totp(principalID: "p")?.secret, totp.secret)
        for file in try FileManager.default.contentsOfDirectory(atPath: dir) where file.hasPrefix("a.db") {
            let bytes = try XCTUnwrap(FileManager.default.contents(atPath: dir + "/" + file))
            XCTAssertNil(bytes.range(of: Data(totp.secret)), "\(file) holds the raw seed")
        }
    }

    func testValidation() throws {
        let dir = try temp()
        let store = try AuthStore(path: dir + "/a.db", secretFile: dir + "/a.secret")
        XCTAssertThrowsError(try store.upsertPrincipal(Principal(id: "bad id", scopes: []), now: 0))
        XCTAssertThrowsError(try store.upsertPrincipal(Principal(id: "p", scopes: ["Bad Scope"]), now: 0))
        XCTAssertThrowsError(try store.createKey(principalID: "nobody", scopes: nil, now: 0)) { error in
            XCTAssertEqual((error as? AuthError)?.code, .notFound)
        }
        XCTAssertThrowsError(try store.revokeKey("0123456789ab", now: 0))
    }
}

/// A thread-safe list for concurrentPerform results.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

import XCTest
@testable import RampartAuthCore

/// Backoff and lockout per uid, key and principal; shared signals.
final class BruteForceTests: XCTestCase {
    func randomWrongKey() -> String {
        "rk_live_" + hexString(secureRandomBytesForTest(6)) + "_" + Base64URL.encode(secureRandomBytesForTest(32))
    }

    func secureRandomBytesForTest(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255) } }

    func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func test1000WrongKeysInARowFromOneUID() throws {
        let f = try AuthFixture()
        let bobsKey = try f.key("other")
        let alicesKey = try f.key("app")
        var reasons: [ReasonClass: Int] = [:]
        var lastSignal: AuthSignal?
        var firstLockout: Int?
        for i in 0..<1000 {
            f.now += 0.05
            let outcome = f.authorize(f.bearer(randomWrongKey()), peer: AuthFixture.alice)
            let reason = try XCTUnwrap(outcome.denial?.reason)
            reasons[reason, default: 0] += 1
            if reason == .lockedOut, firstLockout == nil { firstLockout = i }
            lastSignal = outcome.signals.last ?? lastSignal
            XCTAssertEqual(outcome.denial?.status, .unauthenticated)
        }
        XCTAssertEqual(reasons[.invalidKey], 6, "the free failures and the one that opens the backoff are evaluated")
        XCTAssertGreaterThan(reasons[.backoff] ?? 0, 0, "then growing backoff")
        XCTAssertEqual(firstLockout, 19, "lockout after 20 failures")
        XCTAssertEqual(reasons[.lockedOut], 1000 - 19)
        XCTAssertEqual(lastSignal, AuthSignal(name: "auth_failures:uid:1000", value: 20))
        // The locked uid is refused even with a valid key; retry-after tells how long.
        let locked = f.authorize(f.bearer(alicesKey.key), peer: AuthFixture.alice)
        XCTAssertDenied(locked, .unauthenticated, .lockedOut)
        XCTAssertGreaterThan(locked.denial?.retryAfterMs ?? 0, 800_000)
        // Another principal from another uid is unaffected.
        XCTAssertNotNil(f.authorize(f.bearer(bobsKey.key), peer: AuthFixture.bob).value)
        // The lockout ends.
        f.now += 900
        XCTAssertNotNil(f.authorize(f.bearer(alicesKey.key), peer: AuthFixture.alice).value)
    }

    func testBackoffGrowsAndCarriesRetryAfter() throws {
        let f = try AuthFixture()
        for _ in 0..<6 { _ = f.authorize(f.bearer(randomWrongKey())) }  // 6th failure opens a 250 ms backoff
        let first = f.authorize(f.bearer(randomWrongKey()))
        XCTAssertDenied(first, .unauthenticated, .backoff)
        f.now += 0.01
        let second = f.authorize(f.bearer(randomWrongKey()))
        XCTAssertDenied(second, .unauthenticated, .backoff)
        XCTAssertGreaterThan(second.denial?.retryAfterMs ?? 0, first.denial?.retryAfterMs ?? 0, "each attempt doubles the wait")
    }

    func testFailuresOnAKnownKeyCountPerKeyAndPrincipal() throws {
        let f = try AuthFixture()
        let key = try f.key("app")
        var wrong = Array(key.key.utf8)
        wrong[wrong.count - 2] = wrong[wrong.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let outcome = f.authorize(f.bearer(String(decoding: wrong, as: UTF8.self)), peer: AuthFixture.bob)
        XCTAssertEqual(Set(outcome.signals.map(\.name)),
                       ["auth_failures:uid:1001", "auth_failures:key:\(key.info.id)", "auth_failures:principal:app"])
        XCTAssertEqual(f.engine.bruteForce.failures("principal:app"), 1)
        XCTAssertNotNil(f.authorize(f.bearer(key.key), peer: AuthFixture.alice).value)
        XCTAssertEqual(f.engine.bruteForce.failures("principal:app"), 0, "a success clears the principal's count")
        XCTAssertEqual(f.engine.bruteForce.failures("uid:1001"), 1, "but not another uid's")
    }

    func testGuardPolicyUnit() {
        var policy = BruteForceGuard.Policy()
        policy.freeFailures = 2
        policy.lockoutAfter = 4
        policy.lockoutSeconds = 10
        let g = BruteForceGuard(policy: policy)
        XCTAssertNil(g.check("s", now: 0))
        g.recordFailure("s", now: 0)
        g.recordFailure("s", now: 0)
        XCTAssertNil(g.check("s", now: 0))
        g.recordFailure("s", now: 0)
        XCTAssertEqual(g.check("s", now: 0), .init(reason: .backoff, retryAfterMs: 250))
        XCTAssertNil(g.check("s", now: 0.25))
        g.recordFailure("s", now: 1)
        XCTAssertEqual(g.check("s", now: 1)?.reason, .lockedOut)
        XCTAssertNil(g.check("t", now: 1), "other subjects unaffected")
        XCTAssertEqual(g.check("s", now: 10.999)?.reason, .lockedOut)
        XCTAssertNil(g.check("s", now: 11))
        XCTAssertEqual(g.failures("s"), 0)
    }

    func testTrackedSubjectsAreBounded() {
        var policy = BruteForceGuard.Policy()
        policy.maxTracked = 100
        let g = BruteForceGuard(policy: policy)
        for i in 0..<1000 { g.recordFailure("uid:\(i)", now: Double(i)) }
        XCTAssertLessThanOrEqual((0..<1000).filter { g.failures("uid:\($0)") > 0 }.count, 100)
        XCTAssertEqual(g.failures("uid:999"), 1, "the newest are kept")
    }
}

import Foundation
import XCTest
@testable import RampartThrottleCore

/// Redis mode against a real redis-server: two throttle instances stand in for two sidecars.
final class RedisModeTests: XCTestCase {
    func testTwoInstancesShareOneGlobalRateLimit() throws {
        let redis = try RedisServer()
        let json = #"{"mode": "redis", "limits": {"key": {"requests": {"rate": 1, "period_ms": 3600000, "burst": 49}}}, \#(redis.redisJSON())}"#
        let a = Throttle(config: try config(json), instanceID: "a")
        let b = Throttle(config: try config(json), instanceID: "b")
        let admitted = concurrently(200) { index in (index % 2 == 0 ? a : b).admit(request("shared")).admission != nil }
        XCTAssertEqual(admitted.filter { $0 }.count, 50)
        let denial = try XCTUnwrap(a.admit(request("shared")).denial)
        XCTAssertEqual(denial.metadata("ratelimit-limit"), "50")
        XCTAssertEqual(denial.metadata("ratelimit-remaining"), "0")
        XCTAssertLessThanOrEqual(denial.retryAfterMillis, 3_600_000)
        XCTAssertGreaterThan(denial.retryAfterMillis, 3_590_000)
    }

    /// The Redis script and the local evaluator agree on the same plan (fresh keys, one instant).
    func testScriptMatchesTheLocalEvaluator() throws {
        let redis = try RedisServer()
        let store = RedisLimiterStore(pool: RedisConnectionPool(settings: redis.settings()), keyPrefix: "eq:")
        let local = LocalLimiterStore(clock: ManualClock())
        let limit = RateLimit(rate: 1000, periodMicros: 3_600_000_000, burst: 499)
        let plan = AdmissionPlan(entries: [
            PlanEntry(key: LimitKey(scope: .key, kind: .requests, subject: "x"), limit: RateLimit(rate: 1, periodMicros: 3_600_000_000, burst: 2), fixed: 1, flexible: false),
            PlanEntry(key: LimitKey(scope: .key, kind: .tokens, subject: "x"), limit: limit, fixed: 120, flexible: true),
        ], requestedVariable: 300, minimumVariable: 16, clamp: true)
        for round in 0..<4 {
            let remote = try store.admit(plan)
            let mine = try local.admit(plan)
            XCTAssertEqual(remote.admitted, mine.admitted, "round \(round)")
            XCTAssertEqual(remote.variable, mine.variable, "round \(round)")
            XCTAssertEqual(remote.results.map(\.remaining), mine.results.map(\.remaining), "round \(round)")
            XCTAssertEqual(remote.results.map(\.limited), mine.results.map(\.limited), "round \(round)")
        }
    }

    /// N parallel clients, two instances, one key with a concurrency cap: exactly the cap runs.
    func testTwoInstancesShareOneConcurrencyCap() throws {
        let redis = try RedisServer()
        let json = #"{"mode": "redis", "limits": {"concurrency": 5}, "concurrency": {"queue": "reject"}, \#(redis.redisJSON())}"#
        let a = Throttle(config: try config(json), instanceID: "a")
        let b = Throttle(config: try config(json), instanceID: "b")
        let held = Bag<(Throttle, ThrottleTicket)>()
        let admitted = concurrently(100) { index -> Bool in
            let throttle = index % 2 == 0 ? a : b
            guard let admission = throttle.admit(request("k")).admission else { return false }
            held.append((throttle, admission.ticket))
            return true
        }
        XCTAssertEqual(admitted.filter { $0 }.count, 5)
        let pool = RedisConnectionPool(settings: redis.settings())
        XCTAssertEqual(try pool.command(["ZCARD", "t:slots:key:k"]).integer, 5)
        for (throttle, ticket) in held.removeAll() { throttle.finish(ticket, StreamEnd(statusCode: 0)) }
        XCTAssertEqual(try pool.command(["ZCARD", "t:slots:key:k"]).integer, 0)
        XCTAssertNotNil(b.admit(request("k")).admission)
    }

    /// With budgets and caps, a call costs two Redis round trips: the admission takes its slot in
    /// the admit script, the end refunds and leaves the leases in one script.
    func testACallCostsTwoRoundTripsWithSlotAndRefundCorrect() throws {
        let redis = try RedisServer()
        let json = #"{"mode": "redis", "limits": {"concurrency": 3, "key": {"tokens": {"rate": 1000, "period_ms": 3600000, "burst": 999}}}, "concurrency": {"pool": 10}, \#(redis.redisJSON())}"#
        let throttle = Throttle(config: try config(json), instanceID: "a")
        let pool = RedisConnectionPool(settings: redis.settings())
        // Warm up: load the scripts (EVAL + SCRIPT LOAD on first use) and the first-seen mark.
        let warm = try XCTUnwrap(throttle.admit(request("k", prompt: 10, maxTokens: 100)).admission)
        throttle.finish(warm.ticket, StreamEnd(statusCode: 0, promptTokens: 10, completionTokens: 100))
        /// Scripts run so far (commands inside a script count under their own names, so the
        /// script calls are the client's round trips of this throttle).
        func scripts() throws -> Int {
            guard case .string(let info) = try pool.command(["INFO", "commandstats"]) else { throw XCTSkip("no INFO") }
            return info.split(whereSeparator: \.isNewline).reduce(0) { total, line in
                guard line.hasPrefix("cmdstat_evalsha:") || line.hasPrefix("cmdstat_eval:"),
                      let calls = line.split(separator: "=").dropFirst().first,
                      let count = Int(calls.split(separator: ",").first ?? "") else { return total }
                return total + count
            }
        }
        let before = try scripts()
        let admission = try XCTUnwrap(throttle.admit(request("k", prompt: 10, maxTokens: 100)).admission)
        XCTAssertEqual(try pool.command(["ZCARD", "t:slots:key:k"]).integer, 1)
        XCTAssertEqual(try pool.command(["ZCARD", "t:slots:pool"]).integer, 1)
        let afterAdmit = try scripts()
        throttle.finish(admission.ticket, StreamEnd(statusCode: 0, promptTokens: 10, completionTokens: 20))
        let afterFinish = try scripts()
        XCTAssertEqual(afterAdmit - before, 1, "the admission and its slot: one script")
        XCTAssertEqual(afterFinish - afterAdmit, 1, "the refund and the leases: one script")
        XCTAssertEqual(try pool.command(["ZCARD", "t:slots:key:k"]).integer, 0)
        XCTAssertEqual(try pool.command(["ZCARD", "t:slots:pool"]).integer, 0)
        // Refunded: 110 reserved, 30 used, twice (warm-up 110 used): 1000 - 110 - 30 = 860 left.
        let store = RedisLimiterStore(pool: pool, keyPrefix: "t:")
        let limit = RateLimit(rate: 1000, periodMicros: 3_600_000_000, burst: 999)
        let probe = try store.admit(AdmissionPlan(entries: [PlanEntry(key: LimitKey(scope: .key, kind: .tokens, subject: "k"),
                                                                     limit: limit, fixed: 0, flexible: false)],
                                                  requestedVariable: 0, minimumVariable: 0, clamp: false))
        XCTAssertEqual(probe.results.first?.remaining, 860)
    }

    /// Token budget across two instances: parallel requests with large max_tokens cannot
    /// together exceed the budget; unused tokens are refunded.
    func testParallelLargeRequestsCannotJointlyExceedTheTokenBudget() throws {
        let redis = try RedisServer()
        let json = #"{"mode": "redis", "limits": {"key": {"tokens": {"rate": 10000, "period_ms": 3600000, "burst": 9999}}}, "tokens": {"max_tokens_policy": "refuse"}, \#(redis.redisJSON())}"#
        let a = Throttle(config: try config(json), instanceID: "a")
        let b = Throttle(config: try config(json), instanceID: "b")
        let held = Bag<(Throttle, ThrottleTicket)>()
        let admitted = concurrently(40) { index -> Bool in
            let throttle = index % 2 == 0 ? a : b
            guard let admission = throttle.admit(request("k", prompt: 100, maxTokens: 2900)).admission else { return false }
            held.append((throttle, admission.ticket))
            return true
        }
        // 3000 tokens each against 10,000: three fit, never four.
        XCTAssertEqual(admitted.filter { $0 }.count, 3)
        let reserved = held.all.map(\.1.reservedTokens).reduce(0, +)
        XCTAssertLessThanOrEqual(reserved, 10_000)
        // Each used 100 + 400: 2,500 each come back, so another three fit.
        for (throttle, ticket) in held.removeAll() {
            throttle.finish(ticket, StreamEnd(statusCode: 0, promptTokens: 100, completionTokens: 400))
        }
        let again = concurrently(10) { index in (index % 2 == 0 ? a : b).admit(request("k", prompt: 100, maxTokens: 2900)).admission != nil }
        XCTAssertEqual(again.filter { $0 }.count, 2)  // 10,000 − 1,500 = 8,500 left: two of 3,000
    }

    /// Bad input: Redis killed mid-run. Closed: UNAVAILABLE; open: local limits. Both recover
    /// when Redis returns.
    func testRedisKilledMidRunAppliesTheFailModeAndRecovers() throws {
        let redis = try RedisServer()
        let limits = #""limits": {"key": {"requests": {"rate": 1, "period_ms": 3600000, "burst": 2}}}"#
        let closed = Throttle(config: try config(#"{"mode": "redis", \#(limits), \#(redis.redisJSON(prefix: "c:"))}"#))
        let open = Throttle(config: try config(#"{"mode": "redis", \#(limits), \#(redis.redisJSON(failMode: "open", prefix: "o:"))}"#))
        XCTAssertNotNil(closed.admit(request("k")).admission)
        XCTAssertNotNil(open.admit(request("k")).admission)

        redis.stop()
        let refused = try XCTUnwrap(closed.admit(request("k")).denial)
        XCTAssertEqual(refused.code, .unavailable)
        XCTAssertTrue(refused.message.contains("fail mode closed"), refused.message)
        XCTAssertFalse(closed.isRedisHealthy)
        XCTAssertTrue(closed.drainEvents().contains { $0.kind == "throttle.redis" && $0.reason == "redis_unreachable" })
        // Open: local limits apply (a fresh local budget of 3), then deny.
        let local = (0..<5).map { _ in open.admit(request("k")).admission != nil }
        XCTAssertEqual(local, [true, true, true, false, false])
        XCTAssertEqual(open.stats().fallbackAdmissions, 5)

        try redis.start()
        usleep(60_000)  // past retry_interval_ms
        // The restarted Redis is empty (no persistence): the global budget starts over.
        XCTAssertNotNil(closed.admit(request("k")).admission)
        XCTAssertTrue(closed.isRedisHealthy)
        XCTAssertTrue(closed.drainEvents().contains { $0.kind == "throttle.redis" && $0.reason == "redis_recovered" })
        XCTAssertNotNil(open.admit(request("k")).admission)
        XCTAssertEqual(open.stats().fallbackAdmissions, 5)
    }

    /// Concurrency slots follow the fail mode too: open counts locally while Redis is down, closed refuses.
    func testConcurrencySlotsApplyTheFailModeWhenRedisIsDown() throws {
        let redis = try RedisServer()
        let caps = #""limits": {"concurrency": 2}, "concurrency": {"queue": "reject"}"#
        let open = Throttle(config: try config(#"{"mode": "redis", \#(caps), \#(redis.redisJSON(failMode: "open", prefix: "so:"))}"#))
        let closed = Throttle(config: try config(#"{"mode": "redis", \#(caps), \#(redis.redisJSON(prefix: "sc:"))}"#))
        redis.stop()
        let held = (0..<3).compactMap { _ in open.admit(request("k")).admission?.ticket }
        XCTAssertEqual(held.count, 2, "the local fallback enforces the cap")
        XCTAssertEqual(open.gate.localInFlight(key: "k"), 2)
        for ticket in held { open.finish(ticket, StreamEnd(statusCode: 0)) }
        XCTAssertEqual(open.gate.localInFlight(key: "k"), 0)
        XCTAssertEqual(closed.admit(request("k")).denial?.code, .unavailable)
        try redis.start()
        usleep(60_000)
        XCTAssertNotNil(closed.admit(request("k")).admission)
    }

    /// A crashed sidecar's slots come back when their lease expires.
    func testCrashedInstanceSlotsExpireWithTheirLease() throws {
        let redis = try RedisServer()
        let json = #"{"mode": "redis", "limits": {"concurrency": 1}, "concurrency": {"queue": "reject"}, \#(redis.redisJSON(lease: 1000))}"#
        let survivor = Throttle(config: try config(json), instanceID: "survivor")
        // A "crashed" instance: takes a slot, then stops renewing without releasing it.
        let pool = RedisConnectionPool(settings: redis.settings())
        let slots = RedisSlots(pool: pool, prefix: "t:", leaseMicros: 1_000_000)
        XCTAssertNil(try slots.tryAcquire(key: "k", keyCap: 1, poolCap: nil, holder: "crashed:1"))
        slots.stop()
        XCTAssertEqual(survivor.admit(request("k")).denial?.reason, "concurrency")
        // A live instance's lease is renewed: hold one on the survivor past the lease.
        let other = try XCTUnwrap(survivor.admit(request("k2")).admission)
        usleep(1_600_000)
        let admission = survivor.admit(request("k")).admission
        XCTAssertNotNil(admission, "the crashed instance's slot should have expired")
        XCTAssertEqual(survivor.admit(request("k2")).denial?.reason, "concurrency", "a renewed lease must not expire")
        survivor.finish(other.ticket, StreamEnd(statusCode: 0))
        if let admission { survivor.finish(admission.ticket, StreamEnd(statusCode: 0)) }
    }
}

import XCTest
@testable import RampartThrottleCore

/// redis-cell's algorithm, checked against its own test table and README vector.
final class GCRATests: XCTestCase {
    /// `it_rate_limits` from brandur/redis-cell: burst 4, 1 per second (limit 5), as
    /// (Δt from start, quantity → remaining, reset_after, retry_after, limited).
    func testRedisCellRateLimitTable() {
        let limit = RateLimit(rate: 1, periodMicros: 1_000_000, burst: 4)
        let s: Int64 = 1_000_000
        let start: Int64 = 1_000_000_000
        let rows: [(Int64, Int64, Int64, Int64, Int64, Bool)] = [
            (0, 6, 5, 0, -1, true),
            (0, 1, 4, 1 * s, -1, false),
            (0, 1, 3, 2 * s, -1, false),
            (0, 1, 2, 3 * s, -1, false),
            (0, 1, 1, 4 * s, -1, false),
            (0, 1, 0, 5 * s, -1, false),
            (0, 1, 0, 5 * s, 1 * s, true),
            (3 * s, 1, 2, 3 * s, -1, false),
            (3_100_000, 1, 1, 3_900_000, -1, false),
            (4 * s, 1, 1, 4 * s, -1, false),
            (8 * s, 1, 4, 1 * s, -1, false),
            (9_500_000, 1, 4, 1 * s, -1, false),
            (9_500_000, 0, 4, 1 * s, -1, false),  // a peek
            (9_500_000, 2, 2, 3 * s, -1, false),
            (9_500_000, 5, 2, 3 * s, 3 * s, true),
        ]
        var tat: Int64?
        for (row, (delta, quantity, remaining, reset, retry, limited)) in rows.enumerated() {
            let (result, newTAT) = GCRA.check(tat: tat, now: start + delta, limit: limit, quantity: quantity)
            let expected = GCRAResult(limited: limited, limit: 5, remaining: remaining, resetAfterMicros: reset, retryAfterMicros: retry)
            XCTAssertEqual(result, expected, "row \(row): Δt \(delta) µs, quantity \(quantity)")
            if let newTAT { tat = newTAT }
        }
    }

    /// README: `CL.THROTTLE user123 15 30 60` on a fresh key → [0, 16, 15, -1, 2].
    func testRedisCellReadmeVector() {
        let limit = RateLimit(rate: 30, periodMicros: 60_000_000, burst: 15)
        XCTAssertEqual(limit.emissionMicros, 2_000_000)
        XCTAssertEqual(limit.toleranceMicros, 32_000_000)
        let (result, _) = GCRA.check(tat: nil, now: 5_000_000, limit: limit, quantity: 1)
        XCTAssertEqual(result, GCRAResult(limited: false, limit: 16, remaining: 15, resetAfterMicros: 2_000_000, retryAfterMicros: -1))
    }

    /// Bad input: the clock jumps one hour backwards. No negative budget, no crash, and the wait
    /// never exceeds the tolerance τ.
    func testClockGoingBackwardsNeverGoesNegative() {
        let limit = RateLimit(rate: 10, periodMicros: 1_000_000, burst: 4)  // T = 100 ms, τ = 500 ms
        let clock = ManualClock()
        let store = LocalLimiterStore(clock: clock)
        let key = LimitKey(scope: .key, kind: .requests, subject: "k")
        let plan = AdmissionPlan(entries: [PlanEntry(key: key, limit: limit, fixed: 1, flexible: false)],
                                 requestedVariable: 0, minimumVariable: 0, clamp: false)
        for _ in 0..<5 { XCTAssertTrue(try store.admit(plan).admitted) }
        clock.advance(micros: -3_600_000_000)
        let outcome = try? store.admit(plan)
        XCTAssertEqual(outcome?.admitted, false)
        let result = outcome?.results.first
        XCTAssertEqual(result?.remaining, 0)
        XCTAssertGreaterThanOrEqual(result?.retryAfterMicros ?? -2, 0)
        XCTAssertLessThanOrEqual(result?.retryAfterMicros ?? .max, limit.toleranceMicros)
        XCTAssertLessThanOrEqual(result?.resetAfterMicros ?? .max, limit.toleranceMicros)
        // And back and forth again: every answer stays within [0, capacity].
        for step in [Int64(-5_000_000), 7_000_000, -1, 1, -900_000_000_000, 100_000] {
            clock.advance(micros: step)
            guard let outcome = try? store.admit(plan), let r = outcome.results.first else { return XCTFail("admit threw") }
            XCTAssertTrue((0...limit.capacity).contains(r.remaining), "remaining \(r.remaining) after step \(step)")
            XCTAssertTrue((0...limit.toleranceMicros).contains(r.resetAfterMicros))
            XCTAssertGreaterThanOrEqual(store.available(key, limit: limit), 0)
        }
        // After a full τ from the last answer, the budget is full again.
        clock.advance(micros: limit.toleranceMicros)
        XCTAssertEqual(store.available(key, limit: limit), limit.capacity)
    }

    /// Bad input: a quantity of UInt32.max tokens on a slow limit (T · q overflows Int64):
    /// refused as "never fits", no trap.
    func testHugeQuantityDoesNotOverflow() {
        let limit = RateLimit(rate: 1, periodMicros: 86_400_000_000, burst: 10)  // 1 per day
        let (result, newTAT) = GCRA.check(tat: nil, now: 1_700_000_000_000_000, limit: limit, quantity: Int64(UInt32.max))
        XCTAssertTrue(result.limited)
        XCTAssertEqual(result.retryAfterMicros, -1)
        XCTAssertEqual(result.remaining, 11)
        XCTAssertNil(newTAT)
        let (max, _) = GCRA.check(tat: .max, now: .max - 1, limit: limit, quantity: .max)
        XCTAssertTrue(max.limited)
    }

    func testRefundGivesUnitsBackButNeverBeyondFull() {
        let limit = RateLimit(rate: 100, periodMicros: 1_000_000, burst: 99)  // T = 10 ms, capacity 100
        let now: Int64 = 1_000_000_000
        let (charged, tat) = GCRA.check(tat: nil, now: now, limit: limit, quantity: 80)
        XCTAssertEqual(charged.remaining, 20)
        let refunded = GCRA.refund(tat: tat, now: now, limit: limit, units: 50)
        XCTAssertEqual(GCRA.available(tat: refunded, now: now, limit: limit), 70)
        XCTAssertNil(GCRA.refund(tat: refunded, now: now, limit: limit, units: 1_000_000))
        XCTAssertNil(GCRA.refund(tat: nil, now: now, limit: limit, units: 5))
    }

    func testScaledLimitKeepsAtLeastOneUnit() {
        let limit = RateLimit(rate: 10, periodMicros: 1_000_000, burst: 9)
        XCTAssertEqual(limit.scaled(by: 0.5), RateLimit(rate: 5, periodMicros: 1_000_000, burst: 4))
        XCTAssertEqual(limit.scaled(by: 0.0001), RateLimit(rate: 1, periodMicros: 1_000_000, burst: 0))
        XCTAssertEqual(limit.scaled(by: 1), limit)
    }
}

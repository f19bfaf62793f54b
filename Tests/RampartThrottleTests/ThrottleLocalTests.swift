import Foundation
import XCTest
@testable import RampartThrottleCore

/// The throttle in local mode, on an injected clock.
final class ThrottleLocalTests: XCTestCase {
    func testAllLimitsMustPassAndAFailureChargesNothing() throws {
        let clock = ManualClock()
        let throttle = Throttle(config: try config("""
            {"limits": {"key": {"requests": {"rate": 10, "period_ms": 1000}},
                        "user": {"requests": {"rate": 2, "period_ms": 1000, "burst": 1}}}}
            """), clock: clock)
        // Two keys of one user: the user's limit (2) binds.
        XCTAssertNotNil(throttle.admit(request("k1", user: "alice")).admission)
        XCTAssertNotNil(throttle.admit(request("k2", user: "alice")).admission)
        let denied = try XCTUnwrap(throttle.admit(request("k1", user: "alice")).denial)
        XCTAssertEqual(denied.code, .resourceExhausted)
        XCTAssertEqual(denied.metadata("ratelimit-scope"), "user:requests")
        XCTAssertEqual(denied.metadata("ratelimit-limit"), "2")
        XCTAssertEqual(denied.metadata("ratelimit-remaining"), "0")
        XCTAssertEqual(denied.retryAfterMillis, 500)
        XCTAssertEqual(denied.message, "rate limit exceeded: user requests limit for \"alice\" (2 per 1000 ms, burst 1): 0 remaining, retry after 500 ms")
        // The refused request charged nothing on the key limit: k1 used 1 of 10.
        let store = try XCTUnwrap(throttle.store as? LocalLimiterStore)
        let keyLimit = RateLimit(rate: 10, periodMicros: 1_000_000, burst: 9)
        XCTAssertEqual(store.available(LimitKey(scope: .key, kind: .requests, subject: "k1"), limit: keyLimit), 9)
    }

    func testSuccessfulAdmissionCarriesLimitHeaders() throws {
        let throttle = Throttle(config: try config("""
            {"limits": {"key": {"requests": {"rate": 60, "period_ms": 60000, "burst": 9},
                                "tokens": {"rate": 1000, "period_ms": 60000, "burst": 999}}}}
            """), clock: ManualClock())
        let admission = try XCTUnwrap(throttle.admit(request("k", prompt: 100, maxTokens: 200)).admission)
        XCTAssertEqual(admission.header("ratelimit"), "requests=9/10 reset-ms=1000; tokens=700/1000 reset-ms=18000")
        XCTAssertEqual(admission.headers.count, 1)
        XCTAssertNil(admission.maxTokens)  // 200 fits: max_tokens left alone
        let off = Throttle(config: try config(#"{"headers": false, "limits": {"key": {"requests": {"rate": 5}}}}"#), clock: ManualClock())
        XCTAssertEqual(off.admit(request("k")).admission?.headers.count, 0)
    }

    /// Token budget: prompt + max_tokens reserved at admission, unused part refunded at the end.
    func testTokensAreReservedAtAdmissionAndRefundedAtTheEnd() throws {
        let clock = ManualClock()
        let throttle = Throttle(config: try config("""
            {"limits": {"key": {"tokens": {"rate": 1000, "period_ms": 60000, "burst": 999}}},
             "tokens": {"max_tokens_policy": "refuse"}}
            """), clock: clock)
        let store = try XCTUnwrap(throttle.store as? LocalLimiterStore)
        let key = LimitKey(scope: .key, kind: .tokens, subject: "k")
        let limit = RateLimit(rate: 1000, periodMicros: 60_000_000, burst: 999)
        let first = try XCTUnwrap(throttle.admit(request("k", prompt: 100, maxTokens: 500)).admission)
        XCTAssertEqual(store.available(key, limit: limit), 400)
        // While the first runs, a second asking 100 + 500 does not fit: refused, nothing charged.
        let denial = try XCTUnwrap(throttle.admit(request("k", prompt: 100, maxTokens: 500)).denial)
        XCTAssertEqual(denial.reason, "token_budget")
        XCTAssertEqual(denial.metadata("ratelimit-remaining"), "400")
        XCTAssertTrue(denial.message.contains("needs 600 tokens (prompt 100 + max_tokens 500), 400 remaining, retry after 12000 ms"),
                      denial.message)
        XCTAssertEqual(store.available(key, limit: limit), 400)
        // The first used 100 + 50: 450 come back.
        throttle.finish(first.ticket, StreamEnd(statusCode: 0, promptTokens: 100, completionTokens: 50, deliveredBytes: 200))
        XCTAssertEqual(store.available(key, limit: limit), 850)
        // Finishing twice refunds once.
        throttle.finish(first.ticket, StreamEnd(statusCode: 0))
        XCTAssertEqual(store.available(key, limit: limit), 850)
        XCTAssertEqual(throttle.stats().refundedTokens, 450)
    }

    /// Bad input: a stream cancelled mid-way refunds what it did not deliver.
    func testCancelledStreamRefundsTheUndeliveredTokens() throws {
        let throttle = Throttle(config: try config("""
            {"limits": {"key": {"tokens": {"rate": 1000, "period_ms": 60000, "burst": 999}}}}
            """), clock: ManualClock())
        let store = try XCTUnwrap(throttle.store as? LocalLimiterStore)
        let key = LimitKey(scope: .key, kind: .tokens, subject: "k")
        let limit = RateLimit(rate: 1000, periodMicros: 60_000_000, burst: 999)
        // prompt estimated from 400 bytes = 100 tokens; max_tokens 800.
        let admission = try XCTUnwrap(throttle.admit(request("k", maxTokens: 800, bytes: 400)).admission)
        XCTAssertEqual(store.available(key, limit: limit), 100)
        // Cancelled (status 1) after 120 bytes reached the client, no usage reported: 100 + 30 charged.
        throttle.finish(admission.ticket, StreamEnd(statusCode: 1, deliveredBytes: 120))
        XCTAssertEqual(store.available(key, limit: limit), 870)
        // Failed before any output: everything comes back.
        let failed = try XCTUnwrap(throttle.admit(request("k", maxTokens: 800, bytes: 400)).admission)
        XCTAssertEqual(failed.maxTokens, 770)  // clamped to the 870 left
        XCTAssertEqual(store.available(key, limit: limit), 0)
        throttle.finish(failed.ticket, StreamEnd(statusCode: 14, deliveredBytes: 0))
        XCTAssertEqual(store.available(key, limit: limit), 870)
    }

    /// With the clamp policy, max_tokens shrinks to what the budget allows.
    func testMaxTokensIsClampedToTheBudget() throws {
        let throttle = Throttle(config: try config("""
            {"limits": {"key": {"tokens": {"rate": 1000, "period_ms": 60000, "burst": 999}},
                        "org": {"tokens": {"rate": 700, "period_ms": 60000, "burst": 699}}},
             "tokens": {"min_completion_tokens": 50}}
            """), clock: ManualClock())
        let first = try XCTUnwrap(throttle.admit(request("k", org: "acme", prompt: 100, maxTokens: 4096)).admission)
        XCTAssertEqual(first.maxTokens, 600)  // the org's 700 minus the prompt
        XCTAssertEqual(first.header("ratelimit"), "tokens=0/700 reset-ms=60000; max-tokens=600")
        XCTAssertEqual(first.ticket.reservedTokens, 700)
        // Nothing left: below min_completion_tokens → refused, naming the org budget.
        let denial = try XCTUnwrap(throttle.admit(request("k2", org: "acme", prompt: 10, maxTokens: 4096)).denial)
        XCTAssertEqual(denial.metadata("ratelimit-scope"), "org:tokens")
        XCTAssertEqual(denial.reason, "token_budget")
    }

    /// Bad input: max_tokens = UInt32.max. Clamp policy: clamped to the budget; refuse policy:
    /// refused with the remaining budget; a ceiling refuses with INVALID_ARGUMENT. Never an overflow.
    func testAbsurdMaxTokensIsClampedOrRefusedPerConfig() throws {
        let huge = Int64(UInt32.max)
        // T = 1 hour per token: T · UInt32.max does not fit in Int64 microseconds.
        let slow = #""tokens": {"rate": 1, "period_ms": 3600000, "burst": 80000}"#
        let clamp = Throttle(config: try config(#"{"limits": {"key": {\#(slow)}}}"#), clock: ManualClock())
        let clamped = try XCTUnwrap(clamp.admit(request("k", prompt: 10, maxTokens: huge)).admission)
        XCTAssertEqual(clamped.maxTokens, 80_001 - 10)

        let refuse = Throttle(config: try config(#"{"limits": {"key": {\#(slow)}}, "tokens": {"max_tokens_policy": "refuse"}}"#),
                              clock: ManualClock())
        let denial = try XCTUnwrap(refuse.admit(request("k", prompt: 10, maxTokens: huge)).denial)
        XCTAssertEqual(denial.code, .resourceExhausted)
        XCTAssertEqual(denial.retryAfterMillis, 0)
        XCTAssertTrue(denial.message.contains("can never pass"), denial.message)
        XCTAssertTrue(denial.message.contains("needs 4294967305 tokens"), denial.message)

        let ceiling = Throttle(config: try config(#"{"tokens": {"max_tokens_policy": "refuse", "max_tokens_ceiling": 8192}}"#),
                               clock: ManualClock())
        let refused = try XCTUnwrap(ceiling.admit(request("k", maxTokens: huge)).denial)
        XCTAssertEqual(refused.code, .invalidArgument)
        XCTAssertEqual(refused.message, "max_tokens 4294967295 exceeds the throttle's ceiling of 8192 (tokens.max_tokens_ceiling)")

        let ceilingClamp = Throttle(config: try config(#"{"tokens": {"max_tokens_ceiling": 8192}}"#), clock: ManualClock())
        XCTAssertEqual(ceilingClamp.admit(request("k", maxTokens: huge)).admission?.maxTokens, 8192)
        // Int64 extremes through the whole path.
        XCTAssertNotNil(clamp.admit(request("k2", prompt: .max, maxTokens: .max)).denial)
    }

    /// A burst of 1,000 concurrent requests for one key: exactly the allowed number is admitted.
    func testThousandConcurrentRequestsAdmitExactlyTheBurst() throws {
        let throttle = Throttle(config: try config("""
            {"limits": {"key": {"requests": {"rate": 1, "period_ms": 3600000, "burst": 99}}}}
            """), clock: ManualClock())
        let outcomes = concurrently(1000) { _ in throttle.admit(request("hot")).admission != nil }
        XCTAssertEqual(outcomes.count, 1000)
        XCTAssertEqual(outcomes.filter { $0 }.count, 100)
        XCTAssertEqual(throttle.stats().denied["rate_limited"], 900)
    }

    /// N parallel clients against one key with a concurrency cap and reject mode: exactly the cap runs.
    func testConcurrencyCapAdmitsExactlyTheCap() throws {
        let throttle = Throttle(config: try config("""
            {"limits": {"concurrency": 7}, "concurrency": {"queue": "reject"}}
            """), clock: ManualClock())
        let held = Bag<ThrottleTicket>()
        let outcomes = concurrently(1000) { _ -> Bool in
            guard let admission = throttle.admit(request("k")).admission else { return false }
            held.append(admission.ticket)
            return true
        }
        XCTAssertEqual(outcomes.filter { $0 }.count, 7)
        XCTAssertEqual(throttle.gate.localInFlight(key: "k"), 7)
        let denial = throttle.admit(request("k")).denial
        XCTAssertEqual(denial?.reason, "concurrency")
        XCTAssertEqual(denial?.metadata("ratelimit-scope"), "key:concurrency")
        for ticket in held.removeAll() { throttle.finish(ticket, StreamEnd(statusCode: 0)) }
        XCTAssertEqual(throttle.gate.localInFlight(key: "k"), 0)
    }

    /// A ticket freed without finish (the host dropped the stream state) still releases its slot.
    func testDroppedTicketReleasesItsSlot() throws {
        let throttle = Throttle(config: try config(#"{"limits": {"concurrency": 1}, "concurrency": {"queue": "reject"}}"#),
                                clock: ManualClock())
        do {
            let admission = throttle.admit(request("k")).admission
            XCTAssertNotNil(admission)
            XCTAssertNotNil(throttle.admit(request("k")).denial)
        }
        XCTAssertEqual(throttle.gate.localInFlight(key: "k"), 0)
        XCTAssertNotNil(throttle.admit(request("k")).admission)
        XCTAssertEqual(throttle.stats().abandonedTickets, 2)
    }

    /// Waiting up to the deadline, then RESOURCE_EXHAUSTED; a release hands the slot to a waiter.
    func testQueueWaitsUntilTheDeadlineThenRefuses() throws {
        let throttle = Throttle(config: try config(#"{"concurrency": {"pool": 1, "max_wait_ms": 10000}}"#), clock: ManualClock())
        let holder = try XCTUnwrap(throttle.admit(request("a")).admission)
        // The request's own deadline (30 ms away) is earlier than max_wait_ms.
        let deadline = SystemClock().nowMicros() + 30_000
        let refused = try XCTUnwrap(throttle.admit(request("b", deadline: deadline)).denial)
        XCTAssertEqual(refused.reason, "queue_timeout")
        XCTAssertEqual(refused.metadata("ratelimit-scope"), "pool:concurrency")
        XCTAssertTrue(refused.message.contains("waited"), refused.message)
        // A waiter gets the slot as soon as it is released.
        let admitted = concurrently(2) { index -> Bool in
            if index == 0 {
                while throttle.gate.waitingCount == 0 { usleep(200) }
                throttle.finish(holder.ticket, StreamEnd(statusCode: 0))
                return true
            }
            return throttle.admit(request("c")).admission != nil
        }
        XCTAssertEqual(admitted, [true, true])
    }

    /// Noisy neighbour: key A queues 30 requests, key B one; when slots free up B is served
    /// within the next two grants, not after A's 30.
    func testFairQueueDoesNotLetOneKeyStarveAnother() throws {
        let throttle = Throttle(config: try config(#"{"concurrency": {"pool": 1, "max_wait_ms": 20000}}"#), clock: ManualClock())
        let first = try XCTUnwrap(throttle.admit(request("blocker")).admission)
        let order = Bag<String>()
        let group = DispatchGroup()
        func spawn(_ key: String) {
            group.enter()
            Thread {
                if let admission = throttle.admit(request(key)).admission {
                    order.append(key)
                    usleep(500)
                    throttle.finish(admission.ticket, StreamEnd(statusCode: 0))
                }
                group.leave()
            }.start()
        }
        for _ in 0..<30 { spawn("A") }
        while throttle.gate.waitingCount < 30 { usleep(200) }
        spawn("B")
        while throttle.gate.waitingCount < 31 { usleep(200) }
        throttle.finish(first.ticket, StreamEnd(statusCode: 0))
        group.wait()
        let served = order.all
        XCTAssertEqual(served.count, 31)
        let position = try XCTUnwrap(served.firstIndex(of: "B"))
        XCTAssertLessThanOrEqual(position, 1, "B served at position \(position): \(served)")
    }

    /// Too many waiters: refused at once.
    func testQueueFullIsRefusedAtOnce() throws {
        let throttle = Throttle(config: try config(#"{"concurrency": {"pool": 1, "max_waiters": 1, "max_wait_ms": 5000}}"#),
                                clock: ManualClock())
        let holder = try XCTUnwrap(throttle.admit(request("a")).admission)
        let results = concurrently(2) { index -> String in
            if index == 0 { return throttle.admit(request("b")).admission != nil ? "admitted" : "denied" }
            while throttle.gate.waitingCount == 0 { usleep(200) }
            let denial = throttle.admit(request("c")).denial
            throttle.finish(holder.ticket, StreamEnd(statusCode: 0))
            return denial?.reason ?? "admitted"
        }
        XCTAssertEqual(results, ["admitted", "queue_full"])
    }
}

final class LimitHeaderFormatTests: XCTestCase {
    /// The header's digits are written without `String(Int)`: they must agree with it everywhere.
    func testDecimalFormattingMatchesStringForEveryMagnitude() {
        var values: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, 1_000_000, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -power]
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 { values.append(Int64.random(in: Int64.min...Int64.max, using: &generator)) }
        for value in values {
            let text = String(unsafeUninitializedCapacity: 32) { buffer in
                var out = ASCIIWriter(buffer)
                out.append("x")
                out.append(value)
                return out.count
            }
            XCTAssertEqual(text, "x" + String(value))
        }
    }

    /// What does not fit is dropped whole and reported, never written past the end.
    func testTheWriterNeverOverflowsItsBuffer() {
        var storage = [UInt8](repeating: 0, count: 6)
        storage.withUnsafeMutableBufferPointer { buffer in
            var out = ASCIIWriter(UnsafeMutableBufferPointer(rebasing: buffer[0..<5]))
            out.append(Int64(-1234))
            XCTAssertEqual(out.count, 5)
            XCTAssertFalse(out.overflowed)
            out.append("y")
            XCTAssertTrue(out.overflowed)
            XCTAssertEqual(out.count, 5)
        }
        XCTAssertEqual(String(decoding: storage[0..<5], as: UTF8.self), "-1234")
        XCTAssertEqual(storage[5], 0)
    }

    /// The longest possible header (every number at its widest) fits the capacity.
    func testTheWidestHeaderFits() {
        let widest = "requests=\(Int64.min)/\(Int64.min) reset-ms=\(Int64.min); tokens=\(Int64.min)/\(Int64.min) reset-ms=\(Int64.min); max-tokens=\(Int64.min)"
        XCTAssertLessThanOrEqual(widest.utf8.count, Throttle.headerCapacity)
    }
}

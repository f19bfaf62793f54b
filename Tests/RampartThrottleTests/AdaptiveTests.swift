import XCTest
@testable import RampartThrottleCore

final class AdaptiveTests: XCTestCase {
    private let limits = #""limits": {"key": {"requests": {"rate": 100, "period_ms": 1000, "burst": 99}}}"#

    private func burst(_ throttle: Throttle, _ id: String, _ count: Int = 200, signal: (String) -> Double? = { _ in nil }) -> Int {
        (0..<count).filter { _ in throttle.admit(request(id), signal: signal).admission != nil }.count
    }

    func testNewKeysRampUpOverTheConfiguredAge() throws {
        let clock = ManualClock()
        let throttle = Throttle(config: try config(#"{\#(limits), "adaptive": {"ramp_ms": 1000000, "ramp_start_fraction": 0.25}}"#),
                                clock: clock)
        XCTAssertEqual(burst(throttle, "new"), 25)
        clock.advance(micros: 500_000_000)  // half the ramp: 0.25 + 0.75 / 2 = 0.625
        XCTAssertEqual(burst(throttle, "new"), 62)
        clock.advance(micros: 600_000_000)
        XCTAssertEqual(burst(throttle, "new"), 100)
        // A key the auth plugin says is old starts at full limits.
        let old = AdmissionRequest(principal: ThrottlePrincipal(id: "old", createdAtMicros: clock.nowMicros() - 2_000_000_000))
        XCTAssertEqual((0..<200).filter { _ in throttle.admit(old).admission != nil }.count, 100)
    }

    func testAuthFailuresAndRiskTightenAndAreVisible() throws {
        let throttle = Throttle(config: try config("{\(limits)}"), clock: ManualClock())
        // 6 failures at threshold 3, factor 0.5: two steps → 0.25.
        let failures: (String) -> Double? = { $0 == "auth_failures:uid:1000" ? 6 : nil }
        XCTAssertEqual(burst(throttle, "k1", signal: failures), 25)
        let events = throttle.drainEvents()
        let tightened = try XCTUnwrap(events.first { $0.kind == "throttle.tightened" })
        XCTAssertEqual(tightened.principalID, "k1")
        XCTAssertEqual(tightened.reason, "auth_failures")
        XCTAssertTrue(events.contains { $0.kind == "throttle.denied" && $0.reason == "rate_limited" && $0.principalID == "k1" })
        // The probe detector's risk 1.0 at weight 0.9 leaves a tenth.
        XCTAssertEqual(burst(throttle, "k2", signal: { $0 == "risk:k2" ? 1.0 : nil }), 10)
        let stats = throttle.stats()
        XCTAssertEqual(stats.adjustments.map(\.principalID), ["k1", "k2"])
        XCTAssertEqual(stats.adjustments.first?.factor ?? 0, 0.25, accuracy: 1e-9)
        XCTAssertEqual(stats.adjustments.last?.risk, 1.0)
        XCTAssertEqual(stats.adjustments.last?.factor ?? 0, 0.1, accuracy: 1e-9)
        // Out-of-range risk values are clamped, not trusted.
        XCTAssertEqual(burst(throttle, "k3", signal: { $0 == "risk:k3" ? -7 : nil }), 100)
    }

    func testDenialsByOtherPluginsTighten() throws {
        let clock = ManualClock()
        let throttle = Throttle(config: try config(#"{\#(limits), "adaptive": {"denial_threshold": 2, "denial_factor": 0.5}}"#),
                                clock: clock)
        for _ in 0..<3 {  // 3 denials decay to ~2.97 after 10 s: one step of the threshold 2
            let admission = try XCTUnwrap(throttle.admit(request("bad")).admission)
            throttle.finish(admission.ticket, StreamEnd(statusCode: 7))  // PERMISSION_DENIED by a later plugin
        }
        clock.advance(micros: 10_000_000)  // budget full again; the denials decay slowly (half-life 10 min)
        XCTAssertEqual(burst(throttle, "bad"), 50)
        XCTAssertEqual(throttle.stats(principalID: "bad").adjustments.first?.denialPart, 0.5)
    }

    func testPerKeyConcurrencyShrinksWithTheFactor() throws {
        let throttle = Throttle(config: try config(#"{"limits": {"concurrency": 8}, "concurrency": {"queue": "reject"}}"#),
                                clock: ManualClock())
        let risky: (String) -> Double? = { $0 == "risk:k" ? 0.5 / 0.9 : nil }  // factor 0.5
        let tickets = (0..<10).compactMap { _ in throttle.admit(request("k"), signal: risky).admission?.ticket }
        XCTAssertEqual(tickets.count, 4)
    }
}

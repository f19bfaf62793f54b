import RampartPluginHost
import Synchronization
import XCTest

final class SignalStoreTests: XCTestCase {
    /// A clock the test moves by hand (nanoseconds).
    private final class ManualClock: Sendable {
        let now = Atomic<UInt64>(1_000_000_000)
        func advance(millis: UInt64) { now.add(millis * 1_000_000, ordering: .relaxed) }
    }

    private func get(_ store: SignalStore, bytes key: String) -> Double? {
        Array(key.utf8).withUnsafeBytes { store.get(utf8: $0) }
    }

    func testByteAndStringLookupsAgree() {
        let store = SignalStore()
        store.set("risk:p1", 0.5)
        store.set("auth_failures:principal:a-very-long-principal-identifier", 3)
        for key in ["risk:p1", "auth_failures:principal:a-very-long-principal-identifier", "risk:p2", "", "risk:p1 "] {
            XCTAssertEqual(get(store, bytes: key), store.get(key), key)
        }
        XCTAssertEqual(get(store, bytes: "risk:p1"), 0.5)
        XCTAssertNil(get(store, bytes: "risk:p2"))
    }

    func testExpiredSignalsAreGoneEitherWay() {
        let clock = ManualClock()
        let store = SignalStore(clock: { clock.now.load(ordering: .relaxed) })
        store.set("a", 1, ttlMillis: 10)
        store.set("b", 2, ttlMillis: 10)
        clock.advance(millis: 9)
        XCTAssertEqual(get(store, bytes: "a"), 1)
        clock.advance(millis: 2)
        XCTAssertNil(get(store, bytes: "a"))
        XCTAssertNil(store.get("b"))
        store.set("a", 4)  // published again after expiring
        XCTAssertEqual(get(store, bytes: "a"), 4)
    }

    func testCapacityEvictsTheExpiredThenTheSoonestToExpire() {
        let clock = ManualClock()
        let store = SignalStore(capacity: 2, clock: { clock.now.load(ordering: .relaxed) })
        store.set("short", 1, ttlMillis: 1)
        store.set("medium", 2, ttlMillis: 100)
        clock.advance(millis: 2)
        store.set("long", 3)  // full: the expired entry goes
        XCTAssertNil(get(store, bytes: "short"))
        XCTAssertEqual(get(store, bytes: "medium"), 2)
        store.set("newest", 4)  // full, nothing expired: the soonest to expire goes
        XCTAssertNil(get(store, bytes: "medium"))
        XCTAssertEqual(get(store, bytes: "long"), 3)
        XCTAssertEqual(get(store, bytes: "newest"), 4)
        store.set("newest", 5)  // an update is not an insertion: nothing evicted
        XCTAssertEqual(get(store, bytes: "long"), 3)
        XCTAssertEqual(get(store, bytes: "newest"), 5)
    }

    func testNonFiniteValuesAreNotPublished() {
        let store = SignalStore()
        store.set("x", .nan)
        store.set("y", .infinity)
        XCTAssertNil(get(store, bytes: "x"))
        XCTAssertNil(store.get("y"))
    }
}

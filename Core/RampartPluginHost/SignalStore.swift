import Synchronization

/// Shared signals: small keyed numbers that plugins publish to each other through the host
/// (e.g. `risk:<principal>` from the probe detector, read by the throttle). Entries expire.
public final class SignalStore: Sendable {
    private struct Entry { var value: Double; var expiresAt: UInt64 }
    private let entries = Mutex<[String: Entry]>([:])
    private let defaultTTLNanos: UInt64
    private let capacity: Int
    private let clock: @Sendable () -> UInt64

    /// - Parameters:
    ///   - defaultTTL: lifetime of a signal published with ttl 0.
    ///   - capacity: most entries kept; expired entries are evicted first, then the oldest-expiring.
    public init(defaultTTL: Duration = .seconds(300), capacity: Int = 100_000,
                clock: @escaping @Sendable () -> UInt64 = { monotonicNanos() }) {
        let (s, a) = defaultTTL.components
        self.defaultTTLNanos = UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, a)) / 1_000_000_000
        self.capacity = capacity
        self.clock = clock
    }

    /// The current value of a signal, if present and not expired.
    public func get(_ key: String) -> Double? {
        entries.withLock { table in
            // The clock is read only for a present entry (most lookups find none).
            guard let entry = table[key] else { return nil }
            if entry.expiresAt <= clock() {
                table[key] = nil
                return nil
            }
            return entry.value
        }
    }

    /// Publishes a value; `ttlMillis` 0 means the default lifetime.
    public func set(_ key: String, _ value: Double, ttlMillis: UInt64 = 0) {
        guard value.isFinite else { return }
        let now = clock()
        let ttl = ttlMillis == 0 ? defaultTTLNanos : min(ttlMillis, UInt64.max / 2_000_000) * 1_000_000
        entries.withLock { table in
            if table.count >= capacity, table[key] == nil {
                table = table.filter { $0.value.expiresAt > now }
                if table.count >= capacity, let victim = table.min(by: { $0.value.expiresAt < $1.value.expiresAt })?.key {
                    table[victim] = nil
                }
            }
            table[key] = Entry(value: value, expiresAt: now &+ ttl)
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

#if canImport(Glibc)
import Glibc
#endif

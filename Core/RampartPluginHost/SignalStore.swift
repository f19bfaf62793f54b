import Synchronization
import RampartChain

/// Shared signals: small keyed numbers that plugins publish to each other through the host
/// (e.g. `risk:<principal>` from the probe detector, read by the throttle). Entries expire.
public final class SignalStore: Sendable {
    private struct Entry { var value: Double; var expiresAt: UInt64 }

    /// The entries, and how many keys have each 64-bit hash of their bytes: a plugin's lookup
    /// (bytes through the ABI) finds most signals absent without making a `String` of the key.
    private struct Table {
        var entries: [String: Entry] = [:]
        var hashes: [UInt64: Int] = [:]

        mutating func insert(_ key: String, _ entry: Entry) {
            if entries.updateValue(entry, forKey: key) == nil { hashes[SignalStore.hash(key), default: 0] += 1 }
        }

        mutating func remove(_ key: String) {
            guard entries.removeValue(forKey: key) != nil else { return }
            let hash = SignalStore.hash(key)
            if let count = hashes[hash], count > 1 { hashes[hash] = count - 1 } else { hashes[hash] = nil }
        }

        mutating func keep(where include: (Entry) -> Bool) {
            entries = entries.filter { include($0.value) }
            hashes = [:]
            for key in entries.keys { hashes[SignalStore.hash(key), default: 0] += 1 }
        }
    }

    private let table = Mutex(Table())
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
        table.withLock { table in lookup(&table, key) }
    }

    /// The current value of the signal whose name is these UTF-8 bytes; a name no entry has is
    /// answered from its hash alone.
    public func get(utf8 key: UnsafeRawBufferPointer) -> Double? {
        let hash = Self.hash(key)
        return table.withLock { table in
            guard table.hashes[hash] != nil else { return nil }
            return lookup(&table, String(decoding: key, as: UTF8.self))
        }
    }

    private func lookup(_ table: inout Table, _ key: String) -> Double? {
        // The clock is read only for a present entry (most lookups find none).
        guard let entry = table.entries[key] else { return nil }
        if entry.expiresAt <= clock() {
            table.remove(key)
            return nil
        }
        return entry.value
    }

    /// Publishes a value; `ttlMillis` 0 means the default lifetime.
    public func set(_ key: String, _ value: Double, ttlMillis: UInt64 = 0) {
        guard value.isFinite else { return }
        let now = clock()
        let ttl = ttlMillis == 0 ? defaultTTLNanos : min(ttlMillis, UInt64.max / 2_000_000) * 1_000_000
        table.withLock { table in
            if table.entries.count >= capacity, table.entries[key] == nil {
                table.keep { $0.expiresAt > now }
                if table.entries.count >= capacity,
                   let victim = table.entries.min(by: { $0.value.expiresAt < $1.value.expiresAt })?.key {
                    table.remove(victim)
                }
            }
            table.insert(key, Entry(value: value, expiresAt: now &+ ttl))
        }
    }

    /// FNV-1a over the name's UTF-8 bytes.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    static func hash(_ key: String) -> UInt64 {
        var key = key
        return key.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }
}


#if canImport(Glibc)
import Glibc
#endif

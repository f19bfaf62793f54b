import Foundation
import Synchronization

/// Why a slot could not be taken.
public enum SlotRefusal: Sendable, Equatable {
    /// The key already runs its cap of streams.
    case keyFull
    /// The backend (GPU pool) runs its cap of streams.
    case poolFull
}

/// Where concurrency counters live. Called only under ``ConcurrencyGate``'s lock.
protocol SlotBackend: AnyObject, Sendable {
    /// Takes a slot for `holder` in `key` (cap `keyCap`) and in the pool (cap `poolCap`), or says why not.
    func tryAcquire(key: String, keyCap: Int64?, poolCap: Int64?, holder: String) throws(StoreError) -> SlotRefusal?
    /// Gives the slot back.
    func release(key: String, keyCap: Bool, poolCap: Bool, holder: String) throws(StoreError)
}

/// Counters in this process.
final class LocalSlots: SlotBackend, @unchecked Sendable {
    private var perKey: [String: Int64] = [:]
    private var pool: Int64 = 0

    func tryAcquire(key: String, keyCap: Int64?, poolCap: Int64?, holder: String) -> SlotRefusal? {
        let held = perKey[key] ?? 0
        if let keyCap, held >= keyCap { return .keyFull }
        if let poolCap, pool >= poolCap { return .poolFull }
        if keyCap != nil { perKey[key] = held + 1 }
        if poolCap != nil { pool += 1 }
        return nil
    }

    func release(key: String, keyCap: Bool, poolCap: Bool, holder: String) {
        if keyCap, let held = perKey[key] {
            if held <= 1 { perKey[key] = nil } else { perKey[key] = held - 1 }
        }
        if poolCap, pool > 0 { pool -= 1 }
    }

    /// Streams running for `key` / in the pool.
    func inFlight(key: String) -> Int64 { perKey[key] ?? 0 }
    var poolInFlight: Int64 { pool }
}

/// Lease sets in Redis shared by every sidecar; a background thread renews this process's
/// leases so that only a crashed sidecar's slots expire.
final class RedisSlots: SlotBackend, @unchecked Sendable {
    private let pool: RedisConnectionPool
    private let prefix: String
    private let leaseMillis: Int64
    /// Held slots: holder → (key set, pool set or nil).
    private let held = Mutex<[String: (String?, String?)]>([:])
    private let running = Atomic<Bool>(true)

    init(pool: RedisConnectionPool, prefix: String, leaseMicros: Int64) {
        self.pool = pool
        self.prefix = prefix
        self.leaseMillis = max(1000, leaseMicros / 1000)
        let thread = Thread { [weak self] in
            while let interval = self?.renewInterval {
                Thread.sleep(forTimeInterval: interval)
                guard let self, self.running.load(ordering: .relaxed) else { return }
                self.renewAll()
            }
        }
        thread.name = "rampart-throttle-lease"
        thread.start()
    }

    deinit {
        running.store(false, ordering: .relaxed)
    }

    /// Stops renewing (the owner shuts down).
    func stop() { running.store(false, ordering: .relaxed) }

    private var renewInterval: Double? {
        running.load(ordering: .relaxed) ? Double(leaseMillis) / 3000 : nil
    }

    func keySet(_ key: String) -> String { prefix + "slots:key:" + key }
    var poolSet: String { prefix + "slots:pool" }

    func tryAcquire(key: String, keyCap: Int64?, poolCap: Int64?, holder: String) throws(StoreError) -> SlotRefusal? {
        let reply = try ThrottleScripts.acquire.run(
            on: pool, keys: [keySet(key), poolSet],
            args: [String(keyCap ?? 0), String(poolCap ?? 0), holder, String(leaseMillis)])
        switch reply.integer {
        case 1:
            held.withLock { $0[holder] = (keyCap != nil ? keySet(key) : nil, poolCap != nil ? poolSet : nil) }
            return nil
        case -1: return .keyFull
        case -2: return .poolFull
        default: throw StoreError("redis script acquire: unexpected reply \(reply)")
        }
    }

    func release(key: String, keyCap: Bool, poolCap: Bool, holder: String) throws(StoreError) {
        forget(holder)
        let sets = self.sets(key: key, keyCap: keyCap, poolCap: poolCap)
        guard !sets.isEmpty else { return }
        // Both sets in one round trip (the finish script with no refunds).
        _ = try ThrottleScripts.finish.run(on: pool, keys: sets, args: ["0", holder])
    }

    /// The lease sets a hold occupies.
    func sets(key: String, keyCap: Bool, poolCap: Bool) -> [String] {
        (keyCap ? [keySet(key)] : []) + (poolCap ? [poolSet] : [])
    }

    /// Records a lease taken by a combined admission script (renewed from now on).
    func adopt(holder: String, key: String, keyCap: Bool, poolCap: Bool) {
        held.withLock { $0[holder] = (keyCap ? keySet(key) : nil, poolCap ? poolSet : nil) }
    }

    /// Stops renewing a lease (given back, or given up).
    func forget(_ holder: String) {
        held.withLock { _ = $0.removeValue(forKey: holder) }
    }

    /// The slot request for the admission's combined script (``RedisLimiterStore/admit(_:slot:)``):
    /// this key's and the pool's lease sets, leased as `holder` for this backend's lease time.
    func request(key: String, keyCap: Int64?, poolCap: Int64?, holder: String) -> RedisLimiterStore.SlotRequest {
        RedisLimiterStore.SlotRequest(keySet: keySet(key), poolSet: poolSet, keyCap: keyCap, poolCap: poolCap,
                                      member: holder, leaseMillis: leaseMillis)
    }

    /// Renews every lease this process holds (one script call).
    func renewAll() {
        let snapshot = held.withLock { $0 }
        guard !snapshot.isEmpty else { return }
        var keys: [String] = []
        var members: [String] = []
        for (holder, sets) in snapshot {
            for set in [sets.0, sets.1].compactMap({ $0 }) {
                keys.append(set)
                members.append(holder)
            }
        }
        _ = try? ThrottleScripts.renew.run(on: pool, keys: keys, args: [String(leaseMillis)] + members)
    }
}

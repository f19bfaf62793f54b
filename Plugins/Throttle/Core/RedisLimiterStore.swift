/// TATs in Redis: every sidecar pointing at the same Redis enforces one global limit per key.
/// Each admission is one atomic script call (``ThrottleScripts/admit``).
public final class RedisLimiterStore: LimiterStore {
    public let pool: RedisConnectionPool
    private let prefix: String
    /// First-seen marks live this long (seconds).
    private let firstSeenTTLSeconds: Int64

    public init(pool: RedisConnectionPool, keyPrefix: String, firstSeenTTLSeconds: Int64 = 90 * 86_400) {
        self.pool = pool
        self.prefix = keyPrefix
        self.firstSeenTTLSeconds = firstSeenTTLSeconds
    }

    public func admit(_ plan: AdmissionPlan) throws(StoreError) -> PlanOutcome {
        var keys: [String] = []
        var args = [String(plan.requestedVariable), String(plan.minimumVariable), plan.clamp ? "1" : "0"]
        keys.reserveCapacity(plan.entries.count)
        for entry in plan.entries {
            keys.append(prefix + entry.key.storageKey)
            args += [String(entry.limit.emissionMicros), String(entry.limit.toleranceMicros), String(entry.fixed),
                     entry.flexible ? "1" : "0"]
        }
        let reply = try ThrottleScripts.admit.run(on: pool, keys: keys, args: args)
        guard case .array(let values) = reply, values.count == 3 + 4 * plan.entries.count else {
            throw StoreError("redis script admit: unexpected reply \(reply)")
        }
        let numbers = values.map { $0.integer ?? 0 }
        var results: [GCRAResult] = []
        for (index, entry) in plan.entries.enumerated() {
            let base = 3 + index * 4
            results.append(GCRAResult(limited: numbers[base + 3] == 1, limit: entry.limit.capacity, remaining: numbers[base],
                                      resetAfterMicros: numbers[base + 1], retryAfterMicros: numbers[base + 2]))
        }
        return PlanOutcome(admitted: numbers[0] == 1, variable: numbers[1], results: results)
    }

    public func refund(_ refunds: [Refund]) throws(StoreError) {
        let positive = refunds.filter { $0.units > 0 }
        guard !positive.isEmpty else { return }
        var args: [String] = []
        for refund in positive {
            args += [String(refund.limit.emissionMicros), String(refund.limit.toleranceMicros), String(refund.units)]
        }
        _ = try ThrottleScripts.refund.run(on: pool, keys: positive.map { prefix + $0.key.storageKey }, args: args)
    }

    public func firstSeen(_ subject: String) throws(StoreError) -> Int64 {
        let reply = try ThrottleScripts.firstSeen.run(on: pool, keys: [prefix + "seen:" + subject],
                                                      args: [String(firstSeenTTLSeconds)])
        guard let micros = reply.integer else { throw StoreError("redis script first_seen: unexpected reply \(reply)") }
        return micros
    }
}

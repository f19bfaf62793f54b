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
        let (keys, args) = arguments(plan)
        return try outcome(plan, try ThrottleScripts.admit.run(on: pool, keys: keys, args: args), extra: 0).0
    }

    /// A concurrency slot to take in the admission's round trip.
    struct SlotRequest {
        let keySet: String
        let poolSet: String
        let keyCap: Int64?
        let poolCap: Int64?
        let member: String
        let leaseMillis: Int64
    }

    /// Checks and charges `plan` and, when admitted, tries `slot` in the same script (one round
    /// trip instead of two). A slot that is full leaves the budgets charged: the caller then
    /// queues (or refuses) through the gate, as when the slot is taken apart.
    func admit(_ plan: AdmissionPlan, slot: SlotRequest) throws(StoreError) -> (PlanOutcome, slotTaken: Bool) {
        var (keys, args) = arguments(plan)
        keys += [slot.keySet, slot.poolSet]
        args += [String(slot.keyCap ?? 0), String(slot.poolCap ?? 0), slot.member, String(slot.leaseMillis)]
        let (outcome, tail) = try outcome(plan, try ThrottleScripts.admitAcquire.run(on: pool, keys: keys, args: args), extra: 1)
        switch tail.first {
        case 1: return (outcome, true)
        case -1, -2: return (outcome, false)
        case 0 where !outcome.admitted: return (outcome, false)
        default: throw StoreError("redis script admit_acquire: unexpected slot result \(tail)")
        }
    }

    private func arguments(_ plan: AdmissionPlan) -> (keys: [String], args: [String]) {
        var keys: [String] = []
        var args = [String(plan.requestedVariable), String(plan.minimumVariable), plan.clamp ? "1" : "0"]
        keys.reserveCapacity(plan.entries.count + 2)
        args.reserveCapacity(3 + 4 * plan.entries.count + 4)
        for entry in plan.entries {
            keys.append(prefix + entry.key.storageKey)
            args += [String(entry.limit.emissionMicros), String(entry.limit.toleranceMicros), String(entry.fixed),
                     entry.flexible ? "1" : "0"]
        }
        return (keys, args)
    }

    /// The plan's outcome from an admit reply, and the `extra` numbers after it.
    private func outcome(_ plan: AdmissionPlan, _ reply: RedisReply, extra: Int) throws(StoreError) -> (PlanOutcome, [Int64]) {
        guard case .array(let values) = reply, values.count == 3 + 4 * plan.entries.count + extra else {
            throw StoreError("redis script admit: unexpected reply \(reply)")
        }
        let numbers = values.map { $0.integer ?? 0 }
        var results: [GCRAResult] = []
        for (index, entry) in plan.entries.enumerated() {
            let base = 3 + index * 4
            results.append(GCRAResult(limited: numbers[base + 3] == 1, limit: entry.limit.capacity, remaining: numbers[base],
                                      resetAfterMicros: numbers[base + 1], retryAfterMicros: numbers[base + 2]))
        }
        return (PlanOutcome(admitted: numbers[0] == 1, variable: numbers[1], results: results),
                Array(numbers.suffix(extra)))
    }

    public func refund(_ refunds: [Refund]) throws(StoreError) {
        try finish(refunds, leaving: [], member: "")
    }

    /// Refunds and leaves the lease sets `leaving` (as `member`) in one round trip.
    func finish(_ refunds: [Refund], leaving sets: [String], member: String) throws(StoreError) {
        let positive = refunds.filter { $0.units > 0 }
        guard !positive.isEmpty || !sets.isEmpty else { return }
        var args = [String(positive.count)]
        for refund in positive {
            args += [String(refund.limit.emissionMicros), String(refund.limit.toleranceMicros), String(refund.units)]
        }
        args.append(member)
        _ = try ThrottleScripts.finish.run(on: pool, keys: positive.map { prefix + $0.key.storageKey } + sets, args: args)
    }

    public func firstSeen(_ subject: String) throws(StoreError) -> Int64 {
        let reply = try ThrottleScripts.firstSeen.run(on: pool, keys: [prefix + "seen:" + subject],
                                                      args: [String(firstSeenTTLSeconds)])
        guard let micros = reply.integer else { throw StoreError("redis script first_seen: unexpected reply \(reply)") }
        return micros
    }
}

import Synchronization

/// TATs in this process's memory, behind one lock (a check of a few entries takes well under a
/// microsecond). Expired keys (TAT ≤ now: a full budget) are swept as the table grows.
public final class LocalLimiterStore: LimiterStore {
    private struct State {
        var tats: [String: Int64] = [:]
        var firstSeen: [String: Int64] = [:]
        var sweepAt = 4096
    }

    private let state = Mutex(State())
    private let clock: any ThrottleClock
    /// First-seen times kept at most (oldest dropped beyond).
    private let maxSubjects: Int

    public init(clock: any ThrottleClock, maxSubjects: Int = 100_000) {
        self.clock = clock
        self.maxSubjects = maxSubjects
    }

    public func admit(_ plan: AdmissionPlan) throws(StoreError) -> PlanOutcome {
        let now = clock.nowMicros()
        return state.withLock { state in
            var tats: [Int64?] = []
            tats.reserveCapacity(plan.entries.count)
            for entry in plan.entries {
                var tat = state.tats[entry.key.storageKey]
                if let corrected = GCRA.corrected(tat: tat, now: now, limit: entry.limit) {
                    // The clock went backwards: keep the correction even if this check is limited.
                    state.tats[entry.key.storageKey] = corrected
                    tat = corrected
                }
                tats.append(tat)
            }
            let (outcome, newTATs) = PlanEvaluator.evaluate(plan, tats: tats, now: now)
            guard outcome.admitted else { return outcome }
            for (index, entry) in plan.entries.enumerated() {
                state.tats[entry.key.storageKey] = newTATs[index]
            }
            if state.tats.count >= state.sweepAt {
                state.tats = state.tats.filter { $0.value > now }
                state.sweepAt = max(4096, state.tats.count * 2)
            }
            return outcome
        }
    }

    public func refund(_ refunds: [Refund]) throws(StoreError) {
        let now = clock.nowMicros()
        state.withLock { state in
            for refund in refunds where refund.units > 0 {
                let key = refund.key.storageKey
                state.tats[key] = GCRA.refund(tat: state.tats[key], now: now, limit: refund.limit, units: refund.units)
            }
        }
    }

    public func firstSeen(_ subject: String) throws(StoreError) -> Int64 {
        let now = clock.nowMicros()
        return state.withLock { state in
            if let seen = state.firstSeen[subject] { return seen }
            if state.firstSeen.count >= maxSubjects {
                // Forget the longest-known half: they have ramped up long ago.
                let keep = state.firstSeen.sorted { $0.value > $1.value }.prefix(maxSubjects / 2)
                state.firstSeen = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
            }
            state.firstSeen[subject] = now
            return now
        }
    }

    /// The stored TAT of a key (tests).
    public func tat(_ key: LimitKey) -> Int64? {
        state.withLock { $0.tats[key.storageKey] }
    }

    /// Units available now for `key` under `limit` (tests and stats).
    public func available(_ key: LimitKey, limit: RateLimit) -> Int64 {
        let now = clock.nowMicros()
        return state.withLock { GCRA.available(tat: $0.tats[key.storageKey], now: now, limit: limit) }
    }
}

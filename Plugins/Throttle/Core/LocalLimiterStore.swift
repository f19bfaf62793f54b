import Synchronization

/// TATs in this process's memory, behind one lock (a check of a few entries takes well under a
/// microsecond). Expired keys (TAT ≤ now: a full budget) are swept as the table grows.
public final class LocalLimiterStore: LimiterStore {
    /// One counter's TAT, updated in place (one hash lookup per entry and admission).
    final class Cell {
        var tat: Int64?
        init(_ tat: Int64?) { self.tat = tat }
    }

    private struct State {
        var cells: [LimitKey: Cell] = [:]
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
            var cells: [Cell] = []
            var tats: [Int64?] = []
            cells.reserveCapacity(plan.entries.count)
            tats.reserveCapacity(plan.entries.count)
            for entry in plan.entries {
                let cell: Cell
                if let known = state.cells[entry.key] {
                    cell = known
                } else {
                    cell = Cell(nil)
                    state.cells[entry.key] = cell
                }
                if let corrected = GCRA.corrected(tat: cell.tat, now: now, limit: entry.limit) {
                    // The clock went backwards: keep the correction even if this check is limited.
                    cell.tat = corrected
                }
                cells.append(cell)
                tats.append(cell.tat)
            }
            let (outcome, newTATs) = PlanEvaluator.evaluate(plan, tats: tats, now: now)
            guard outcome.admitted else { return outcome }
            for (index, cell) in cells.enumerated() { cell.tat = newTATs[index] }
            if state.cells.count >= state.sweepAt {
                state.cells = state.cells.filter { ($0.value.tat ?? now) > now }
                state.sweepAt = max(4096, state.cells.count * 2)
            }
            return outcome
        }
    }

    public func refund(_ refunds: [Refund]) throws(StoreError) {
        let now = clock.nowMicros()
        state.withLock { state in
            for refund in refunds where refund.units > 0 {
                guard let cell = state.cells[refund.key] else { continue }  // swept: the budget was full
                cell.tat = GCRA.refund(tat: cell.tat, now: now, limit: refund.limit, units: refund.units)
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
        state.withLock { $0.cells[key]?.tat }
    }

    /// Units available now for `key` under `limit` (tests and stats).
    public func available(_ key: LimitKey, limit: RateLimit) -> Int64 {
        let now = clock.nowMicros()
        return state.withLock { GCRA.available(tat: $0.cells[key]?.tat, now: now, limit: limit) }
    }
}

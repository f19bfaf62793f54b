import Foundation
import Synchronization

/// The throttle: GCRA limits on requests and tokens per key, user and org, admission-time token
/// reservation with refunds, concurrency caps with a fair queue, and adaptive tightening —
/// counted in this process or in Redis.
///
/// Thread-safe; every method may be called from any thread. ``admit(_:signal:)`` may block up
/// to the queue wait when a concurrency cap is reached (and for one Redis round trip in Redis mode).
public final class Throttle: Sendable {
    public let config: ThrottleConfig
    let clock: any ThrottleClock
    let store: any LimiterStore
    /// `store` in Redis mode, typed (no dynamic cast per call).
    private let redisStore: RedisLimiterStore?
    /// In Redis mode with fail mode open: the local store used while Redis is unreachable.
    let fallbackStore: LocalLimiterStore?
    public let gate: ConcurrencyGate
    let adaptive: AdaptiveTracker
    let redisPool: RedisConnectionPool?
    private let redisSlots: RedisSlots?
    let counters = ThrottleCounters()
    private let events = Mutex<[ThrottleEvent]>([])
    /// Whether `events` may hold something: most calls have nothing to drain and skip the lock.
    private let eventsPending = Atomic<Bool>(false)
    private let lastAudit = Mutex<[String: Int64]>([:])
    private let redisHealthy = Atomic<Bool>(true)

    /// Builds a throttle for `config`. In Redis mode, no connection is made here (the first
    /// admission connects), so a sidecar starts even while Redis is down.
    public init(config: ThrottleConfig, clock: any ThrottleClock = SystemClock(), instanceID: String? = nil) {
        self.config = config
        self.clock = clock
        self.adaptive = AdaptiveTracker(settings: config.adaptive)
        let id = instanceID ?? Self.makeInstanceID()
        switch config.mode {
        case .local:
            store = LocalLimiterStore(clock: clock)
            redisStore = nil
            fallbackStore = nil
            redisPool = nil
            redisSlots = nil
            gate = ConcurrencyGate(settings: config.concurrency)
        case .redis:
            let pool = RedisConnectionPool(settings: config.redis)
            redisPool = pool
            let shared = RedisLimiterStore(pool: pool, keyPrefix: config.redis.keyPrefix)
            store = shared
            redisStore = shared
            let open = config.redis.failMode == .open
            fallbackStore = open ? LocalLimiterStore(clock: clock) : nil
            let slots = RedisSlots(pool: pool, prefix: config.redis.keyPrefix, leaseMicros: config.redis.leaseMicros)
            redisSlots = slots
            gate = ConcurrencyGate(primary: slots, fallback: open ? LocalSlots() : nil, shared: true,
                                   settings: config.concurrency, instanceID: id)
        }
    }

    deinit {
        redisSlots?.stop()
        redisPool?.close()
    }

    static func makeInstanceID() -> String {
        var bytes = [UInt8](repeating: 0, count: 8)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        return "\(ProcessInfo.processInfo.processIdentifier)-" + bytes.map { String($0, radix: 16) }.joined()
    }

    // MARK: admission

    /// Decides whether `request` may run; charges every applicable limit at once (or none).
    /// - Parameter signal: reads a shared signal (`auth_failures:…`, `risk:…`); `nil` = absent.
    public func admit(_ request: AdmissionRequest, signal: (String) -> Double? = { _ in nil }) -> AdmissionDecision {
        let now = clock.nowMicros()
        let principal = request.principal
        let limits = config.limits(forScopes: principal.scopes).limits
        let (adjustment, previous) = adaptive.adjust(principal, now: now, signal: signal) { [store] in
            try? store.firstSeen(principal.id)
        }
        noteAdjustment(adjustment, previous: previous)

        let tokens = config.tokens
        let prompt = request.promptTokens > 0
            ? request.promptTokens
            : (max(0, request.promptBytes).saturatingAdd(tokens.bytesPerToken - 1)) / tokens.bytesPerToken
        let asked = request.maxTokens > 0 ? request.maxTokens : tokens.defaultMaxTokens
        var wanted = asked
        if tokens.maxTokensCeiling > 0, wanted > tokens.maxTokensCeiling {
            guard tokens.policy == .clamp else {
                return deny(Denial(code: .invalidArgument,
                                   message: "max_tokens \(asked) exceeds the throttle's ceiling of \(tokens.maxTokensCeiling) (tokens.max_tokens_ceiling)",
                                   retryAfterMillis: 0, metadata: [("ratelimit-max-tokens", String(tokens.maxTokensCeiling))],
                                   reason: "max_tokens"), principal)
            }
            wanted = tokens.maxTokensCeiling
        }

        var entries: [PlanEntry] = []
        entries.reserveCapacity(2 * LimitScope.allCases.count)
        for scope in LimitScope.allCases {
            let subject = principal.subject(scope)
            guard !subject.isEmpty else { continue }
            let factor = scope == .org ? 1 : adjustment.factor
            if let limit = limits[scope].requests {
                entries.append(PlanEntry(key: LimitKey(scope: scope, kind: .requests, subject: subject),
                                         limit: limit.scaled(by: factor), fixed: 1, flexible: false))
            }
            if let limit = limits[scope].tokens {
                entries.append(PlanEntry(key: LimitKey(scope: scope, kind: .tokens, subject: subject),
                                         limit: limit.scaled(by: factor), fixed: prompt, flexible: true))
            }
        }
        let plan = AdmissionPlan(entries: entries, requestedVariable: wanted,
                                 minimumVariable: min(wanted, tokens.minCompletionTokens), clamp: tokens.policy == .clamp)

        let keyCap = limits.concurrency.map { max(1, Int64((Double($0) * adjustment.factor).rounded(.down))) }
        // Redis mode with a cap and nobody queued here: the slot is taken in the admission's round trip.
        var direct: (holder: String, slot: RedisLimiterStore.SlotRequest)?
        if let redisSlots, !entries.isEmpty, keyCap != nil || gate.poolCap != nil, let holder = gate.holderForDirectTake() {
            direct = (holder, redisSlots.request(key: principal.id, keyCap: keyCap, poolCap: gate.poolCap, holder: holder))
        }

        var outcome = PlanOutcome(admitted: true, variable: wanted, results: [])
        var onFallback = false
        var slot: SlotHold?
        if !entries.isEmpty {
            switch charge(plan, slot: direct?.slot) {
            case .success(let result):
                outcome = result.outcome
                onFallback = result.onFallback
                if result.slotTaken, let direct {
                    redisSlots?.adopt(holder: direct.holder, key: principal.id, keyCap: keyCap != nil, poolCap: gate.poolCap != nil)
                    slot = SlotHold(key: principal.id, holder: direct.holder, keyCapped: keyCap != nil,
                                    poolCapped: gate.poolCap != nil, onFallback: false)
                }
            case .failure(let error):
                return deny(Denial(code: .unavailable,
                                   message: "throttle: the shared limiter state is unreachable (fail mode closed): \(error.message)",
                                   retryAfterMillis: UInt64(max(1, config.redis.retryIntervalMicros / 1000)), metadata: [],
                                   reason: "unavailable"), principal)
            }
            guard outcome.admitted else {
                return deny(limitDenial(plan, outcome, principal: principal, prompt: prompt), principal)
            }
        }

        // Concurrency: after the budgets, so that a rate-limited request never occupies the queue.
        if slot == nil, keyCap != nil || gate.poolCap != nil {
            let waitUntil = waitDeadline(request.deadlineUnixMicros)
            let weight = Double(limits.weight) * adjustment.factor
            switch gate.acquire(key: principal.id, keyCap: keyCap, weight: weight, waitUntil: waitUntil) {
            case .acquired(let hold, let waited):
                slot = hold
                if waited > 0 { counters.record(waitMicros: waited) }
            case .refused(let why, let waited):
                if waited > 0 { counters.record(waitMicros: waited) }
                refundAll(plan, outcome, onFallback: onFallback)
                return deny(concurrencyDenial(why, keyCap: keyCap, waited: waited, principal: principal), principal)
            case .unavailable(let message):
                refundAll(plan, outcome, onFallback: onFallback)
                return deny(Denial(code: .unavailable,
                                   message: "throttle: the shared concurrency counters are unreachable (fail mode closed): \(message)",
                                   retryAfterMillis: UInt64(max(1, config.redis.retryIntervalMicros / 1000)), metadata: [],
                                   reason: "unavailable"), principal)
            }
        }

        var reservations: [ThrottleTicket.Reservation] = []
        reservations.reserveCapacity(plan.entries.count)
        for (index, entry) in plan.entries.enumerated() {
            reservations.append(.init(entry: entry, units: plan.quantity(index, variable: outcome.variable)))
        }
        let ticket = ThrottleTicket(owner: self, principal: principal, reservations: reservations, promptTokens: prompt,
                                    reservedCompletion: outcome.variable, slot: slot, onFallback: onFallback)
        let hasTokenLimits = entries.contains(where: \.flexible)
        // With token limits max_tokens is always made explicit: the reservation must bound the generation
        // even when the host's default max_tokens differs from tokens.default_max_tokens.
        let rewritten: Int64? = outcome.variable != request.maxTokens && (hasTokenLimits || outcome.variable != asked)
            ? outcome.variable : nil
        counters.admitted.add(1, ordering: .relaxed)
        if outcome.variable < asked { counters.clamped.add(1, ordering: .relaxed) }
        if hasTokenLimits { counters.reservedTokens.add(ticket.reservedTokens, ordering: .relaxed) }
        return .admitted(Admission(ticket: ticket, maxTokens: rewritten,
                                   headers: config.headers ? headers(plan, outcome, clampedTo: rewritten) : []))
    }

    /// Ends a request: refunds what the reservation did not use and releases the slot. Once per
    /// ticket; later calls do nothing.
    public func finish(_ ticket: ThrottleTicket, _ end: StreamEnd) {
        guard ticket.claim() else { return }
        let used: Int64
        if end.promptTokens > 0 || end.completionTokens > 0 {
            used = max(0, end.promptTokens).saturatingAdd(max(0, end.completionTokens))
        } else if end.statusCode != 0, end.deliveredBytes <= 0 {
            used = 0  // failed, cancelled or denied before any output: nothing was generated for the client
        } else {
            let per = config.tokens.bytesPerToken
            used = ticket.promptTokens.saturatingAdd((max(0, end.deliveredBytes).saturatingAdd(per - 1)) / per)
        }
        var refunds: [Refund] = []
        for reservation in ticket.reservations where reservation.entry.flexible {
            let unused = reservation.units - min(reservation.units, used)
            if unused > 0 { refunds.append(Refund(key: reservation.entry.key, limit: reservation.entry.limit, units: unused)) }
        }
        if let refunded = refunds.first?.units { counters.refundedTokens.add(refunded, ordering: .relaxed) }
        if let redisStore, let redisSlots, !ticket.onFallback,
           let slot = ticket.slot, slot.holdsSlot, !slot.onFallback {
            // Redis mode: the refunds and the slot's leases in one round trip.
            redisSlots.forget(slot.holder)
            do {
                try redisStore.finish(refunds, leaving: redisSlots.sets(key: slot.key, keyCap: slot.keyCapped, poolCap: slot.poolCapped),
                                      member: slot.holder)
                noteRedis(nil)
            } catch {
                noteRedis(error.message)  // the leases expire on their own; the refund is lost
            }
            gate.releasedElsewhere()
        } else {
            giveBack(refunds, onFallback: ticket.onFallback)
            if let slot = ticket.slot { gate.release(slot) }
        }
        if end.statusCode == 3 || end.statusCode == 7 {
            adaptive.recordDenial(ticket.principal.id, now: clock.nowMicros())
        }
    }

    /// The ticket was freed without ``finish(_:_:)``: release the slot, keep the charge.
    func abandon(_ ticket: ThrottleTicket) {
        counters.abandoned.add(1, ordering: .relaxed)
        if let slot = ticket.slot { gate.release(slot) }
    }

    // MARK: events

    /// Takes the audit events gathered since the last call (the plugin forwards them to `host.audit`).
    public func drainEvents() -> [ThrottleEvent] {
        guard eventsPending.exchange(false, ordering: .acquiring) else { return [] }
        return events.withLock { events in
            defer { events.removeAll() }
            return events
        }
    }

    func emit(_ event: ThrottleEvent) {
        events.withLock { events in
            if events.count < 1024 { events.append(event) }
        }
        eventsPending.store(true, ordering: .releasing)
    }

    // MARK: helpers

    /// What ``charge(_:slot:)`` did: the plan's outcome, whether the local fallback counted it,
    /// and whether the slot asked for was taken with it.
    private struct Charge {
        var outcome: PlanOutcome
        var onFallback: Bool
        var slotTaken: Bool
    }

    /// Charges the plan on the primary store — with `slot` in the same Redis round trip when
    /// given — or on the local fallback when Redis fails and the fail mode is open.
    private func charge(_ plan: AdmissionPlan, slot: RedisLimiterStore.SlotRequest?) -> Result<Charge, StoreError> {
        do {
            let result: Charge
            if let slot, let redisStore {
                let (outcome, taken) = try redisStore.admit(plan, slot: slot)
                result = Charge(outcome: outcome, onFallback: false, slotTaken: taken)
            } else {
                result = Charge(outcome: try store.admit(plan), onFallback: false, slotTaken: false)
            }
            noteRedis(nil)
            return .success(result)
        } catch {
            noteRedis(error.message)
            guard let fallbackStore else { return .failure(error) }
            counters.fallbacks.add(1, ordering: .relaxed)
            do {
                return .success(Charge(outcome: try fallbackStore.admit(plan), onFallback: true, slotTaken: false))
            } catch {
                return .failure(error)
            }
        }
    }

    private func giveBack(_ refunds: [Refund], onFallback: Bool) {
        guard !refunds.isEmpty else { return }
        if onFallback {
            try? fallbackStore?.refund(refunds)
            return
        }
        do {
            try store.refund(refunds)
        } catch {
            noteRedis(error.message)
        }
    }

    /// Undoes a whole admission (the slot could not be taken).
    private func refundAll(_ plan: AdmissionPlan, _ outcome: PlanOutcome, onFallback: Bool) {
        var refunds: [Refund] = []
        for (index, entry) in plan.entries.enumerated() {
            refunds.append(Refund(key: entry.key, limit: entry.limit, units: plan.quantity(index, variable: outcome.variable)))
        }
        giveBack(refunds, onFallback: onFallback)
    }

    private func waitDeadline(_ deadlineUnixMicros: Int64) -> Int64 {
        let now = MonotonicClock.nowMicros()
        guard config.concurrency.queue == .wait else { return now }
        var wait = config.concurrency.maxWaitMicros
        if deadlineUnixMicros > 0 {
            wait = min(wait, deadlineUnixMicros - SystemClock().nowMicros())
        }
        return now + max(0, wait)
    }

    private func noteRedis(_ failure: String?) {
        guard config.mode == .redis else { return }
        let healthy = failure == nil
        let (exchanged, _) = redisHealthy.compareExchange(expected: !healthy, desired: healthy, ordering: .relaxed)
        guard exchanged else { return }
        if let failure {
            emit(ThrottleEvent(kind: "throttle.redis", outcome: "failure", reason: "redis_unreachable", principalID: "",
                               attributes: [("fail_mode", config.redis.failMode.rawValue), ("error", String(failure.prefix(200)))]))
        } else {
            emit(ThrottleEvent(kind: "throttle.redis", outcome: "success", reason: "redis_recovered", principalID: ""))
        }
    }

    /// Whether Redis answered the last call (always true in local mode).
    public var isRedisHealthy: Bool { redisHealthy.load(ordering: .relaxed) }

    private func deny(_ denial: Denial, _ principal: ThrottlePrincipal) -> AdmissionDecision {
        counters.recordDenial(denial.reason)
        let now = MonotonicClock.nowMicros()
        let key = principal.id + "\u{0}" + denial.reason
        let due = lastAudit.withLock { last -> Bool in
            if let at = last[key], now - at < config.auditCooldownMicros { return false }
            if last.count > 10_000 { last.removeAll() }
            last[key] = now
            return true
        }
        if due {
            var attributes = [("code", String(denial.code.rawValue))]
            if let scope = denial.metadata("ratelimit-scope") { attributes.append(("limit", scope)) }
            if denial.retryAfterMillis > 0 { attributes.append(("retry_after_ms", String(denial.retryAfterMillis))) }
            emit(ThrottleEvent(kind: "throttle.denied", outcome: "denied", reason: denial.reason, principalID: principal.id,
                               attributes: attributes))
        }
        return .denied(denial)
    }

    private func noteAdjustment(_ adjustment: PrincipalAdjustment, previous: PrincipalAdjustment?) {
        let penalty = adjustment.authPart * adjustment.denialPart * adjustment.riskPart
        let before = previous.map { $0.authPart * $0.denialPart * $0.riskPart } ?? 1
        guard abs(penalty - before) > 0.05 else { return }
        var reasons: [String] = []
        if adjustment.authPart < 1 { reasons.append("auth_failures") }
        if adjustment.denialPart < 1 { reasons.append("denials") }
        if adjustment.riskPart < 1 { reasons.append("risk") }
        let tighter = penalty < before
        emit(ThrottleEvent(
            kind: tighter ? "throttle.tightened" : "throttle.relaxed", outcome: "success",
            reason: reasons.isEmpty ? "recovered" : reasons.joined(separator: "+"), principalID: adjustment.principalID,
            attributes: [("factor", String(format: "%.3f", adjustment.factor)),
                         ("auth_failures", String(format: "%.0f", adjustment.authFailures)),
                         ("denials", String(format: "%.1f", adjustment.denials)),
                         ("risk", String(format: "%.2f", adjustment.risk))]))
    }
}

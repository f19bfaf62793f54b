import Synchronization

/// Counters of the throttle's decisions (lock-free).
final class ThrottleCounters: Sendable {
    let admitted = Atomic<Int64>(0)
    let clamped = Atomic<Int64>(0)
    let reservedTokens = Atomic<Int64>(0)
    let refundedTokens = Atomic<Int64>(0)
    let abandoned = Atomic<Int64>(0)
    let fallbacks = Atomic<Int64>(0)
    let waits = Atomic<Int64>(0)
    let waitMicros = Atomic<Int64>(0)
    let denied = Mutex<[String: Int64]>([:])

    func record(waitMicros micros: Int64) {
        waits.add(1, ordering: .relaxed)
        waitMicros.add(micros, ordering: .relaxed)
    }

    func recordDenial(_ reason: String) {
        denied.withLock { $0[reason, default: 0] += 1 }
    }
}

/// A snapshot for the admin stats RPC.
public struct ThrottleStatsSnapshot: Sendable, Equatable {
    public var mode: String
    public var redisHealthy: Bool
    public var admitted: Int64
    /// Denials by reason class.
    public var denied: [String: Int64]
    public var clamped: Int64
    public var reservedTokens: Int64
    public var refundedTokens: Int64
    public var abandonedTickets: Int64
    public var fallbackAdmissions: Int64
    public var queuedAdmissions: Int64
    public var queueWaitMicros: Int64
    public var waiting: Int64
    public var poolInFlight: Int64
    /// Principals whose limits are adjusted (factor < 1), or the one asked for.
    public var adjustments: [PrincipalAdjustment]
}

extension Throttle {
    /// Counters and adjustments; `principalID` narrows the adjustments to one principal
    /// (and includes it even at full limits), `limit` caps their number (0 = all).
    public func stats(principalID: String? = nil, limit: Int = 0) -> ThrottleStatsSnapshot {
        var adjustments = adaptive.snapshot(principalID: principalID)
        if principalID == nil { adjustments = adjustments.filter { $0.factor < 1 } }
        if limit > 0, adjustments.count > limit { adjustments = Array(adjustments.prefix(limit)) }
        return ThrottleStatsSnapshot(
            mode: config.mode.rawValue, redisHealthy: isRedisHealthy,
            admitted: counters.admitted.load(ordering: .relaxed),
            denied: counters.denied.withLock { $0 },
            clamped: counters.clamped.load(ordering: .relaxed),
            reservedTokens: counters.reservedTokens.load(ordering: .relaxed),
            refundedTokens: counters.refundedTokens.load(ordering: .relaxed),
            abandonedTickets: counters.abandoned.load(ordering: .relaxed),
            fallbackAdmissions: counters.fallbacks.load(ordering: .relaxed),
            queuedAdmissions: counters.waits.load(ordering: .relaxed),
            queueWaitMicros: counters.waitMicros.load(ordering: .relaxed),
            waiting: Int64(gate.waitingCount), poolInFlight: gate.localPoolInFlight,
            adjustments: adjustments)
    }
}

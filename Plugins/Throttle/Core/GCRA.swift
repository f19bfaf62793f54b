/// The outcome of one GCRA check, as redis-cell's `CL.THROTTLE` reports it.
public struct GCRAResult: Sendable, Equatable {
    /// Whether the request was refused.
    public var limited: Bool
    /// `burst + 1`: the most units a full budget admits at once.
    public var limit: Int64
    /// Units still available right after this check.
    public var remaining: Int64
    /// Microseconds until the budget is full again.
    public var resetAfterMicros: Int64
    /// When limited: microseconds until the same request would pass; −1 when it never can
    /// (it asks for more than the limit's capacity) or when not limited.
    public var retryAfterMicros: Int64

    public init(limited: Bool, limit: Int64, remaining: Int64, resetAfterMicros: Int64, retryAfterMicros: Int64) {
        self.limited = limited
        self.limit = limit
        self.remaining = remaining
        self.resetAfterMicros = resetAfterMicros
        self.retryAfterMicros = retryAfterMicros
    }
}

/// The generic cell rate algorithm of `brandur/redis-cell`, on integer microseconds.
///
/// The state of a key is its theoretical arrival time (TAT). All arithmetic saturates, so absurd
/// quantities (`UInt32.max` tokens) are refused as "never fits" instead of overflowing, and a
/// stored TAT further ahead than the tolerance (the clock went backwards) is pulled back to
/// `now + τ`: budgets never go negative and waits never exceed τ.
public enum GCRA {
    /// The stored TAT pulled back to `now + τ` when the clock went backwards (`nil` = unchanged).
    public static func corrected(tat stored: Int64?, now: Int64, limit: RateLimit) -> Int64? {
        guard let stored else { return nil }
        let ceiling = now.saturatingAdd(limit.toleranceMicros)
        return stored > ceiling ? ceiling : nil
    }

    /// Checks `quantity` units against `limit` at `now` given the stored `tat` (`nil` = fresh key).
    /// - Returns: the result and the TAT to store (`nil` when limited: nothing changes).
    public static func check(tat stored: Int64?, now: Int64, limit: RateLimit, quantity: Int64)
        -> (result: GCRAResult, newTAT: Int64?)
    {
        let emission = limit.emissionMicros
        let tolerance = limit.toleranceMicros
        let tat = min(stored ?? now, now.saturatingAdd(tolerance))
        let increment = emission.saturatingMultiply(max(0, quantity))
        if increment > tolerance {
            // More than the capacity at once: it can never pass (and T · q may have saturated).
            let ttl = max(0, tat.saturatingSubtract(now))
            return (GCRAResult(limited: true, limit: limit.capacity, remaining: remaining(tolerance, ttl, emission),
                               resetAfterMicros: ttl, retryAfterMicros: -1), nil)
        }
        let newTAT = max(now, tat).saturatingAdd(increment)
        let allowAt = newTAT.saturatingSubtract(tolerance)
        let diff = now.saturatingSubtract(allowAt)
        if diff < 0 {
            let ttl = max(0, tat.saturatingSubtract(now))
            let retry = increment <= tolerance ? diff.saturatingMultiply(-1) : -1
            return (GCRAResult(limited: true, limit: limit.capacity, remaining: remaining(tolerance, ttl, emission),
                               resetAfterMicros: ttl, retryAfterMicros: retry), nil)
        }
        let ttl = newTAT.saturatingSubtract(now)
        return (GCRAResult(limited: false, limit: limit.capacity, remaining: remaining(tolerance, ttl, emission),
                           resetAfterMicros: ttl, retryAfterMicros: -1), newTAT)
    }

    /// Units that fit right now without being limited (≥ 0).
    public static func available(tat stored: Int64?, now: Int64, limit: RateLimit) -> Int64 {
        let tolerance = limit.toleranceMicros
        let tat = min(stored ?? now, now.saturatingAdd(tolerance))
        let used = max(0, tat.saturatingSubtract(now))
        return max(0, tolerance.saturatingSubtract(used) / limit.emissionMicros)
    }

    /// Gives `units` back (a refund of unused reserved tokens).
    /// - Returns: the TAT to store, or `nil` when the budget is full again (delete the key).
    public static func refund(tat stored: Int64?, now: Int64, limit: RateLimit, units: Int64) -> Int64? {
        guard let stored else { return nil }
        let tat = min(stored, now.saturatingAdd(limit.toleranceMicros))
        let newTAT = tat.saturatingSubtract(limit.emissionMicros.saturatingMultiply(max(0, units)))
        return newTAT > now ? newTAT : nil
    }

    /// redis-cell's `remaining`: ⌊(τ − ttl) / T⌋ when positive, else 0.
    static func remaining(_ tolerance: Int64, _ ttl: Int64, _ emission: Int64) -> Int64 {
        let next = tolerance.saturatingSubtract(ttl)
        return next > 0 ? next / emission : 0
    }
}

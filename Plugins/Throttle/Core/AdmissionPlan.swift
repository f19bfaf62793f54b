/// Names one counter: what is counted, in which scope, for whom.
public struct LimitKey: Hashable, Sendable, CustomStringConvertible {
    public let scope: LimitScope
    public let kind: LimitKind
    /// The principal id, user or org the counter belongs to.
    public let subject: String

    public init(scope: LimitScope, kind: LimitKind, subject: String) {
        self.scope = scope
        self.kind = kind
        self.subject = subject
    }

    /// The key under which the TAT is stored (prefixed by the Redis key prefix in Redis mode).
    public var storageKey: String { "gcra:\(kind.rawValue):\(scope.rawValue):\(subject)" }

    /// `key requests`, `org tokens`, … for messages.
    public var description: String { "\(scope.rawValue) \(kind.rawValue)" }
}

/// One limit an admission checks.
public struct PlanEntry: Sendable {
    public let key: LimitKey
    public let limit: RateLimit
    /// Units always charged (1 for requests; the prompt's tokens for token limits).
    public let fixed: Int64
    /// Whether the plan's variable part (the completion tokens) is charged too.
    public let flexible: Bool

    public init(key: LimitKey, limit: RateLimit, fixed: Int64, flexible: Bool) {
        self.key = key
        self.limit = limit
        self.fixed = fixed
        self.flexible = flexible
    }
}

/// Everything one admission checks at once: all entries pass and are charged, or none is.
public struct AdmissionPlan: Sendable {
    public var entries: [PlanEntry]
    /// The variable units asked for (max_tokens).
    public var requestedVariable: Int64
    /// With `clamp`, the variable part may shrink to what every flexible entry allows, down to this.
    public var minimumVariable: Int64
    public var clamp: Bool

    public init(entries: [PlanEntry], requestedVariable: Int64, minimumVariable: Int64, clamp: Bool) {
        self.entries = entries
        self.requestedVariable = max(0, requestedVariable)
        self.minimumVariable = max(0, minimumVariable)
        self.clamp = clamp
    }

    /// The units entry `index` is charged for a variable part of `variable`.
    public func quantity(_ index: Int, variable: Int64) -> Int64 {
        let entry = entries[index]
        return entry.flexible ? entry.fixed.saturatingAdd(variable) : entry.fixed
    }
}

/// What a plan's check found.
public struct PlanOutcome: Sendable, Equatable {
    /// Whether every entry passed (and was charged).
    public var admitted: Bool
    /// The variable part granted (max_tokens after clamping).
    public var variable: Int64
    /// One result per entry, in plan order.
    public var results: [GCRAResult]

    public init(admitted: Bool, variable: Int64, results: [GCRAResult]) {
        self.admitted = admitted
        self.variable = variable
        self.results = results
    }

    /// The limited entry the client must wait for longest (one that can never pass wins).
    public var bindingIndex: Int? {
        var best: Int?
        for (index, result) in results.enumerated() where result.limited {
            guard let current = best else { best = index; continue }
            let a = result.retryAfterMicros, b = results[current].retryAfterMicros
            if b >= 0, a < 0 || a > b { best = index }
        }
        return best
    }
}

/// The plan check on given TATs — the same steps the Redis script runs server-side.
public enum PlanEvaluator {
    /// Evaluates `plan` at `now` against `tats` (one per entry, `nil` = fresh).
    /// - Returns: the outcome and, when admitted, the TATs to store (`nil` = delete).
    public static func evaluate(_ plan: AdmissionPlan, tats: [Int64?], now: Int64) -> (PlanOutcome, [Int64?]) {
        var variable = plan.requestedVariable
        if plan.clamp {
            var available = plan.requestedVariable
            for (index, entry) in plan.entries.enumerated() where entry.flexible {
                let fits = GCRA.available(tat: tats[index], now: now, limit: entry.limit).saturatingSubtract(entry.fixed)
                available = min(available, fits)
            }
            variable = min(plan.requestedVariable, max(available, min(plan.requestedVariable, plan.minimumVariable)))
        }
        var results: [GCRAResult] = []
        var newTATs: [Int64?] = []
        results.reserveCapacity(plan.entries.count)
        newTATs.reserveCapacity(plan.entries.count)
        var admitted = true
        for (index, entry) in plan.entries.enumerated() {
            let (result, newTAT) = GCRA.check(tat: tats[index], now: now, limit: entry.limit,
                                              quantity: plan.quantity(index, variable: variable))
            if result.limited { admitted = false }
            results.append(result)
            newTATs.append(newTAT.flatMap { $0 > now ? $0 : nil })
        }
        return (PlanOutcome(admitted: admitted, variable: variable, results: results), admitted ? newTATs : [])
    }
}

/// A failure of the shared state (Redis): the fail mode decides what happens.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where TATs live: this process (``LocalLimiterStore``) or Redis (``RedisLimiterStore``).
public protocol LimiterStore: Sendable {
    /// Checks every entry of `plan` and charges all of them, or none.
    func admit(_ plan: AdmissionPlan) throws(StoreError) -> PlanOutcome
    /// Gives units back (refunds of unused reservations).
    func refund(_ refunds: [Refund]) throws(StoreError)
    /// When `subject` was first seen (set to now on the first call).
    func firstSeen(_ subject: String) throws(StoreError) -> Int64
}

/// Units to give back to one counter.
public struct Refund: Sendable {
    public let key: LimitKey
    public let limit: RateLimit
    public let units: Int64

    public init(key: LimitKey, limit: RateLimit, units: Int64) {
        self.key = key
        self.limit = limit
        self.units = units
    }
}

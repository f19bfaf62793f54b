/// One GCRA limit: `rate` units per `period`, with `burst` extra units allowed at once
/// (redis-cell's `max_burst`: up to `burst + 1` units can be taken at once from a full budget).
public struct RateLimit: Sendable, Equatable {
    /// Units per period (> 0).
    public let rate: Int64
    /// The period, in microseconds (> 0).
    public let periodMicros: Int64
    /// Extra units allowed at once (≥ 0).
    public let burst: Int64

    /// Creates a limit; call ``validate(at:)`` before use on untrusted values.
    public init(rate: Int64, periodMicros: Int64, burst: Int64) {
        self.rate = rate
        self.periodMicros = periodMicros
        self.burst = burst
    }

    /// T: the time one unit costs, in microseconds (≥ 1 once validated).
    public var emissionMicros: Int64 { periodMicros / max(1, rate) }
    /// τ = T · (burst + 1): how far ahead of now the theoretical arrival time may run.
    public var toleranceMicros: Int64 { emissionMicros.saturatingMultiply(burst.saturatingAdd(1)) }
    /// The most units admitted at once from a full budget (`burst + 1`).
    public var capacity: Int64 { burst.saturatingAdd(1) }

    /// The same limit scaled by an adaptive `factor` in (0, 1]: rate and burst shrink.
    public func scaled(by factor: Double) -> RateLimit {
        guard factor < 1 else { return self }
        let f = max(factor, 1e-6)
        // A hair of slack so that 100 · 0.1 (= 9.999…) is 10, not 9.
        let newRate = max(1, Int64(min(Double(rate) * f + 1e-9, Double(rate)).rounded(.down)))
        let newBurst = max(0, Int64(min(Double(burst) + 1, (Double(burst) + 1) * f + 1e-9).rounded(.down)) - 1)
        return RateLimit(rate: newRate, periodMicros: periodMicros, burst: newBurst)
    }

    static let maxToleranceMicros: Int64 = 10 * 365 * 86_400 * 1_000_000

    /// Refuses limits GCRA cannot represent, naming the key.
    func validate(at path: String) throws(ThrottleConfigError) {
        guard rate > 0 else { throw ThrottleConfigError(path: "\(path).rate", "must be greater than 0, got \(rate)") }
        guard periodMicros > 0 else { throw ThrottleConfigError(path: "\(path).period_ms", "must be greater than 0") }
        guard burst >= 0 else { throw ThrottleConfigError(path: "\(path).burst", "must not be negative, got \(burst)") }
        guard periodMicros / rate >= 1 else {
            throw ThrottleConfigError(
                path: "\(path).rate",
                "\(rate) per \(periodMicros / 1000) ms is more than one unit per microsecond; use a longer period_ms or a lower rate")
        }
        let (tau, overflow) = (periodMicros / rate).multipliedReportingOverflow(by: burst &+ 1)
        guard burst < Int64.max, !overflow, tau <= Self.maxToleranceMicros else {
            throw ThrottleConfigError(path: "\(path).burst", "burst \(burst) makes the tolerance longer than 10 years")
        }
    }
}

/// The request and token limits of one scope (key, user or org). `nil` = no limit.
public struct ScopeLimits: Sendable, Equatable {
    public var requests: RateLimit?
    public var tokens: RateLimit?

    public init(requests: RateLimit? = nil, tokens: RateLimit? = nil) {
        self.requests = requests
        self.tokens = tokens
    }
}

/// The scopes a limit is counted in.
public enum LimitScope: String, Sendable, CaseIterable {
    case key, user, org
}

/// What is counted.
public enum LimitKind: String, Sendable {
    case requests, tokens
}

/// Limits of every scope, a per-key concurrency cap and a fair-queue weight: the defaults, or a role's.
public struct LimitSet: Sendable, Equatable {
    public var key = ScopeLimits()
    public var user = ScopeLimits()
    public var org = ScopeLimits()
    /// Streams one key may run at once (`nil` = no cap).
    public var concurrency: Int64?
    /// Weight in the fair queue (higher = served more often when keys compete).
    public var weight: Int64 = 1

    public init() {}

    public subscript(scope: LimitScope) -> ScopeLimits {
        get {
            switch scope {
            case .key: key
            case .user: user
            case .org: org
            }
        }
        set {
            switch scope {
            case .key: key = newValue
            case .user: user = newValue
            case .org: org = newValue
            }
        }
    }
}

/// A role's limits: they replace the defaults' entries they set. A principal's role is the first
/// role (in config order) named in its scopes.
public struct RoleLimits: Sendable, Equatable {
    public let name: String
    public var limits: LimitSet
}

/// How requests whose `max_tokens` the budget cannot cover are treated.
public enum MaxTokensPolicy: String, Sendable {
    /// Lower max_tokens to what every token budget allows (at least `min_completion_tokens`).
    case clamp
    /// Refuse with RESOURCE_EXHAUSTED (or INVALID_ARGUMENT above `max_tokens_ceiling`).
    case refuse
}

/// Token accounting settings.
public struct TokenSettings: Sendable, Equatable {
    public var policy: MaxTokensPolicy = .clamp
    /// Completion tokens a clamped request keeps at least (else it is refused).
    public var minCompletionTokens: Int64 = 16
    /// What a request with max_tokens 0 is assumed to generate (the host's default).
    public var defaultMaxTokens: Int64 = 128
    /// max_tokens above this are clamped or refused before budgets are consulted (0 = none).
    public var maxTokensCeiling: Int64 = 0
    /// Prompt size estimate when the host does not count tokens: bytes per token.
    public var bytesPerToken: Int64 = 4
}

/// Queueing when a concurrency cap is reached.
public enum QueueMode: String, Sendable {
    /// Wait in the fair queue up to the deadline (or `max_wait_ms`).
    case wait
    /// Refuse at once.
    case reject
}

/// Concurrency caps (the per-key cap lives in ``LimitSet/concurrency``).
public struct ConcurrencySettings: Sendable, Equatable {
    /// Streams the whole backend (the GPU pool) runs at once (`nil` = no cap).
    public var pool: Int64?
    public var queue: QueueMode = .wait
    /// Longest wait in the queue; the request's own deadline wins when earlier.
    public var maxWaitMicros: Int64 = 50_000
    /// Waiters beyond this are refused at once.
    public var maxWaiters: Int64 = 1024
}

/// Adaptive tightening and ramp-up.
public struct AdaptiveSettings: Sendable, Equatable {
    /// New keys start at this fraction of their limits …
    public var rampStartFraction: Double = 0.25
    /// … and reach full limits after this age (0 = no ramp-up).
    public var rampMicros: Int64 = 0
    /// Every `authFailureThreshold` auth failures (signal `auth_failures:…`) multiply the limits by `authFailureFactor`.
    public var authFailureThreshold: Int64 = 3
    public var authFailureFactor: Double = 0.5
    /// Every `denialThreshold` denials by other plugins (decaying with `denialHalfLife`) multiply by `denialFactor`.
    public var denialThreshold: Int64 = 5
    public var denialFactor: Double = 0.5
    public var denialHalfLifeMicros: Int64 = 600_000_000
    /// The probe detector's `risk:<principal>` (0…1) multiplies by `1 − risk · riskWeight`.
    public var riskWeight: Double = 0.9
    /// Limits never shrink below this fraction.
    public var minFraction: Double = 0.05
}

/// What happens when Redis cannot be reached.
public enum FailMode: String, Sendable {
    /// Refuse with UNAVAILABLE.
    case closed
    /// Enforce the limits locally (per sidecar) until Redis is back.
    case open
}

/// The `redis` section.
public struct RedisSettings: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port: Int64 = 6379
    /// A Unix socket path; when set, host and port are ignored.
    public var socket: String?
    public var password: String?
    public var database: Int64 = 0
    public var keyPrefix = "rampart:throttle:"
    public var connectTimeoutMicros: Int64 = 100_000
    public var commandTimeoutMicros: Int64 = 50_000
    public var poolSize: Int64 = 4
    public var failMode: FailMode = .closed
    /// After a failure, Redis is not tried again for this long (callers get the fail mode at once).
    public var retryIntervalMicros: Int64 = 500_000
    /// Concurrency slots expire after this long unless renewed (a crashed sidecar's slots come back).
    public var leaseMicros: Int64 = 30_000_000
}

/// Where the counters live.
public enum ThrottleMode: String, Sendable {
    case local, redis
}

/// The throttle plugin's whole configuration, validated.
public struct ThrottleConfig: Sendable, Equatable {
    public var mode: ThrottleMode = .local
    public var defaults = LimitSet()
    public var roles: [RoleLimits] = []
    public var tokens = TokenSettings()
    public var concurrency = ConcurrencySettings()
    public var adaptive = AdaptiveSettings()
    public var redis = RedisSettings()
    /// Add `ratelimit-*` metadata to successful responses.
    public var headers = true
    /// Denials of one principal are audited at most once per this interval.
    public var auditCooldownMicros: Int64 = 10_000_000

    public init() {}

    /// Which parts of a principal the limits use: the user and the organisation only when some
    /// limit is counted per user or per org, the scopes only when roles are configured (the
    /// plugin then reads nothing else through the ABI).
    public var principalParts: (user: Bool, org: Bool, scopes: Bool) {
        let sets = [defaults] + roles.map(\.limits)
        return (user: sets.contains { $0.user.requests != nil || $0.user.tokens != nil },
                org: sets.contains { $0.org.requests != nil || $0.org.tokens != nil },
                scopes: !roles.isEmpty)
    }

    /// The limits for a principal whose scopes are `scopes`: the first matching role's, else the defaults.
    public func limits(forScopes scopes: [String]) -> (role: String, limits: LimitSet) {
        for role in roles where scopes.contains(role.name) { return (role.name, role.limits) }
        return ("default", defaults)
    }
}

import Synchronization

/// Failure counting with growing backoff and temporary lockout, per subject (`uid:<n>`,
/// `key:<id>`, `principal:<id>`). Independent subjects never affect each other.
///
/// Within `windowSeconds` of the last failure, the first `freeFailures` failures cost nothing;
/// each further failure (including an attempt refused during backoff) opens a backoff of
/// `backoffInitialMs · 2^(n − freeFailures − 1)` (capped at `backoffMaxMs`), and reaching
/// `lockoutAfter` failures locks the subject for `lockoutSeconds`. A success clears the count.
public final class BruteForceGuard: Sendable {
    /// The thresholds (config `lockout`).
    public struct Policy: Sendable, Equatable, Decodable {
        public var freeFailures: Int = 5
        public var backoffInitialMs: Int = 250
        public var backoffMaxMs: Int = 60_000
        public var lockoutAfter: Int = 20
        public var lockoutSeconds: Int = 900
        public var windowSeconds: Int = 900
        /// At most this many subjects are tracked; the least recently failed are forgotten first.
        public var maxTracked: Int = 100_000

        public init() {}

        enum CodingKeys: String, CodingKey {
            case freeFailures = "free_failures", backoffInitialMs = "backoff_initial_ms", backoffMaxMs = "backoff_max_ms"
            case lockoutAfter = "lockout_after", lockoutSeconds = "lockout_seconds", windowSeconds = "window_seconds"
            case maxTracked = "max_tracked"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Policy()
            freeFailures = try c.decodeIfPresent(Int.self, forKey: .freeFailures) ?? d.freeFailures
            backoffInitialMs = try c.decodeIfPresent(Int.self, forKey: .backoffInitialMs) ?? d.backoffInitialMs
            backoffMaxMs = try c.decodeIfPresent(Int.self, forKey: .backoffMaxMs) ?? d.backoffMaxMs
            lockoutAfter = try c.decodeIfPresent(Int.self, forKey: .lockoutAfter) ?? d.lockoutAfter
            lockoutSeconds = try c.decodeIfPresent(Int.self, forKey: .lockoutSeconds) ?? d.lockoutSeconds
            windowSeconds = try c.decodeIfPresent(Int.self, forKey: .windowSeconds) ?? d.windowSeconds
            maxTracked = try c.decodeIfPresent(Int.self, forKey: .maxTracked) ?? d.maxTracked
        }

        func validate() throws(AuthError) {
            guard freeFailures >= 0, backoffInitialMs >= 0, backoffMaxMs >= backoffInitialMs, lockoutAfter > freeFailures,
                  lockoutSeconds > 0, windowSeconds > 0, maxTracked > 0
            else {
                throw AuthError(.invalidConfig, "lockout: need free_failures ≥ 0, lockout_after > free_failures, "
                                + "backoff_max_ms ≥ backoff_initial_ms ≥ 0, positive lockout_seconds, window_seconds, max_tracked")
            }
        }
    }

    /// Why an attempt is refused before its credential is even looked at.
    public struct Refusal: Sendable, Equatable {
        public let reason: ReasonClass
        public let retryAfterMs: UInt64
    }

    struct Entry: Sendable {
        var failures: Int
        var lastFailure: Double
        var blockedUntil: Double
        var locked: Bool
    }

    public let policy: Policy
    private let entries = Mutex<[String: Entry]>([:])

    public init(policy: Policy) { self.policy = policy }

    /// Whether `subject` is currently in backoff or locked out.
    public func check(_ subject: String, now: Double) -> Refusal? {
        entries.withLock { map in
            guard !map.isEmpty, let entry = map[subject] else { return nil }
            if entry.locked, now >= entry.blockedUntil {
                map[subject] = nil  // the lockout is over: start afresh
                return nil
            }
            guard now < entry.blockedUntil else { return nil }
            return Refusal(reason: entry.locked ? .lockedOut : .backoff,
                           retryAfterMs: UInt64(((entry.blockedUntil - now) * 1000).rounded(.up)))
        }
    }

    /// Counts a failure for `subject`; returns the failure count now (for the shared signal).
    @discardableResult
    public func recordFailure(_ subject: String, now: Double) -> Int {
        entries.withLock { map in
            var entry = map[subject] ?? Entry(failures: 0, lastFailure: now, blockedUntil: 0, locked: false)
            if entry.locked, now < entry.blockedUntil { return entry.failures }
            if now - entry.lastFailure > Double(policy.windowSeconds) || entry.locked {
                entry = Entry(failures: 0, lastFailure: now, blockedUntil: 0, locked: false)
            }
            entry.failures += 1
            entry.lastFailure = now
            if entry.failures >= policy.lockoutAfter {
                entry.locked = true
                entry.blockedUntil = now + Double(policy.lockoutSeconds)
            } else if entry.failures > policy.freeFailures {
                let exponent = min(entry.failures - policy.freeFailures - 1, 30)
                let delay = min(Double(policy.backoffInitialMs) * Double(1 << exponent), Double(policy.backoffMaxMs))
                entry.blockedUntil = now + delay / 1000
            }
            if map[subject] == nil, map.count >= policy.maxTracked { evict(&map, now: now) }
            map[subject] = entry
            return entry.failures
        }
    }

    /// Clears `subject`'s failures after a success (never lifts an active lockout).
    public func recordSuccess(_ subject: String) {
        entries.withLock { map in
            if let entry = map[subject], !entry.locked { map[subject] = nil }
        }
    }

    /// The failure count of `subject` (0 when unknown).
    public func failures(_ subject: String) -> Int { entries.withLock { $0[subject]?.failures ?? 0 } }

    private func evict(_ map: inout [String: Entry], now: Double) {
        map = map.filter { now - $0.value.lastFailure <= Double(policy.windowSeconds) || now < $0.value.blockedUntil }
        if map.count >= policy.maxTracked {
            let oldest = map.sorted { $0.value.lastFailure < $1.value.lastFailure }.prefix(max(1, map.count / 4))
            for (key, _) in oldest { map[key] = nil }
        }
    }
}

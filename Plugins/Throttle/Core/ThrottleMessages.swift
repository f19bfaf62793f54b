import Foundation

/// The texts and metadata clients see: denials that name the limit, its remaining budget and
/// when to retry, and limit headers on admitted requests.
extension Throttle {
    func limitDenial(_ plan: AdmissionPlan, _ outcome: PlanOutcome, principal: ThrottlePrincipal, prompt: Int64) -> Denial {
        guard let index = outcome.bindingIndex else {
            return Denial(code: .resourceExhausted, message: "rate limit exceeded", retryAfterMillis: 0, metadata: [],
                          reason: "rate_limited")
        }
        let entry = plan.entries[index]
        let result = outcome.results[index]
        let limit = entry.limit
        let asked = plan.quantity(index, variable: outcome.variable)
        let retryMillis = result.retryAfterMicros >= 0 ? UInt64(Self.ceilMillis(result.retryAfterMicros)) : 0
        let describe = "\(entry.key.scope.rawValue) \(entry.key.kind.rawValue) limit for \"\(entry.key.subject)\" "
            + "(\(limit.rate) per \(limit.periodMicros / 1000) ms, burst \(limit.burst))"
        var message: String
        let reason: String
        switch entry.key.kind {
        case .requests:
            reason = "rate_limited"
            message = "rate limit exceeded: \(describe): \(result.remaining) remaining"
        case .tokens:
            reason = "token_budget"
            message = "token budget exceeded: \(describe): the request needs \(asked) tokens "
                + "(prompt \(prompt) + max_tokens \(outcome.variable)), \(result.remaining) remaining"
        }
        if result.retryAfterMicros >= 0 {
            message += ", retry after \(retryMillis) ms"
        } else {
            message += "; it can never pass: it asks for more than the limit's capacity of \(limit.capacity) at once"
                + (entry.key.kind == .tokens ? " (lower max_tokens or the prompt)" : "")
        }
        return Denial(
            code: .resourceExhausted, message: message, retryAfterMillis: retryMillis,
            metadata: [
                ("ratelimit-scope", "\(entry.key.scope.rawValue):\(entry.key.kind.rawValue)"),
                ("ratelimit-limit", String(limit.capacity)),
                ("ratelimit-remaining", String(result.remaining)),
                ("ratelimit-reset-ms", String(Self.ceilMillis(result.resetAfterMicros))),
            ],
            reason: reason)
    }

    func concurrencyDenial(_ why: GateRefusal, keyCap: Int64?, waited: Int64, principal: ThrottlePrincipal) -> Denial {
        let waitedMillis = Self.ceilMillis(waited)
        let hint = UInt64(max(1, config.concurrency.maxWaitMicros / 1000))
        func keyText() -> String { "key \"\(principal.id)\" already runs its cap of \(keyCap ?? 0) streams" }
        func poolText() -> String { "the backend pool runs its cap of \(gate.poolCap ?? 0) streams" }
        let scope: String
        let message: String
        let reason: String
        let cap: Int64
        switch why {
        case .keyFull:
            (scope, cap, reason) = ("key:concurrency", keyCap ?? 0, "concurrency")
            message = "concurrency limit reached: \(keyText()) (queue mode reject)"
        case .poolFull:
            (scope, cap, reason) = ("pool:concurrency", gate.poolCap ?? 0, "concurrency")
            message = "concurrency limit reached: \(poolText()) (queue mode reject)"
        case .queueFull:
            (scope, cap, reason) = ("pool:queue", config.concurrency.maxWaiters, "queue_full")
            message = "concurrency limit reached: \(config.concurrency.maxWaiters) requests are already waiting (concurrency.max_waiters)"
        case .timedOut(let slot):
            let keyScope = slot == .keyFull
            (scope, cap, reason) = (keyScope ? "key:concurrency" : "pool:concurrency", keyScope ? keyCap ?? 0 : gate.poolCap ?? 0,
                                    "queue_timeout")
            message = "concurrency limit reached: \(keyScope ? keyText() : poolText()); waited \(waitedMillis) ms in the queue until the deadline"
        }
        return Denial(code: .resourceExhausted, message: message, retryAfterMillis: hint,
                      metadata: [("ratelimit-scope", scope), ("ratelimit-limit", String(cap)), ("ratelimit-remaining", "0")],
                      reason: reason)
    }

    /// One `ratelimit` entry for successful responses, e.g.
    /// `requests=9/10 reset-ms=1000; tokens=700/1000 reset-ms=42000; max-tokens=600`: the tightest
    /// request limit and the tightest token limit (remaining/limit after this admission, and when
    /// each is full again), and the lowered max_tokens when clamped. One entry, not six: every
    /// metadata entry costs a protobuf message on the way through the ABI.
    func headers(_ plan: AdmissionPlan, _ outcome: PlanOutcome, clampedTo: Int64?) -> [(String, String)] {
        func tightest(_ kind: LimitKind) -> Int? {
            var best: Int?
            for (index, entry) in plan.entries.enumerated() where entry.key.kind == kind {
                if let current = best, outcome.results[current].remaining <= outcome.results[index].remaining { continue }
                best = index
            }
            return best
        }
        let indices = [LimitKind.requests, .tokens].compactMap { kind in tightest(kind).map { (kind, $0) } }
        guard !indices.isEmpty || clampedTo != nil else { return [] }
        // At most 2 × (9 + 20 + 1 + 20 + 10 + 20) + 2 × 2 + 11 + 20 bytes: 195.
        let text = String(unsafeUninitializedCapacity: Self.headerCapacity) { buffer in
            var out = ASCIIWriter(buffer)
            for (kind, index) in indices {
                let result = outcome.results[index]
                if !out.isEmpty { out.append("; ") }
                out.append(kind == .requests ? "requests=" : "tokens=")
                out.append(result.remaining)
                out.append("/")
                out.append(result.limit)
                out.append(" reset-ms=")
                out.append(Self.ceilMillis(result.resetAfterMicros))
            }
            if let clampedTo {
                if !out.isEmpty { out.append("; ") }
                out.append("max-tokens=")
                out.append(clampedTo)
            }
            return out.count
        }
        return [("ratelimit", text)]
    }

    /// Room for the longest `ratelimit` value (every number at 20 characters).
    static let headerCapacity = 200

    static func ceilMillis(_ micros: Int64) -> Int64 {
        micros <= 0 ? 0 : micros / 1000 + (micros % 1000 == 0 ? 0 : 1)
    }
}

import Dispatch
import Foundation

/// A concurrency slot held by one stream; give it back with ``ConcurrencyGate/release(_:)``.
public struct SlotHold: Sendable, Equatable {
    let key: String
    let holder: String
    let keyCapped: Bool
    let poolCapped: Bool
    /// Taken from the local fallback counters (Redis was down, fail mode open).
    let onFallback: Bool

    /// Whether any counter was taken (a key without caps holds nothing).
    public var holdsSlot: Bool { keyCapped || poolCapped }
}

/// What the gate decided.
public enum GateOutcome: Sendable, Equatable {
    case acquired(SlotHold, waitedMicros: Int64)
    /// The cap is reached and the request may not (or can no longer) wait.
    case refused(GateRefusal, waitedMicros: Int64)
    /// The shared counters are unreachable and the fail mode is closed.
    case unavailable(String)
}

/// Why the gate refused.
public enum GateRefusal: Sendable, Equatable {
    case keyFull, poolFull
    /// Too many requests are already waiting.
    case queueFull
    /// The deadline (or the maximum wait) passed while waiting.
    case timedOut(SlotRefusal)
}

/// Per-key and whole-backend concurrency caps with a fair queue.
///
/// Waiting requests are served by stride scheduling over keys: each key with waiters has a
/// virtual pass; the eligible key with the smallest pass gets the next free slot and its pass
/// grows by `1 / weight`. A key with a thousand waiters therefore gets one slot per turn like a
/// key with one, and a key that is at its own cap never blocks others. Within a key, FIFO.
///
/// Waiting blocks the calling thread (hooks run on the host's blocking pool) on a semaphore
/// until granted or until its deadline. With shared (Redis) counters, waiters also poll, since
/// another sidecar's release is not announced here.
public final class ConcurrencyGate: @unchecked Sendable {
    final class Waiter {
        let key: String
        let keyCap: Int64?
        let holder: String
        let semaphore = DispatchSemaphore(value: 0)
        var granted: SlotHold?
        var failure: String?

        init(key: String, keyCap: Int64?, holder: String) {
            self.key = key
            self.keyCap = keyCap
            self.holder = holder
        }
    }

    struct KeyQueue {
        var waiters: [Waiter] = []
        var head = 0
        var pass: Double
        var weight: Double

        var isEmpty: Bool { head >= waiters.count }
        var first: Waiter? { isEmpty ? nil : waiters[head] }
        mutating func popFirst() {
            head += 1
            if head > 64, head * 2 > waiters.count {
                waiters.removeFirst(head)
                head = 0
            }
        }
        mutating func remove(_ waiter: Waiter) {
            if let index = waiters[head...].firstIndex(where: { $0 === waiter }) { waiters.remove(at: index) }
        }
    }

    private let lock = NSLock()
    private let primary: any SlotBackend
    private let fallback: LocalSlots?
    private let shared: Bool
    public let poolCap: Int64?
    private let settings: ConcurrencySettings
    private let instanceID: String
    private var queues: [String: KeyQueue] = [:]
    private var waiting = 0
    private var virtualTime = 0.0
    private var sequence: UInt64 = 0
    private var fallbackNoted = false
    /// Called (outside no lock guarantees; keep it cheap) when the shared counters fail or recover.
    private let onSharedFailure: @Sendable (String?) -> Void
    /// Waiters poll the shared counters this often.
    static let pollMicros: Int64 = 2_000

    init(primary: any SlotBackend, fallback: LocalSlots?, shared: Bool, settings: ConcurrencySettings,
         instanceID: String, onSharedFailure: @escaping @Sendable (String?) -> Void = { _ in }) {
        self.primary = primary
        self.fallback = fallback
        self.shared = shared
        self.poolCap = settings.pool
        self.settings = settings
        self.instanceID = instanceID
        self.onSharedFailure = onSharedFailure
    }

    /// A gate counting in this process only.
    public convenience init(settings: ConcurrencySettings) {
        self.init(primary: LocalSlots(), fallback: nil, shared: false, settings: settings, instanceID: "local")
    }

    /// Requests waiting now.
    public var waitingCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return waiting
    }

    /// Takes a slot for `key`, waiting in the fair queue until `waitUntil` (monotonic µs) when
    /// the queue mode allows it.
    public func acquire(key: String, keyCap: Int64?, weight: Double, waitUntil: Int64) -> GateOutcome {
        guard keyCap != nil || poolCap != nil else {
            return .acquired(SlotHold(key: key, holder: "", keyCapped: false, poolCapped: false, onFallback: false), waitedMicros: 0)
        }
        let start = MonotonicClock.nowMicros()
        lock.lock()
        // Only shared counters need a unique holder name (a lease member in Redis).
        let holder = shared ? nextHolder() : ""
        if waiting == 0 || settings.queue == .reject {
            switch take(key: key, keyCap: keyCap, holder: holder) {
            case .granted(let hold):
                lock.unlock()
                return .acquired(hold, waitedMicros: 0)
            case .failed(let message):
                lock.unlock()
                return .unavailable(message)
            case .refused(let why):
                if settings.queue == .reject || waitUntil <= start {
                    lock.unlock()
                    return .refused(why == .keyFull ? .keyFull : .poolFull, waitedMicros: 0)
                }
            }
        }
        guard waiting < Int(settings.maxWaiters) else {
            lock.unlock()
            return .refused(.queueFull, waitedMicros: 0)
        }
        let waiter = Waiter(key: key, keyCap: keyCap, holder: holder)
        var queue = queues[key] ?? KeyQueue(pass: virtualTime, weight: max(0.001, weight))
        if queue.isEmpty { queue.pass = max(queue.pass, virtualTime) }
        queue.weight = max(0.001, weight)
        queue.waiters.append(waiter)
        queues[key] = queue
        waiting += 1
        dispatch()
        while true {
            if let hold = waiter.granted {
                lock.unlock()
                return .acquired(hold, waitedMicros: MonotonicClock.nowMicros() - start)
            }
            if let failure = waiter.failure {
                lock.unlock()
                return .unavailable(failure)
            }
            let now = MonotonicClock.nowMicros()
            if now >= waitUntil {
                remove(waiter)
                let why: SlotRefusal = lastRefusal(for: waiter)
                lock.unlock()
                return .refused(.timedOut(why), waitedMicros: now - start)
            }
            lock.unlock()
            let slice = shared ? min(waitUntil - now, Self.pollMicros) : waitUntil - now
            _ = waiter.semaphore.wait(timeout: .now() + .microseconds(Int(max(1, slice))))
            lock.lock()
            if shared, waiter.granted == nil, waiter.failure == nil { dispatch() }
        }
    }

    /// A lease member for a slot taken outside the gate (in the admission's Redis round trip),
    /// or nil when requests are waiting here: they go first, so the caller must queue.
    func holderForDirectTake() -> String? {
        lock.lock()
        defer { lock.unlock() }
        guard shared, waiting == 0 else { return nil }
        return nextHolder()
    }

    /// A unique lease member (under the lock).
    private func nextHolder() -> String {
        sequence &+= 1
        return "\(instanceID):\(sequence)"
    }

    /// A slot given back outside the gate (in the call's closing Redis round trip): hands the
    /// freed capacity to the next waiter in fair order.
    func releasedElsewhere() {
        lock.lock()
        defer { lock.unlock() }
        dispatch()
    }

    /// Gives a slot back and hands it to the next waiter in fair order. Idempotence is the
    /// caller's business (``ThrottleTicket`` releases once).
    public func release(_ hold: SlotHold) {
        guard hold.holdsSlot else { return }
        lock.lock()
        defer { lock.unlock() }
        if hold.onFallback {
            fallback?.release(key: hold.key, keyCap: hold.keyCapped, poolCap: hold.poolCapped, holder: hold.holder)
        } else {
            do {
                try primary.release(key: hold.key, keyCap: hold.keyCapped, poolCap: hold.poolCapped, holder: hold.holder)
            } catch {
                // The lease expires on its own; nothing else to do.
                onSharedFailure(error.message)
            }
        }
        dispatch()
    }

    /// Streams held locally for `key` (local counters only; tests and stats).
    public func localInFlight(key: String) -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        return (primary as? LocalSlots)?.inFlight(key: key) ?? fallback?.inFlight(key: key) ?? 0
    }

    /// Streams held locally in the pool.
    public var localPoolInFlight: Int64 {
        lock.lock()
        defer { lock.unlock() }
        return (primary as? LocalSlots)?.poolInFlight ?? fallback?.poolInFlight ?? 0
    }

    // MARK: under the lock

    private enum Take {
        case granted(SlotHold)
        case refused(SlotRefusal)
        case failed(String)
    }

    private func take(key: String, keyCap: Int64?, holder: String) -> Take {
        func hold(_ fallback: Bool) -> SlotHold {
            SlotHold(key: key, holder: holder, keyCapped: keyCap != nil, poolCapped: poolCap != nil, onFallback: fallback)
        }
        do {
            if let refusal = try primary.tryAcquire(key: key, keyCap: keyCap, poolCap: poolCap, holder: holder) {
                return .refused(refusal)
            }
            if fallbackNoted {
                fallbackNoted = false
                onSharedFailure(nil)
            }
            return .granted(hold(false))
        } catch {
            if !fallbackNoted {
                fallbackNoted = true
                onSharedFailure(error.message)
            }
            guard let fallback else { return .failed(error.message) }
            if let refusal = fallback.tryAcquire(key: key, keyCap: keyCap, poolCap: poolCap, holder: holder) {
                return .refused(refusal)
            }
            return .granted(hold(true))
        }
    }

    private var refusals: [String: SlotRefusal] = [:]

    private func lastRefusal(for waiter: Waiter) -> SlotRefusal {
        refusals[waiter.key] ?? .poolFull
    }

    /// Grants free slots to waiters, smallest pass first, skipping keys at their own cap.
    private func dispatch() {
        guard waiting > 0 else { return }
        var skipped: Set<String> = []
        while waiting > 0 {
            var best: (key: String, pass: Double)?
            for (key, queue) in queues where !queue.isEmpty && !skipped.contains(key) {
                if let current = best, current.pass <= queue.pass { continue }
                best = (key, queue.pass)
            }
            guard let chosen = best, var queue = queues[chosen.key], let waiter = queue.first else { return }
            switch take(key: waiter.key, keyCap: waiter.keyCap, holder: waiter.holder) {
            case .granted(let hold):
                queue.popFirst()
                virtualTime = max(virtualTime, queue.pass)
                queue.pass += 1 / queue.weight
                waiting -= 1
                waiter.granted = hold
                refusals[chosen.key] = nil
                if queue.isEmpty { queues[chosen.key] = nil } else { queues[chosen.key] = queue }
                waiter.semaphore.signal()
            case .refused(.keyFull):
                refusals[chosen.key] = .keyFull
                skipped.insert(chosen.key)
            case .refused(.poolFull):
                for key in queues.keys { refusals[key] = refusals[key] ?? .poolFull }
                return
            case .failed(let message):
                queue.popFirst()
                waiting -= 1
                waiter.failure = message
                if queue.isEmpty { queues[chosen.key] = nil } else { queues[chosen.key] = queue }
                waiter.semaphore.signal()
            }
        }
    }

    private func remove(_ waiter: Waiter) {
        guard var queue = queues[waiter.key] else { return }
        queue.remove(waiter)
        waiting -= 1
        if queue.isEmpty { queues[waiter.key] = nil } else { queues[waiter.key] = queue }
    }
}

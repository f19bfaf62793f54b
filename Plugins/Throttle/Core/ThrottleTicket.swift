import Synchronization

/// One admitted request's reservation (units charged per counter) and concurrency slot.
///
/// ``Throttle/finish(_:_:)`` refunds the unused tokens and releases the slot, once. If the
/// ticket is freed without it (the host dropped the stream state), the slot is released anyway
/// and the reservation is kept as charged: a slot never leaks, a budget is never over-refunded.
public final class ThrottleTicket: Sendable {
    struct Reservation: Sendable {
        let entry: PlanEntry
        let units: Int64
    }

    struct State {
        var finished = false
    }

    let principal: ThrottlePrincipal
    let reservations: [Reservation]
    /// Tokens estimated for the prompt when reserving.
    let promptTokens: Int64
    /// The completion tokens reserved (max_tokens after clamping).
    public let reservedCompletion: Int64
    let slot: SlotHold?
    /// Charged on the local fallback store (Redis was down, fail mode open).
    let onFallback: Bool
    private let state = Mutex(State())
    private weak let owner: Throttle?

    init(owner: Throttle, principal: ThrottlePrincipal, reservations: [Reservation], promptTokens: Int64,
         reservedCompletion: Int64, slot: SlotHold?, onFallback: Bool) {
        self.owner = owner
        self.principal = principal
        self.reservations = reservations
        self.promptTokens = promptTokens
        self.reservedCompletion = reservedCompletion
        self.slot = slot
        self.onFallback = onFallback
    }

    /// Tokens reserved on every token counter (prompt + completion).
    public var reservedTokens: Int64 { promptTokens.saturatingAdd(reservedCompletion) }

    /// Whether finish already ran.
    public var isFinished: Bool { state.withLock { $0.finished } }

    /// Marks the ticket finished; true only for the first caller.
    func claim() -> Bool {
        state.withLock { state in
            if state.finished { return false }
            state.finished = true
            return true
        }
    }

    deinit {
        if let owner, claim() { owner.abandon(self) }
    }
}

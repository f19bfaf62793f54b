/// What the throttle needs to know about a request.
public struct AdmissionRequest: Sendable {
    public var principal: ThrottlePrincipal
    /// The backend's token count of the prompt (0 = unknown: estimated from `promptBytes`).
    public var promptTokens: Int64
    /// UTF-8 bytes of prompt and messages.
    public var promptBytes: Int64
    /// The request's max_tokens (0 = the default).
    public var maxTokens: Int64
    /// The call's deadline, µs since the epoch (0 = none).
    public var deadlineUnixMicros: Int64

    public init(principal: ThrottlePrincipal, promptTokens: Int64 = 0, promptBytes: Int64 = 0, maxTokens: Int64 = 0,
                deadlineUnixMicros: Int64 = 0) {
        self.principal = principal
        self.promptTokens = promptTokens
        self.promptBytes = promptBytes
        self.maxTokens = maxTokens
        self.deadlineUnixMicros = deadlineUnixMicros
    }
}

/// A refusal, with everything the client needs to back off.
public struct Denial: Sendable, Equatable {
    /// The gRPC status the client receives.
    public enum Code: Int32, Sendable {
        case invalidArgument = 3
        case resourceExhausted = 8
        case unavailable = 14
    }

    public var code: Code
    public var message: String
    /// When to try again (0 = no useful hint).
    public var retryAfterMillis: UInt64
    /// Trailer metadata: `ratelimit-limit`, `ratelimit-remaining`, `ratelimit-reset-ms`, `ratelimit-scope`.
    public var metadata: [(String, String)]
    /// The reason class (`rate_limited`, `token_budget`, `concurrency`, `queue_timeout`, `queue_full`,
    /// `max_tokens`, `unavailable`).
    public var reason: String

    public static func == (lhs: Denial, rhs: Denial) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.retryAfterMillis == rhs.retryAfterMillis
            && lhs.reason == rhs.reason && lhs.metadata.map(\.0) == rhs.metadata.map(\.0)
            && lhs.metadata.map(\.1) == rhs.metadata.map(\.1)
    }

    /// The value of one metadata entry.
    public func metadata(_ key: String) -> String? { metadata.first { $0.0 == key }?.1 }
}

/// An admitted request.
public struct Admission: Sendable {
    /// Holds the reservation and the slot until ``Throttle/finish(_:_:)`` (or until freed).
    public let ticket: ThrottleTicket
    /// Set when max_tokens must be rewritten (clamped to the budget or the ceiling).
    public let maxTokens: Int64?
    /// Limit headers for the successful response.
    public let headers: [(String, String)]

    /// The value of one header.
    public func header(_ key: String) -> String? { headers.first { $0.0 == key }?.1 }
}

/// The throttle's answer.
public enum AdmissionDecision: Sendable {
    case admitted(Admission)
    case denied(Denial)

    public var denial: Denial? {
        if case .denied(let denial) = self { return denial }
        return nil
    }

    public var admission: Admission? {
        if case .admitted(let admission) = self { return admission }
        return nil
    }
}

/// How a call ended (from the host's `StreamSummary`).
public struct StreamEnd: Sendable {
    /// gRPC status of the call (0 = OK).
    public var statusCode: Int32
    public var promptTokens: Int64
    public var completionTokens: Int64
    /// Bytes of text the client received.
    public var deliveredBytes: Int64

    public init(statusCode: Int32, promptTokens: Int64 = 0, completionTokens: Int64 = 0, deliveredBytes: Int64 = 0) {
        self.statusCode = statusCode
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.deliveredBytes = deliveredBytes
    }
}

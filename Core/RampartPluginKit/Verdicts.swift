import RampartProto

/// A gRPC status code for a ``Rampart_V1_Verdict/deny(code:message:retryAfterMs:)`` verdict.
public struct DenyCode: RawRepresentable, Sendable, Hashable {
    /// The gRPC status code (1–16; 0 is treated by the host as `permissionDenied`).
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// INVALID_ARGUMENT (3): the request itself is unacceptable.
    public static let invalidArgument = DenyCode(rawValue: 3)
    /// PERMISSION_DENIED (7): the caller may not do this (the usual policy refusal).
    public static let permissionDenied = DenyCode(rawValue: 7)
    /// RESOURCE_EXHAUSTED (8): a quota or rate limit; pair it with `retryAfterMs`.
    public static let resourceExhausted = DenyCode(rawValue: 8)
    /// FAILED_PRECONDITION (9).
    public static let failedPrecondition = DenyCode(rawValue: 9)
    /// UNAVAILABLE (14): try again later.
    public static let unavailable = DenyCode(rawValue: 14)
    /// UNAUTHENTICATED (16): no valid credentials.
    public static let unauthenticated = DenyCode(rawValue: 16)
}

extension Rampart_V1_Verdict {
    /// Continue unchanged.
    public static var pass: Rampart_V1_Verdict {
        var verdict = Rampart_V1_Verdict()
        verdict.action = .pass(Rampart_V1_Pass())
        return verdict
    }

    /// Stop the call with a status.
    /// - Parameters:
    ///   - code: the gRPC status the client receives (default PERMISSION_DENIED).
    ///   - message: the status message the client receives.
    ///   - retryAfterMs: a hint for throttling denials (0 = none).
    public static func deny(code: DenyCode = .permissionDenied, message: String, retryAfterMs: UInt64 = 0) -> Rampart_V1_Verdict {
        var verdict = Rampart_V1_Verdict()
        verdict.action = .deny(Rampart_V1_Deny.with {
            $0.code = code.rawValue
            $0.message = message
            $0.retryAfterMs = retryAfterMs
        })
        return verdict
    }

    /// Continue with changes: `body` fills in a ``Rampart_V1_Mutation`` (only the parts marked
    /// `replace*` or set are applied by the host).
    ///
    /// ```swift
    /// return .mutate { $0.replacePrompt = true; $0.prompt = newPrompt }
    /// ```
    public static func mutate(_ body: (inout Rampart_V1_Mutation) throws -> Void) rethrows -> Rampart_V1_Verdict {
        var mutation = Rampart_V1_Mutation()
        try body(&mutation)
        var verdict = Rampart_V1_Verdict()
        verdict.action = .mutate(mutation)
        return verdict
    }

    /// This verdict with a text annotation added (for telemetry and the audit trail).
    public func annotated(_ key: String, _ text: String) -> Rampart_V1_Verdict {
        var copy = self
        copy.annotations.append(Rampart_V1_MetadataEntry.with {
            $0.key = key
            $0.text = text
        })
        return copy
    }

    /// Whether the verdict lets the call continue unchanged (no action, or an explicit Pass).
    public var isPass: Bool {
        switch action {
        case nil, .pass?: true
        default: false
        }
    }
}

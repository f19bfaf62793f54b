/// The calling process as the server read it with SO_PEERCRED.
public struct PeerIdentity: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// One metadata value of a call.
public enum MetadataValue: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// What the auth engine needs to know about a call.
public struct AuthRequest: Sendable {
    /// `rampart.v1.Inference/Generate` (a leading `/` is ignored).
    public var method: String
    /// The call's metadata, lower-case keys.
    public var metadata: [(key: String, value: MetadataValue)]
    /// SO_PEERCRED of the caller (nil when the transport has none).
    public var peer: PeerIdentity?
    /// Request features that may need extra scopes (`logprobs`, `logit_bias`, `top_logprobs`).
    public var features: Set<String>

    public init(method: String, metadata: [(key: String, value: MetadataValue)] = [], peer: PeerIdentity? = nil,
                features: Set<String> = []) {
        self.method = method
        self.metadata = metadata
        self.peer = peer
        self.features = features
    }
}

/// Who a call was authenticated as.
public struct AuthenticatedPrincipal: Sendable, Equatable {
    public var id: String
    public var user: String
    public var org: String
    /// The credential's effective scopes.
    public var scopes: [String]
    /// `api_key`, `token` or `peer`.
    public var credentialKind: String
    /// The API key behind the credential (the key itself or the key a token was exchanged for).
    public var apiKeyID: String?
    /// The peer uid the credential is bound to, carried into tokens (`ruid`).
    public var boundUID: UInt32?
}

/// A refused call: the status, the reason class and the client-facing message.
public struct AuthDenial: Error, Sendable, Equatable {
    /// The gRPC status codes the engine uses.
    public enum Status: Int32, Sendable {
        case invalidArgument = 3
        case notFound = 5
        case alreadyExists = 6
        case permissionDenied = 7
        case failedPrecondition = 9
        case `internal` = 13
        case unavailable = 14
        case unauthenticated = 16
    }

    public var status: Status
    /// The reason class (nil for admin-call argument errors).
    public var reason: ReasonClass?
    /// The status message: the reason class, or the missing scope; never secret material.
    public var message: String
    public var retryAfterMs: UInt64 = 0

    /// UNAUTHENTICATED with `reason`.
    public static func unauthenticated(_ reason: ReasonClass, retryAfterMs: UInt64 = 0) -> AuthDenial {
        AuthDenial(status: .unauthenticated, reason: reason, message: "authentication failed: \(reason.rawValue)",
                   retryAfterMs: retryAfterMs)
    }

    /// PERMISSION_DENIED naming the missing scope.
    public static func missingScope(_ scope: String, method: String) -> AuthDenial {
        AuthDenial(status: .permissionDenied, reason: .missingScope,
                   message: "permission denied: missing scope \"\(scope)\" for \(RBACPolicy.normalize(method))")
    }

    /// The denial for a store or argument error of an admin operation.
    public static func from(_ error: AuthError) -> AuthDenial {
        switch error.code {
        case .invalidArgument, .invalidConfig: AuthDenial(status: .invalidArgument, reason: nil, message: error.message)
        case .notFound: AuthDenial(status: .notFound, reason: nil, message: error.message)
        case .alreadyExists: AuthDenial(status: .alreadyExists, reason: nil, message: error.message)
        case .storage, .crypto: AuthDenial(status: .unavailable, reason: nil, message: "auth store unavailable")
        }
    }
}

/// One security event for the host's audit sink. Never holds keys, tokens or TOTP codes.
public struct AuthAuditEvent: Sendable, Equatable {
    /// `auth.success`, `auth.failure`, `auth.denied`, `mfa.success`, `mfa.failure`, `token.issue`,
    /// `token.revoke`, `key.create`, `key.revoke`, `key.rotate`, `signing_key.rotate`, `principal.upsert`.
    public var kind: String
    /// `success`, `failure` or `denied`.
    public var outcome: String
    /// A reason class (empty on success).
    public var reason: String
    public var principalID: String
    /// Non-secret details (key id, kid, jti, scopes, required scope …).
    public var attributes: [String: String]

    public init(kind: String, outcome: String, reason: String = "", principalID: String = "", attributes: [String: String] = [:]) {
        self.kind = kind
        self.outcome = outcome
        self.reason = reason
        self.principalID = principalID
        self.attributes = attributes
    }
}

/// A shared signal to publish (`auth_failures:uid:<uid>`, `auth_failures:principal:<id>`,
/// `auth_failures:key:<id>`) with the failure count.
public struct AuthSignal: Sendable, Equatable {
    public var name: String
    public var value: Double
}

/// What happened to a call: a decision plus the audit events and signals it produced.
public struct AuthOutcome<Value: Sendable>: Sendable {
    public var result: Result<Value, AuthDenial>
    public var events: [AuthAuditEvent]
    public var signals: [AuthSignal]
}

/// The decision on a request.
public enum AuthDecision: Sendable, Equatable {
    /// A public method: no credential needed, none checked.
    case publicMethod
    /// Authenticated and authorized.
    case allowed(AuthenticatedPrincipal)
}

/// A token handed out by `IssueToken`.
public struct IssuedToken: Sendable {
    /// The compact JWS (a bearer secret: show it to the caller only).
    public var token: String
    public var claims: TokenClaims
    public var kid: String
}

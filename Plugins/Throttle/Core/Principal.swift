/// Who is being limited: the auth plugin's principal, or the peer's uid when there is none.
public struct ThrottlePrincipal: Sendable, Equatable {
    /// The key/principal id (`uid:<uid>` for unauthenticated local peers).
    public var id: String
    /// The user ("" = none: no user-scope limits).
    public var user: String
    /// The organisation ("" = none: no org-scope limits).
    public var org: String
    /// Scopes and roles; the first configured role among them picks the limits.
    public var scopes: [String]
    /// The peer's uid, for the `auth_failures:uid:<uid>` signal.
    public var uid: UInt32?
    /// When the key was created (µs since the epoch), if the auth plugin says so; else first-seen time.
    public var createdAtMicros: Int64?

    public init(id: String, user: String = "", org: String = "", scopes: [String] = [], uid: UInt32? = nil,
                createdAtMicros: Int64? = nil) {
        self.id = id
        self.user = user
        self.org = org
        self.scopes = scopes
        self.uid = uid
        self.createdAtMicros = createdAtMicros
    }

    /// The principal for a call: the authenticated one when its id is set, else `uid:<uid>`.
    public static func resolve(id: String, user: String, org: String, scopes: [String], uid: UInt32?,
                               createdAtMicros: Int64? = nil) -> ThrottlePrincipal {
        if !id.isEmpty {
            return ThrottlePrincipal(id: id, user: user, org: org, scopes: scopes, uid: uid, createdAtMicros: createdAtMicros)
        }
        let peer = uid.map { "uid:\($0)" } ?? "anonymous"
        return ThrottlePrincipal(id: peer, user: peer, org: "", scopes: [], uid: uid)
    }

    /// The subject counted in `scope` ("" = this principal has no such scope).
    public func subject(_ scope: LimitScope) -> String {
        switch scope {
        case .key: id
        case .user: user
        case .org: org
        }
    }
}

/// A security-relevant event for the audit sink (the plugin forwards it to `host.audit`).
public struct ThrottleEvent: Sendable, Equatable {
    /// e.g. `throttle.denied`, `throttle.tightened`, `throttle.redis`.
    public var kind: String
    /// `success`, `failure` or `denied`.
    public var outcome: String
    /// A reason class, e.g. `rate_limited`, `auth_failures`.
    public var reason: String
    public var principalID: String
    /// Non-secret details.
    public var attributes: [(String, String)]

    public init(kind: String, outcome: String, reason: String, principalID: String, attributes: [(String, String)] = []) {
        self.kind = kind
        self.outcome = outcome
        self.reason = reason
        self.principalID = principalID
        self.attributes = attributes
    }

    public static func == (lhs: ThrottleEvent, rhs: ThrottleEvent) -> Bool {
        lhs.kind == rhs.kind && lhs.outcome == rhs.outcome && lhs.reason == rhs.reason && lhs.principalID == rhs.principalID
            && lhs.attributes.map(\.0) == rhs.attributes.map(\.0) && lhs.attributes.map(\.1) == rhs.attributes.map(\.1)
    }
}

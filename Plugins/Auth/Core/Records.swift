/// A principal: who a credential speaks for.
public struct Principal: Sendable, Equatable {
    /// Stable id (`sub` of its tokens), e.g. `"svc-chat"`.
    public var id: String
    /// The human or service user behind it.
    public var user: String
    /// Its organisation.
    public var org: String
    /// What it may do (`infer`, `finetune`, `admin`, custom).
    public var scopes: [String]
    /// When it was created (Unix seconds).
    public var createdAt: Double

    /// A principal with every field given.
    public init(id: String, user: String = "", org: String = "", scopes: [String], createdAt: Double = 0) {
        self.id = id
        self.user = user
        self.org = org
        self.scopes = scopes
        self.createdAt = createdAt
    }
}

/// What is known about an API key besides its secret (safe to list).
public struct APIKeyInfo: Sendable, Equatable {
    /// The public key id (the part after `rk_live_`).
    public var id: String
    public var principalID: String
    /// The key's scopes: a subset of its principal's (nil = all of the principal's).
    public var scopes: [String]?
    public var label: String
    public var createdAt: Double
    /// After this instant the key is refused (`expired`); a rotated key gets its grace end here.
    public var expiresAt: Double?
    public var revokedAt: Double?
    /// The key is accepted only from a process with this peer uid / gid.
    public var boundUID: UInt32?
    public var boundGID: UInt32?
    /// The key that replaced this one in a rotation.
    public var rotatedTo: String?

    /// The key's state at `now`.
    public func state(at now: Double) -> String {
        if revokedAt != nil { return "revoked" }
        if let expiresAt, now >= expiresAt { return "expired" }
        if rotatedTo != nil { return "rotating" }
        return "active"
    }
}

/// An API key as stored: its info and HMAC-SHA256(store secret, key).
struct APIKeyRecord: Sendable {
    var info: APIKeyInfo
    var hash: [UInt8]
}

/// A signing key's lifetime as stored (the private key lives in `<signing_key_dir>/<kid>.pem`).
public struct SigningKeyInfo: Sendable, Equatable {
    public var kid: String
    public var createdAt: Double
    /// The key stops signing at rotation and stops verifying at this instant.
    public var retireAt: Double?
}

/// A freshly created API key: the secret is shown once and never stored.
public struct CreatedKey: Sendable {
    /// The full key (`rk_live_<id>_<secret>`): show it once, never log it.
    public var key: String
    public var info: APIKeyInfo
}

import Foundation

/// The auth plugin's configuration: the `[[plugins]] config` table of the main config file, as
/// JSON. Only `db` is required. Unknown keys are errors (a typo must not silently weaken auth).
///
/// ```toml
/// [[plugins]]
/// name = "auth"
/// path = "plugins/auth"
/// config = { db = "/var/lib/rampart/auth.db", issuer = "rampart", audience = "rampart",
///            trusted_peers = [{ uid = 0, principal = "root-ops" }], rbac = { "acme.v1.Train/*" = "finetune" } }
/// ```
public struct AuthConfig: Sendable, Equatable {
    /// A peer uid whose processes authenticate as `principal` without a key or token.
    public struct TrustedPeer: Sendable, Equatable, Decodable {
        public var uid: UInt32
        public var principal: String
        public init(uid: UInt32, principal: String) {
            self.uid = uid
            self.principal = principal
        }
    }

    /// The SQLite store.
    public var db: String
    /// The store secret (default: `<db>.secret`).
    public var secretFile: String
    /// Directory of `<kid>.pem` signing keys (default: `<db directory>/signing-keys`).
    public var signingKeyDir: String
    /// `iss` of issued tokens and the only accepted issuer.
    public var issuer = "rampart"
    /// `aud` of issued tokens and the audience a token must name.
    public var audience = "rampart"
    /// Default token lifetime (15 minutes) and the longest one a caller may ask for.
    public var tokenTTLSeconds = 900
    public var maxTokenTTLSeconds = 3600
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    public var leewaySeconds = 30
    /// How long a rotated-out signing key still verifies (default: max TTL + leeway).
    public var signingKeyOverlapSeconds: Int?
    /// How long the old API key lives after `keys rotate` (default 1 day).
    public var rotationGraceSeconds = 86_400
    /// Peer uids trusted without a credential.
    public var trustedPeers: [TrustedPeer] = []
    /// Extra RBAC rules: method or `service/*` → scope (`public` = none).
    public var rbac: [String: String] = [:]
    /// Request feature → extra scope (features: `logprobs`, `logit_bias`, `top_logprobs`).
    public var featureScopes: [String: String] = [:]
    /// Scope of methods no rule covers.
    public var defaultScope = "admin"
    /// Methods needing one of these scopes require TOTP.
    public var mfaScopes: [String] = ["admin"]
    /// Brute-force thresholds.
    public var lockout = BruteForceGuard.Policy()
    /// Verified tokens kept in memory.
    public var tokenCacheSize = 10_000
    /// How often the sidecar polls the store for changes made by other processes (the offline
    /// CLI): revocations made through the admin RPCs apply at once, offline ones within this.
    public var refreshIntervalMs = 1000
    /// Audit every successful authentication (not only failures and admin actions).
    public var auditSuccesses = true
    /// Longest accepted credential header value, in bytes.
    public var maxCredentialBytes = 8192

    /// A configuration for the store at `db` with every other setting at its default.
    public init(db: String) {
        self.db = db
        secretFile = db + ".secret"
        // Plain string work: Foundation's NSString path helpers trap on some inputs on Linux.
        let directory = db.lastIndex(of: "/").map { String(db[..<$0]) } ?? "."
        signingKeyDir = (directory.isEmpty ? "" : directory) + "/signing-keys"
    }

    /// The overlap actually used.
    public var effectiveSigningKeyOverlap: Int { signingKeyOverlapSeconds ?? (maxTokenTTLSeconds + leewaySeconds) }

    static let knownKeys: Set<String> = [
        "db", "secret_file", "signing_key_dir", "issuer", "audience", "token_ttl_seconds", "max_token_ttl_seconds",
        "leeway_seconds", "signing_key_overlap_seconds", "rotation_grace_seconds", "trusted_peers", "rbac",
        "feature_scopes", "default_scope", "mfa_scopes", "lockout", "token_cache_size", "refresh_interval_ms",
        "audit_successes", "max_credential_bytes",
    ]
    static let lockoutKeys: Set<String> = [
        "free_failures", "backoff_initial_ms", "backoff_max_ms", "lockout_after", "lockout_seconds", "window_seconds", "max_tracked",
    ]

    /// Parses and validates the JSON config bytes.
    public static func parse(_ bytes: [UInt8]) throws(AuthError) -> AuthConfig {
        guard !bytes.isEmpty else { throw AuthError(.invalidConfig, "the auth plugin needs a config with at least `db`") }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw AuthError(.invalidConfig, "the config must be a table (JSON object)")
            }
            object = parsed
        } catch let error as AuthError {
            throw error
        } catch {
            throw AuthError(.invalidConfig, "the config is not valid JSON: \(error.localizedDescription)")
        }
        let unknown = Set(object.keys).subtracting(knownKeys).sorted()
        guard unknown.isEmpty else { throw AuthError(.invalidConfig, "unknown config key(s): \(unknown.joined(separator: ", "))") }
        if let lockout = object["lockout"] as? [String: Any] {
            let bad = Set(lockout.keys).subtracting(lockoutKeys).sorted()
            guard bad.isEmpty else { throw AuthError(.invalidConfig, "unknown lockout key(s): \(bad.joined(separator: ", "))") }
        }
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(bytes))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw AuthError(.invalidConfig, "\(context.codingPath.map(\.stringValue).joined(separator: ".")): wrong type")
        } catch let DecodingError.keyNotFound(key, _) {
            throw AuthError(.invalidConfig, "missing required key `\(key.stringValue)`")
        } catch {
            throw AuthError(.invalidConfig, "\(error)")
        }
        var config = AuthConfig(db: wire.db)
        if let v = wire.secret_file { config.secretFile = v }
        if let v = wire.signing_key_dir { config.signingKeyDir = v }
        if let v = wire.issuer { config.issuer = v }
        if let v = wire.audience { config.audience = v }
        if let v = wire.token_ttl_seconds { config.tokenTTLSeconds = v }
        if let v = wire.max_token_ttl_seconds { config.maxTokenTTLSeconds = v }
        if let v = wire.leeway_seconds { config.leewaySeconds = v }
        config.signingKeyOverlapSeconds = wire.signing_key_overlap_seconds
        if let v = wire.rotation_grace_seconds { config.rotationGraceSeconds = v }
        if let v = wire.trusted_peers { config.trustedPeers = v }
        if let v = wire.rbac { config.rbac = v }
        if let v = wire.feature_scopes { config.featureScopes = v }
        if let v = wire.default_scope { config.defaultScope = v }
        if let v = wire.mfa_scopes { config.mfaScopes = v }
        if let v = wire.lockout { config.lockout = v }
        if let v = wire.token_cache_size { config.tokenCacheSize = v }
        if let v = wire.refresh_interval_ms { config.refreshIntervalMs = v }
        if let v = wire.audit_successes { config.auditSuccesses = v }
        if let v = wire.max_credential_bytes { config.maxCredentialBytes = v }
        try config.validate()
        return config
    }

    /// Checks ranges and names.
    public func validate() throws(AuthError) {
        func require(_ ok: Bool, _ message: String) throws(AuthError) {
            if !ok { throw AuthError(.invalidConfig, message) }
        }
        try require(!db.isEmpty, "`db` must name the store file")
        try require(!issuer.isEmpty && !audience.isEmpty, "`issuer` and `audience` must not be empty")
        try require(tokenTTLSeconds >= 1 && tokenTTLSeconds <= maxTokenTTLSeconds, "need 1 ≤ token_ttl_seconds ≤ max_token_ttl_seconds")
        try require(maxTokenTTLSeconds <= 86_400, "max_token_ttl_seconds must be at most 86400 (tokens are short-lived)")
        try require(leewaySeconds >= 0 && leewaySeconds <= 300, "leeway_seconds must be in 0 ... 300")
        try require((signingKeyOverlapSeconds ?? 0) >= 0, "signing_key_overlap_seconds must not be negative")
        try require(rotationGraceSeconds >= 0, "rotation_grace_seconds must not be negative")
        try require(tokenCacheSize >= 0 && tokenCacheSize <= 10_000_000, "token_cache_size must be in 0 ... 10000000")
        try require(refreshIntervalMs >= 0, "refresh_interval_ms must not be negative")
        try require(maxCredentialBytes >= 256 && maxCredentialBytes <= 1 << 20, "max_credential_bytes must be in 256 ... 1048576")
        for (method, scope) in rbac {
            try require(method.contains("/"), "rbac: \"\(method)\" is not a method (service/Method or service/*)")
            if scope != RBACPolicy.publicScope { try AuthStore.validateScope(scope) }
        }
        for (_, scope) in featureScopes { try AuthStore.validateScope(scope) }
        for peer in trustedPeers { try AuthStore.validateID(peer.principal, what: "trusted_peers principal") }
        try lockout.validate()
    }

    private struct Wire: Decodable {
        var db: String
        var secret_file: String?
        var signing_key_dir: String?
        var issuer: String?
        var audience: String?
        var token_ttl_seconds: Int?
        var max_token_ttl_seconds: Int?
        var leeway_seconds: Int?
        var signing_key_overlap_seconds: Int?
        var rotation_grace_seconds: Int?
        var trusted_peers: [TrustedPeer]?
        var rbac: [String: String]?
        var feature_scopes: [String: String]?
        var default_scope: String?
        var mfa_scopes: [String]?
        var lockout: BruteForceGuard.Policy?
        var token_cache_size: Int?
        var refresh_interval_ms: Int?
        var audit_successes: Bool?
        var max_credential_bytes: Int?
    }
}

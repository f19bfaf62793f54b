import RampartCrypto

/// The token exchange and the admin operations (served as plugin RPCs and by the offline CLI).
/// Admin operations assume the caller already passed ``AuthEngine/authorize(_:now:)`` (the
/// chain runs it before a plugin method); `actor` names that caller in the audit events.
extension AuthEngine {
    /// What `IssueToken` asks for.
    public struct TokenRequest: Sendable {
        /// The call's metadata (carries the API key) and peer (for trusted peers).
        public var metadata: [(key: String, value: MetadataValue)]
        public var peer: PeerIdentity?
        /// Requested scopes (empty = every scope of the credential).
        public var scopes: [String]
        /// Requested lifetime (0 = the default).
        public var ttlSeconds: Int

        public init(metadata: [(key: String, value: MetadataValue)], peer: PeerIdentity?, scopes: [String] = [], ttlSeconds: Int = 0) {
            self.metadata = metadata
            self.peer = peer
            self.scopes = scopes
            self.ttlSeconds = ttlSeconds
        }
    }

    /// Exchanges an API key (or a trusted peer identity) for a signed short-lived token.
    public func issueToken(_ request: TokenRequest, now: Double) -> AuthOutcome<IssuedToken> {
        var trace = Trace()
        let result = issue(request, now: now, trace: &trace)
        return AuthOutcome(result: result, events: trace.events, signals: trace.signals)
    }

    private func issue(_ request: TokenRequest, now: Double, trace: inout Trace) -> Result<IssuedToken, AuthDenial> {
        let principal: AuthenticatedPrincipal
        switch authenticate(request.metadata, peer: request.peer, allowTokens: false, now: now, trace: &trace) {
        case .success(let p): principal = p
        case .failure(let denial): return .failure(denial)
        }
        let scopes = request.scopes.isEmpty ? principal.scopes : request.scopes
        for scope in scopes where !principal.scopes.contains(scope) {
            trace.events.append(AuthAuditEvent(kind: "token.issue", outcome: "denied", reason: ReasonClass.missingScope.rawValue,
                                               principalID: principal.id, attributes: ["required_scope": scope]))
            return .failure(AuthDenial(status: .permissionDenied, reason: .missingScope,
                                       message: "permission denied: the credential lacks scope \"\(scope)\""))
        }
        let ttl = request.ttlSeconds == 0 ? config.tokenTTLSeconds : request.ttlSeconds
        guard ttl > 0, ttl <= config.maxTokenTTLSeconds else {
            return .failure(AuthDenial(status: .invalidArgument, reason: nil,
                                       message: "ttl_seconds must be in 1 ... \(config.maxTokenTTLSeconds)"))
        }
        guard let signer = keyring.activeKey() else {
            return .failure(AuthDenial(status: .unavailable, reason: nil, message: "no active signing key"))
        }
        let issuedAt = Int64(now.rounded(.down))
        let claims = TokenClaims(issuer: config.issuer, subject: principal.id, audience: [config.audience],
                                 expiresAt: issuedAt + Int64(ttl), notBefore: issuedAt, issuedAt: issuedAt,
                                 tokenID: Base64URL.encode(secureRandomBytes(16)), scopes: scopes,
                                 apiKeyID: principal.apiKeyID, peerUID: principal.boundUID)
        let token: String
        do {
            token = try JWS.sign(payload: claims.json(), kid: signer.info.kid, key: signer.key)
        } catch {
            return .failure(AuthDenial(status: .internal, reason: nil, message: "token signing failed"))
        }
        var attributes = ["kid": signer.info.kid, "jti": claims.tokenID, "scopes": scopes.joined(separator: " "),
                          "exp": String(claims.expiresAt), "credential": principal.credentialKind]
        if let key = principal.apiKeyID { attributes["key_id"] = key }
        trace.events.append(AuthAuditEvent(kind: "token.issue", outcome: "success", principalID: principal.id, attributes: attributes))
        return .success(IssuedToken(token: token, claims: claims, kid: signer.info.kid))
    }

    // MARK: admin operations

    private func admin<T>(_ kind: String, actor: String, attributes: [String: String], now: Double,
                          _ body: () throws(AuthError) -> (T, [String: String])) -> AuthOutcome<T> {
        do {
            let (value, extra) = try body()
            try? refresh(force: true, now: now)
            let event = AuthAuditEvent(kind: kind, outcome: "success", principalID: actor,
                                       attributes: attributes.merging(extra) { _, new in new })
            return AuthOutcome(result: .success(value), events: [event], signals: [])
        } catch {
            let event = AuthAuditEvent(kind: kind, outcome: "failure", reason: error.code.rawValue, principalID: actor, attributes: attributes)
            return AuthOutcome(result: .failure(.from(error)), events: [event], signals: [])
        }
    }

    /// Creates or updates a principal.
    public func upsertPrincipal(_ principal: Principal, actor: String, now: Double) -> AuthOutcome<Principal> {
        admin("principal.upsert", actor: actor, attributes: ["target": principal.id, "scopes": principal.scopes.joined(separator: " ")],
              now: now) { () throws(AuthError) in
            try store.upsertPrincipal(principal, now: now)
            return (try store.principal(principal.id) ?? principal, [:])
        }
    }

    /// Creates an API key (its secret is in the result only).
    public func createKey(principalID: String, scopes: [String]?, label: String, ttlSeconds: Int?, boundUID: UInt32?,
                          boundGID: UInt32?, actor: String, now: Double) -> AuthOutcome<CreatedKey> {
        admin("key.create", actor: actor, attributes: ["target": principalID], now: now) { () throws(AuthError) in
            if let ttlSeconds, ttlSeconds <= 0 { throw AuthError(.invalidArgument, "ttl must be positive") }
            let created = try store.createKey(principalID: principalID, scopes: scopes, label: label,
                                              expiresAt: ttlSeconds.map { now + Double($0) }, boundUID: boundUID, boundGID: boundGID, now: now)
            var extra = ["key_id": created.info.id]
            if let uid = boundUID { extra["bound_uid"] = String(uid) }
            return (created, extra)
        }
    }

    /// Lists keys (of one principal, or all).
    public func listKeys(principalID: String?, actor: String, now: Double) -> AuthOutcome<[APIKeyInfo]> {
        admin("key.list", actor: actor, attributes: ["target": principalID ?? "*"], now: now) { () throws(AuthError) in
            (try store.keys(principalID: principalID), [:])
        }
    }

    /// Revokes a key and the tokens exchanged for it, at once.
    public func revokeKey(_ id: String, actor: String, now: Double) -> AuthOutcome<Void> {
        admin("key.revoke", actor: actor, attributes: ["key_id": id], now: now) { () throws(AuthError) in
            try store.revokeKey(id, now: now)
            return ((), [:])
        }
    }

    /// Rotates a key: a new key now, the old one lives `graceSeconds` (default: the configured grace).
    public func rotateKey(_ id: String, graceSeconds: Int?, actor: String, now: Double) -> AuthOutcome<CreatedKey> {
        let grace = graceSeconds ?? config.rotationGraceSeconds
        return admin("key.rotate", actor: actor, attributes: ["key_id": id, "grace_seconds": String(grace)], now: now) { () throws(AuthError) in
            let created = try store.rotateKey(id, grace: Double(grace), now: now)
            return (created, ["new_key_id": created.info.id])
        }
    }

    /// Revokes every token of a principal or of a key issued up to now.
    public func revokeTokens(principalID: String?, keyID: String?, actor: String, now: Double) -> AuthOutcome<Void> {
        admin("token.revoke", actor: actor, attributes: ["target": principalID.map { "principal:\($0)" } ?? keyID.map { "key:\($0)" } ?? ""],
              now: now) { () throws(AuthError) in
            switch (principalID, keyID) {
            case (let p?, nil): try store.revokeTokens(principalID: p, now: now)
            case (nil, let k?): try store.revokeTokens(keyID: k, now: now)
            default: throw AuthError(.invalidArgument, "name exactly one of principal and key")
            }
            return ((), [:])
        }
    }

    /// Rotates the token signing key (the old one verifies for the configured overlap).
    public func rotateSigningKey(actor: String, now: Double) -> AuthOutcome<String> {
        admin("signing_key.rotate", actor: actor, attributes: [:], now: now) { () throws(AuthError) in
            let kid = try keyring.rotate(overlap: Double(config.effectiveSigningKeyOverlap), now: now)
            return (kid, ["kid": kid])
        }
    }
}

import Foundation
import RampartCrypto
import Synchronization

/// The auth decision for every call: credential → principal (API key, token or trusted peer),
/// brute-force defence, RBAC, TOTP step-up; plus the token exchange and the admin operations.
/// Thread-safe; host-independent (it returns audit events and signals for the caller to emit),
/// so the plugin and the tests drive the same code.
public final class AuthEngine: Sendable {
    public let config: AuthConfig
    public let store: AuthStore
    public let keyring: SigningKeyRing
    public let rbac: RBACPolicy
    let verifier: TokenVerifier
    let cache: VerifiedTokenCache
    let bruteForce: BruteForceGuard
    let trustedPeers: [UInt32: String]

    struct Live: Sendable {
        var generation: Int64 = -1
        var lastRefresh: Double = -.infinity
        var principalEpochs: [String: Double] = [:]
        var keyEpochs: [String: Double] = [:]
        var keys: [String: APIKeyRecord] = [:]
        var principals: [String: Principal] = [:]
    }
    let live = Mutex(Live())
    let scopeCache = Mutex<[String: MethodRule]>([:])

    /// Opens the store (creating it, its secret and a first signing key on first start).
    public init(config: AuthConfig, now: Double) throws(AuthError) {
        try config.validate()
        self.config = config
        store = try AuthStore(path: config.db, secretFile: config.secretFile)
        keyring = try SigningKeyRing(directory: config.signingKeyDir, store: store, createIfEmpty: true, now: now)
        rbac = RBACPolicy(extra: config.rbac, featureScopes: config.featureScopes, defaultScope: config.defaultScope,
                          mfaScopes: Set(config.mfaScopes))
        verifier = TokenVerifier(issuer: config.issuer, audience: config.audience, leewaySeconds: Int64(config.leewaySeconds),
                                 maxLifetimeSeconds: Int64(config.maxTokenTTLSeconds), maxLength: config.maxCredentialBytes)
        cache = VerifiedTokenCache(capacity: config.tokenCacheSize)
        bruteForce = BruteForceGuard(policy: config.lockout)
        trustedPeers = Dictionary(config.trustedPeers.map { ($0.uid, $0.principal) }, uniquingKeysWith: { _, last in last })
        try refresh(force: true, now: now)
    }

    // MARK: store changes

    /// Re-reads revocations, keys and signing keys when another process changed the store
    /// (polled at most every `refresh_interval_ms`; `force` reads now).
    func refresh(force: Bool, now: Double) throws(AuthError) {
        let due = live.withLock { state -> Bool in
            guard force || (now - state.lastRefresh) * 1000 >= Double(config.refreshIntervalMs) else { return false }
            state.lastRefresh = now
            return true
        }
        guard due else { return }
        let generation = try store.generation()
        guard force || generation != live.withLock({ $0.generation }) else { return }
        let epochs = try store.revocationEpochs()
        try keyring.reload()
        var principalEpochs: [String: Double] = [:], keyEpochs: [String: Double] = [:]
        for (subject, epoch) in epochs {
            if subject.hasPrefix("principal:") { principalEpochs[String(subject.dropFirst(10))] = epoch }
            if subject.hasPrefix("key:") { keyEpochs[String(subject.dropFirst(4))] = epoch }
        }
        live.withLock { state in
            state.generation = generation
            state.principalEpochs = principalEpochs
            state.keyEpochs = keyEpochs
            state.keys.removeAll()
            state.principals.removeAll()
        }
    }

    private func keyRecord(_ id: String) throws(AuthError) -> APIKeyRecord? {
        if let cached = live.withLock({ $0.keys[id] }) { return cached }
        guard let record = try store.keyRecord(id) else { return nil }
        live.withLock { $0.keys[id] = record }
        return record
    }

    private func principal(_ id: String) throws(AuthError) -> Principal? {
        if let cached = live.withLock({ $0.principals[id] }) { return cached }
        guard let principal = try store.principal(id) else { return nil }
        live.withLock { $0.principals[id] = principal }
        return principal
    }

    // MARK: the request decision

    /// Decides on one call at `now` (Unix seconds).
    public func authorize(_ request: AuthRequest, now: Double) -> AuthOutcome<AuthDecision> {
        var trace = Trace()
        let rule = methodRule(request.method)
        let required = request.features.isEmpty ? rule.scopes
            : rbac.requiredScopes(method: request.method, features: request.features)
        if required.isEmpty {
            return AuthOutcome(result: .success(.publicMethod), events: [], signals: [])
        }
        let result = authorizeProtected(request, required: required, needsMFA: rule.needsMFA, now: now, trace: &trace)
        return AuthOutcome(result: result.map { .allowed($0) }, events: trace.events, signals: trace.signals)
    }

    private func authorizeProtected(_ request: AuthRequest, required: [String], needsMFA: Bool, now: Double,
                                    trace: inout Trace) -> Result<AuthenticatedPrincipal, AuthDenial> {
        let principal: AuthenticatedPrincipal
        switch authenticate(request.metadata, peer: request.peer, allowTokens: true, now: now, trace: &trace) {
        case .success(let p): principal = p
        case .failure(let denial): return .failure(denial)
        }
        for scope in required where !principal.scopes.contains(scope) {
            trace.events.append(AuthAuditEvent(kind: "auth.denied", outcome: "denied", reason: ReasonClass.missingScope.rawValue,
                                               principalID: principal.id,
                                               attributes: ["required_scope": scope, "credential": principal.credentialKind]))
            return .failure(.missingScope(scope, method: request.method))
        }
        if needsMFA {
            if let denial = stepUp(principal, request: request, now: now, trace: &trace) { return .failure(denial) }
        }
        if config.auditSuccesses {
            var attributes = ["credential": principal.credentialKind]
            if let key = principal.apiKeyID { attributes["key_id"] = key }
            trace.events.append(AuthAuditEvent(kind: "auth.success", outcome: "success", principalID: principal.id, attributes: attributes))
        }
        return .success(principal)
    }

    /// What the RBAC table says about one method.
    struct MethodRule: Sendable {
        var scopes: [String]
        var needsMFA: Bool
    }

    /// The scopes `method` needs (without features) and whether it needs TOTP, memoised: the
    /// RBAC table is immutable.
    private func methodRule(_ method: String) -> MethodRule {
        if let cached = scopeCache.withLock({ $0[method] }) { return cached }
        let rule = MethodRule(scopes: rbac.requiredScopes(method: method, features: []), needsMFA: rbac.needsMFA(method: method))
        scopeCache.withLock { cache in
            if cache.count >= 1024 { cache.removeAll() }  // method names are few; bound it anyway
            cache[method] = rule
        }
        return rule
    }

    /// Collects the events and signals of one call.
    struct Trace {
        var events: [AuthAuditEvent] = []
        var signals: [AuthSignal] = []
    }

    /// Reasons that count towards backoff and lockout (guessing); clock and revocation outcomes
    /// of genuine credentials do not.
    static func countsAsFailure(_ reason: ReasonClass) -> Bool {
        switch reason {
        case .missingCredentials, .expired, .notYetValid, .backoff, .lockedOut, .missingScope: false
        default: true
        }
    }

    private func refuse(_ reason: ReasonClass, subjects: [String], principalID: String = "", attributes: [String: String] = [:],
                        kind: String = "auth.failure", retryAfterMs: UInt64 = 0, now: Double, trace: inout Trace) -> AuthDenial {
        if Self.countsAsFailure(reason) {
            for subject in subjects {
                let count = bruteForce.recordFailure(subject, now: now)
                trace.signals.append(AuthSignal(name: "auth_failures:\(subject)", value: Double(count)))
            }
        }
        trace.events.append(AuthAuditEvent(kind: kind, outcome: "failure", reason: reason.rawValue, principalID: principalID,
                                           attributes: attributes))
        return .unauthenticated(reason, retryAfterMs: retryAfterMs)
    }

    /// A backoff/lockout refusal of `subject` (the attempt itself counts during backoff).
    private func blocked(_ subject: String, _ refusal: BruteForceGuard.Refusal, principalID: String = "", now: Double,
                         trace: inout Trace) -> AuthDenial {
        if refusal.reason == .backoff {
            let count = bruteForce.recordFailure(subject, now: now)
            trace.signals.append(AuthSignal(name: "auth_failures:\(subject)", value: Double(count)))
        }
        let after = bruteForce.check(subject, now: now) ?? refusal
        trace.events.append(AuthAuditEvent(kind: "auth.failure", outcome: "failure", reason: after.reason.rawValue,
                                           principalID: principalID, attributes: ["subject": subject]))
        return .unauthenticated(after.reason, retryAfterMs: after.retryAfterMs)
    }

    /// Credential → principal, with lockout checks and failure accounting.
    func authenticate(_ metadata: [(key: String, value: MetadataValue)], peer: PeerIdentity?, allowTokens: Bool, now: Double,
                      trace: inout Trace) -> Result<AuthenticatedPrincipal, AuthDenial> {
        do {
            try refresh(force: false, now: now)
        } catch {
            trace.events.append(AuthAuditEvent(kind: "auth.failure", outcome: "failure", reason: "store_unavailable"))
            return .failure(AuthDenial(status: .unavailable, reason: nil, message: "auth store unavailable"))
        }
        let uidSubject = peer.map { "uid:\($0.uid)" }
        var subjects = uidSubject.map { [$0] } ?? []
        if let uidSubject, let refusal = bruteForce.check(uidSubject, now: now) {
            return .failure(blocked(uidSubject, refusal, now: now, trace: &trace))
        }
        let credential: Credential
        switch CredentialParser.credential(in: metadata, maxBytes: config.maxCredentialBytes) {
        case .success(let c): credential = c
        case .failure(let reason): return .failure(refuse(reason, subjects: subjects, now: now, trace: &trace))
        }
        switch credential {
        case .none:
            if let peer, let id = trustedPeers[peer.uid] {
                guard let principal = try? principal(id) else {
                    return .failure(refuse(.unknownPrincipal, subjects: subjects, principalID: id, now: now, trace: &trace))
                }
                return .success(AuthenticatedPrincipal(id: principal.id, user: principal.user, org: principal.org,
                                                       scopes: principal.scopes, credentialKind: "peer", apiKeyID: nil,
                                                       boundUID: peer.uid))
            }
            return .failure(refuse(.missingCredentials, subjects: subjects, now: now, trace: &trace))
        case .apiKey(let key):
            return authenticateKey(key, peer: peer, subjects: &subjects, now: now, trace: &trace)
        case .token(let token):
            guard allowTokens else { return .failure(refuse(.malformed, subjects: subjects, now: now, trace: &trace)) }
            return authenticateToken(token, peer: peer, subjects: &subjects, now: now, trace: &trace)
        }
    }

    private func authenticateKey(_ key: [UInt8], peer: PeerIdentity?, subjects: inout [String], now: Double,
                                 trace: inout Trace) -> Result<AuthenticatedPrincipal, AuthDenial> {
        guard let id = APIKeyFormat.keyID(key) else { return .failure(refuse(.malformed, subjects: subjects, now: now, trace: &trace)) }
        let record: APIKeyRecord?
        do {
            record = try keyRecord(id)
        } catch {
            return .failure(AuthDenial(status: .unavailable, reason: nil, message: "auth store unavailable"))
        }
        // Unknown ids are not tracked per key (an attacker could fill memory); the uid still counts.
        let hash = store.keyHash(key)
        guard let record else {
            _ = constantTimeEqual(hash, hash)
            return .failure(refuse(.invalidKey, subjects: subjects, now: now, trace: &trace))
        }
        let keySubject = "key:\(id)", principalSubject = "principal:\(record.info.principalID)"
        let attributes = ["key_id": id, "credential": "api_key"]
        for subject in [keySubject, principalSubject] {
            if let refusal = bruteForce.check(subject, now: now) {
                return .failure(blocked(subject, refusal, principalID: record.info.principalID, now: now, trace: &trace))
            }
        }
        subjects += [keySubject, principalSubject]
        func fail(_ reason: ReasonClass) -> Result<AuthenticatedPrincipal, AuthDenial> {
            .failure(refuse(reason, subjects: subjects, principalID: record.info.principalID, attributes: attributes, now: now, trace: &trace))
        }
        guard constantTimeEqual(hash, record.hash) else { return fail(.invalidKey) }
        if record.info.revokedAt != nil { return fail(.revoked) }
        if let expiresAt = record.info.expiresAt, now >= expiresAt { return fail(.expired) }
        if let uid = record.info.boundUID, peer?.uid != uid { return fail(.wrongPeer) }
        if let gid = record.info.boundGID, peer?.gid != gid { return fail(.wrongPeer) }
        guard let principal = try? principal(record.info.principalID) else { return fail(.unknownPrincipal) }
        for subject in subjects { bruteForce.recordSuccess(subject) }
        let scopes = (record.info.scopes ?? principal.scopes).filter(principal.scopes.contains)
        return .success(AuthenticatedPrincipal(id: principal.id, user: principal.user, org: principal.org, scopes: scopes,
                                               credentialKind: "api_key", apiKeyID: id, boundUID: record.info.boundUID))
    }

    private func authenticateToken(_ token: [UInt8], peer: PeerIdentity?, subjects: inout [String], now: Double,
                                   trace: inout Trace) -> Result<AuthenticatedPrincipal, AuthDenial> {
        let cacheKey = VerifiedTokenCache.key(token)
        let verified: VerifiedToken
        if let hit = cache.lookup(cacheKey) {
            verified = hit
        } else {
            switch verifier.verifySignature(token, key: { self.keyring.verifyingKey(kid: $0, now: now) }) {
            case .success(let value):
                verified = value
                cache.insert(cacheKey, value, now: now)
            case .failure(let reason):
                return .failure(refuse(reason, subjects: subjects, attributes: ["credential": "token"], now: now, trace: &trace))
            }
        }
        let claims = verified.claims
        let principalSubject = "principal:\(claims.subject)"
        if let refusal = bruteForce.check(principalSubject, now: now) {
            return .failure(blocked(principalSubject, refusal, principalID: claims.subject, now: now, trace: &trace))
        }
        subjects.append(principalSubject)
        func fail(_ reason: ReasonClass) -> Result<AuthenticatedPrincipal, AuthDenial> {
            var attributes = ["credential": "token", "kid": verified.kid, "jti": claims.tokenID]
            if let key = claims.apiKeyID { attributes["key_id"] = key }
            return .failure(refuse(reason, subjects: subjects, principalID: claims.subject, attributes: attributes, now: now, trace: &trace))
        }
        if let reason = verifier.checkTimes(claims, now: now) { return fail(reason) }
        guard keyring.verifyingKey(kid: verified.kid, now: now) != nil else { return fail(.unknownKid) }
        let (principalEpoch, keyEpoch) = live.withLock { state in
            (state.principalEpochs[claims.subject], claims.apiKeyID.flatMap { state.keyEpochs[$0] })
        }
        if let epoch = principalEpoch, Double(claims.issuedAt) <= epoch { return fail(.revoked) }
        if let epoch = keyEpoch, Double(claims.issuedAt) <= epoch { return fail(.revoked) }
        if let uid = claims.peerUID, peer?.uid != uid { return fail(.wrongPeer) }
        guard let principal = try? principal(claims.subject) else { return fail(.unknownPrincipal) }
        if let keyID = claims.apiKeyID {
            // A token dies with its key: revoked, or past its (rotation grace) expiry.
            guard let record = try? keyRecord(keyID) else { return fail(.revoked) }
            if record.info.revokedAt != nil { return fail(.revoked) }
            if let expiresAt = record.info.expiresAt, now >= expiresAt { return fail(.expired) }
        }
        return .success(AuthenticatedPrincipal(id: principal.id, user: principal.user, org: principal.org,
                                               scopes: claims.scopes.filter(principal.scopes.contains), credentialKind: "token",
                                               apiKeyID: claims.apiKeyID, boundUID: claims.peerUID))
    }

    // MARK: TOTP step-up

    private func stepUp(_ principal: AuthenticatedPrincipal, request: AuthRequest, now: Double, trace: inout Trace) -> AuthDenial? {
        var subjects = ["principal:\(principal.id)"]
        if let peer = request.peer { subjects.insert("uid:\(peer.uid)", at: 0) }
        func fail(_ reason: ReasonClass) -> AuthDenial {
            refuse(reason, subjects: subjects, principalID: principal.id, attributes: ["credential": principal.credentialKind],
                   kind: "mfa.failure", now: now, trace: &trace)
        }
        let code: String
        switch CredentialParser.totp(in: request.metadata) {
        case .failure(let reason): return fail(reason)
        case .success(nil):
            trace.events.append(AuthAuditEvent(kind: "mfa.failure", outcome: "failure", reason: ReasonClass.mfaRequired.rawValue,
                                               principalID: principal.id))
            return .unauthenticated(.mfaRequired)
        case .success(let value?): code = value
        }
        let totp: TOTP?
        do {
            totp = try store.totp(principalID: principal.id)
        } catch {
            return AuthDenial(status: .unavailable, reason: nil, message: "auth store unavailable")
        }
        guard let totp, let step = totp.matchingStep(code, at: Int64(now.rounded(.down))) else { return fail(.mfaInvalid) }
        let accepted: Bool
        do {
            accepted = try store.acceptTOTPStep(principalID: principal.id, step: step)
        } catch {
            return AuthDenial(status: .unavailable, reason: nil, message: "auth store unavailable")
        }
        guard accepted else { return fail(.mfaReplayed) }
        trace.events.append(AuthAuditEvent(kind: "mfa.success", outcome: "success", principalID: principal.id))
        return nil
    }
}

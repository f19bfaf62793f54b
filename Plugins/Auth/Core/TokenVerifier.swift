/// Verifies a Rampart access token (RFC 8725 rules): compact JWS with `alg` exactly EdDSA and a
/// known `kid`, a valid Ed25519 signature, then `iss`, `aud`, `exp`, `nbf` and `iat` with
/// ``leewaySeconds`` of tolerance, and a lifetime no longer than ``maxLifetimeSeconds``.
/// Revocation and peer binding need the store and are checked by ``AuthEngine``.
public struct TokenVerifier: Sendable {
    public var issuer: String
    public var audience: String
    public var leewaySeconds: Int64
    public var maxLifetimeSeconds: Int64
    public var maxLength: Int

    public init(issuer: String, audience: String, leewaySeconds: Int64 = 30, maxLifetimeSeconds: Int64 = 3600, maxLength: Int = 8192) {
        self.issuer = issuer
        self.audience = audience
        self.leewaySeconds = leewaySeconds
        self.maxLifetimeSeconds = maxLifetimeSeconds
        self.maxLength = maxLength
    }

    /// Checks structure, header, kid and signature, then the static claims (no clock checks).
    public func verifySignature(_ token: [UInt8], key: (String) -> Ed25519Key?) -> Result<VerifiedToken, ReasonClass> {
        let parsed: JWS.Parsed
        switch JWS.parse(token, maxLength: maxLength) {
        case .success(let value): parsed = value
        case .failure(let reason): return .failure(reason)
        }
        guard let verifier = key(parsed.kid) else { return .failure(.unknownKid) }
        guard verifier.verify(signature: parsed.signature, message: parsed.signingInput) else { return .failure(.badSignature) }
        guard let claims = TokenClaims.parse(parsed.payload) else { return .failure(.malformed) }
        guard claims.issuer == issuer else { return .failure(.wrongIssuer) }
        guard claims.audience.contains(audience) else { return .failure(.wrongAudience) }
        guard claims.expiresAt - claims.issuedAt <= maxLifetimeSeconds, claims.expiresAt > claims.issuedAt else {
            return .failure(.malformed)
        }
        return .success(VerifiedToken(kid: parsed.kid, claims: claims))
    }

    /// The clock checks: `exp` passed → expired; `nbf` or `iat` in the future → not yet valid.
    public func checkTimes(_ claims: TokenClaims, now: Double) -> ReasonClass? {
        let leeway = Double(leewaySeconds)
        if now >= Double(claims.expiresAt) + leeway { return .expired }
        if let nbf = claims.notBefore, now + leeway < Double(nbf) { return .notYetValid }
        if now + leeway < Double(claims.issuedAt) { return .notYetValid }
        return nil
    }

    /// Full verification at `now`.
    public func verify(_ token: [UInt8], now: Double, key: (String) -> Ed25519Key?) -> Result<VerifiedToken, ReasonClass> {
        let result = verifySignature(token, key: key)
        if case .success(let verified) = result, let reason = checkTimes(verified.claims, now: now) { return .failure(reason) }
        return result
    }
}

/// Why a credential was refused. Only the class is ever reported (status message, audit event,
/// logs), never which part of a secret was wrong.
public enum ReasonClass: String, Error, Sendable, Hashable, CaseIterable {
    /// No API key, token or trusted peer identity.
    case missingCredentials = "missing_credentials"
    /// The credential cannot be parsed (bad format, too long, binary, several credentials).
    case malformed
    /// The token's signature does not verify, or an API key does not match.
    case badSignature = "bad_signature"
    /// The header names an algorithm other than EdDSA (`none`, HS256, RS256 …).
    case unsupportedAlgorithm = "unsupported_algorithm"
    /// The token or API key has expired (including a rotated key after its grace period).
    case expired
    /// The token's `nbf` or `iat` lies in the future.
    case notYetValid = "not_yet_valid"
    /// The token's `aud` does not include this sidecar.
    case wrongAudience = "wrong_audience"
    /// The token's `iss` is not this sidecar's issuer.
    case wrongIssuer = "wrong_issuer"
    /// The token's `kid` is unknown or retired.
    case unknownKid = "unknown_kid"
    /// The key, the key's token family or the principal's token family is revoked.
    case revoked
    /// The credential is bound to another peer uid/gid than the calling process.
    case wrongPeer = "wrong_peer"
    /// Too many recent failures: the caller must wait (retry-after is set).
    case backoff
    /// Too many failures: temporarily locked out (retry-after is set).
    case lockedOut = "locked_out"
    /// The API key does not match a stored key (unknown id or wrong secret: never said which).
    case invalidKey = "invalid_key"
    /// The credential's principal no longer exists.
    case unknownPrincipal = "unknown_principal"
    /// The method needs a TOTP code in `x-rampart-totp` and none was sent.
    case mfaRequired = "mfa_required"
    /// The TOTP code is wrong, outside the ±1 step window, or the principal has no TOTP enrolled.
    case mfaInvalid = "mfa_invalid"
    /// The TOTP code was already used.
    case mfaReplayed = "mfa_replayed"
    /// The credential lacks the scope the method needs (PERMISSION_DENIED, not UNAUTHENTICATED).
    case missingScope = "missing_scope"
}

import Foundation

/// The claims of a Rampart access token (RFC 7519 registered claims plus `scope` (RFC 8693) and
/// two Rampart claims: `rkid`, the API key the token was exchanged for, and `ruid`, the peer uid
/// the token is bound to).
public struct TokenClaims: Sendable, Equatable {
    /// `iss`.
    public var issuer: String
    /// `sub`: the principal id.
    public var subject: String
    /// `aud` (a string or an array on the wire).
    public var audience: [String]
    /// `exp`, `nbf`, `iat` (NumericDate, whole seconds).
    public var expiresAt: Int64
    public var notBefore: Int64?
    public var issuedAt: Int64
    /// `jti`.
    public var tokenID: String
    /// `scope`: space-separated on the wire.
    public var scopes: [String]
    /// `rkid`: the API key id this token came from (nil for peer-credential tokens).
    public var apiKeyID: String?
    /// `ruid`: the peer uid the token is bound to (copied from a uid-bound key or the trusted peer).
    public var peerUID: UInt32?

    /// Claims with every field given.
    public init(issuer: String, subject: String, audience: [String], expiresAt: Int64, notBefore: Int64?, issuedAt: Int64,
                tokenID: String, scopes: [String], apiKeyID: String? = nil, peerUID: UInt32? = nil) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.issuedAt = issuedAt
        self.tokenID = tokenID
        self.scopes = scopes
        self.apiKeyID = apiKeyID
        self.peerUID = peerUID
    }

    /// The JSON object (sorted keys, no insignificant whitespace).
    public func json() -> [UInt8] {
        var object: [String: Any] = [
            "iss": issuer, "sub": subject, "exp": expiresAt, "iat": issuedAt, "jti": tokenID,
            "scope": scopes.joined(separator: " "),
            "aud": audience.count == 1 ? audience[0] as Any : audience as Any,
        ]
        if let notBefore { object["nbf"] = notBefore }
        if let apiKeyID { object["rkid"] = apiKeyID }
        if let peerUID { object["ruid"] = Int64(peerUID) }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Array(data)
    }

    /// Parses a claims set: `iss`, `sub`, `aud`, `exp`, `iat` are required; times must be
    /// NumericDates (numbers, not strings or booleans) in range; `scope` a string; unknown claims
    /// are ignored (RFC 7519 §4).
    public static func parse(_ bytes: [UInt8]) -> TokenClaims? {
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(bytes)) else { return nil }
        func time(_ value: Double?) -> Int64?? {
            guard let value else { return .some(nil) }
            guard value.isFinite, value >= 0, value < 1e11 else { return nil }
            return .some(Int64(value))
        }
        guard !wire.sub.isEmpty, !wire.aud.values.isEmpty,
              let exp = time(wire.exp), let expiresAt = exp, let iat = time(wire.iat), let issuedAt = iat,
              let nbf = time(wire.nbf)
        else { return nil }
        return TokenClaims(
            issuer: wire.iss, subject: wire.sub, audience: wire.aud.values, expiresAt: expiresAt, notBefore: nbf,
            issuedAt: issuedAt, tokenID: wire.jti ?? "", scopes: (wire.scope ?? "").split(separator: " ").map(String.init),
            apiKeyID: wire.rkid, peerUID: wire.ruid)
    }

    /// The claims as JSONDecoder reads them (typed: a boolean or string where a number belongs fails).
    private struct Wire: Decodable {
        var iss: String
        var sub: String
        var aud: Audience
        var exp: Double?
        var iat: Double?
        var nbf: Double?
        var jti: String?
        var scope: String?
        var rkid: String?
        var ruid: UInt32?
    }

    /// `aud`: one string or an array of strings (RFC 7519 §4.1.3).
    private struct Audience: Decodable {
        var values: [String]
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) {
                values = [one]
            } else {
                values = try container.decode([String].self)
            }
        }
    }
}

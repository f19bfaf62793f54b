import Foundation

/// JWS compact serialization (RFC 7515 §7.1) restricted to what Rampart accepts: three
/// base64url segments, a JSON-object header with `alg` exactly `EdDSA` (RFC 8037), a `kid`, no
/// `crit`, and `typ` absent or `JWT`. Parsing never trusts the header to choose an algorithm.
public enum JWS {
    /// The only algorithm accepted and emitted.
    public static let algorithm = "EdDSA"

    /// A structurally valid token whose signature has not been checked yet.
    public struct Parsed: Sendable {
        /// The key id from the header.
        public let kid: String
        /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the bytes that were signed.
        public let signingInput: [UInt8]
        /// The decoded payload (claims JSON, not yet parsed).
        public let payload: [UInt8]
        /// The decoded signature.
        public let signature: [UInt8]
    }

    /// Splits, decodes and checks a compact JWS. The failure is a reason class: `malformed`
    /// for the structure, `unsupportedAlgorithm` for any `alg` but EdDSA.
    public static func parse(_ token: [UInt8], maxLength: Int = 8192) -> Result<Parsed, ReasonClass> {
        guard !token.isEmpty, token.count <= maxLength else { return .failure(.malformed) }
        var dots: [Int] = []
        for (i, c) in token.enumerated() where c == UInt8(ascii: ".") {
            dots.append(i)
            if dots.count > 2 { return .failure(.malformed) }
        }
        guard dots.count == 2 else { return .failure(.malformed) }
        let headerPart = token[0..<dots[0]], payloadPart = token[(dots[0] + 1)..<dots[1]]
        let signaturePart = token[(dots[1] + 1)...]
        guard !headerPart.isEmpty, !payloadPart.isEmpty,
              let headerBytes = Base64URL.decode(headerPart), let payload = Base64URL.decode(payloadPart),
              let signature = Base64URL.decode(signaturePart),
              let header = (try? JSONSerialization.jsonObject(with: Data(headerBytes))) as? [String: Any]
        else { return .failure(.malformed) }
        guard let alg = header["alg"] as? String else { return .failure(.malformed) }
        guard alg == algorithm else { return .failure(.unsupportedAlgorithm) }
        guard header["crit"] == nil, header["jku"] == nil, header["jwk"] == nil, header["x5u"] == nil,
              header["x5c"] == nil else { return .failure(.malformed) }
        if let typ = header["typ"] {
            guard let text = typ as? String, text.uppercased() == "JWT" || text.lowercased() == "at+jwt" else {
                return .failure(.malformed)
            }
        }
        guard let kid = header["kid"] as? String, !kid.isEmpty, kid.utf8.count <= 128 else { return .failure(.malformed) }
        guard signature.count == 64 else { return .failure(.badSignature) }
        return .success(Parsed(kid: kid, signingInput: Array(token[0..<dots[1]]), payload: payload, signature: signature))
    }

    /// Signs `payload` with `key` as a compact JWS with header `{"alg":"EdDSA","kid":…,"typ":"JWT"}`.
    public static func sign(payload: [UInt8], kid: String, key: Ed25519Key) throws(AuthError) -> String {
        let headerObject: [String: String] = ["alg": algorithm, "kid": kid, "typ": "JWT"]
        guard let header = try? JSONSerialization.data(withJSONObject: headerObject, options: [.sortedKeys]) else {
            throw AuthError(.invalidArgument, "cannot encode the JWS header")
        }
        let input = Base64URL.encode(Array(header)) + "." + Base64URL.encode(payload)
        let signature = try key.sign(Array(input.utf8))
        return input + "." + Base64URL.encode(signature)
    }
}

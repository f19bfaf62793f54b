/// The credential a call presents, taken from its metadata:
/// `authorization: Bearer <token or API key>` or `x-api-key: <API key>`, plus `x-rampart-totp`.
enum Credential: Sendable {
    case none
    case apiKey([UInt8])
    case token([UInt8])
}

enum CredentialParser {
    /// The call's credential; `malformed` for binary values, oversized values, several
    /// credentials, an unknown scheme or non-printable bytes.
    static func credential(in metadata: [(key: String, value: MetadataValue)], maxBytes: Int) -> Result<Credential, ReasonClass> {
        var found: Credential = .none
        var count = 0
        // Metadata keys are lower-case on the wire (docs/PROTOCOL.md); anything else is not ours.
        for (key, value) in metadata where key == "authorization" || key == "x-api-key" {
            count += 1
            guard count == 1 else { return .failure(.malformed) }
            guard case .text(let text) = value else { return .failure(.malformed) }
            let bytes = Array(text.utf8)
            guard bytes.count <= maxBytes else { return .failure(.malformed) }
            if key == "x-api-key" {
                guard printable(bytes) else { return .failure(.malformed) }
                found = .apiKey(bytes)
                continue
            }
            // RFC 6750 §2.1: "Bearer" (case-insensitive), one space, the credential.
            let scheme = Array("bearer ".utf8)
            guard bytes.count > scheme.count, bytes[0..<scheme.count].map({ $0 | 0x20 }) == scheme.map({ $0 | 0x20 }) else {
                return .failure(.malformed)
            }
            let credential = Array(bytes[scheme.count...])
            guard printable(credential) else { return .failure(.malformed) }
            found = credential.starts(with: Array("rk_".utf8)) ? .apiKey(credential) : .token(credential)
        }
        return .success(found)
    }

    /// Visible ASCII only (no spaces, controls or non-ASCII).
    static func printable(_ bytes: [UInt8]) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// The `x-rampart-totp` code: nil when absent; `.failure` when it is not text.
    static func totp(in metadata: [(key: String, value: MetadataValue)]) -> Result<String?, ReasonClass> {
        var code: String?
        for (key, value) in metadata where key == "x-rampart-totp" {
            guard code == nil, case .text(let text) = value, text.utf8.count <= 16 else { return .failure(.mfaInvalid) }
            code = text
        }
        return .success(code)
    }
}

import COpenSSL

/// HMAC over OpenSSL (`EVP_Q_mac`).
public enum HMAC {
    /// The digest an HMAC uses.
    public enum Digest: String, Sendable {
        /// SHA-1 (TOTP, RFC 6238's default).
        case sha1 = "SHA1"
        /// SHA-256 (API key hashes).
        case sha256 = "SHA256"

        var size: Int { self == .sha1 ? 20 : 32 }
    }

    /// HMAC-`digest`(key, message).
    public static func mac(_ digest: Digest, key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: digest.size)
        var length = 0
        // A zero-length key is legal for HMAC; OpenSSL wants a non-NULL pointer.
        let keyBytes = key.isEmpty ? [0] : key
        let ok = keyBytes.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                EVP_Q_mac(nil, "HMAC", nil, digest.rawValue, nil, k.baseAddress, key.count,
                          m.baseAddress, m.count, &out, out.count, &length)
            }
        }
        // EVP_Q_mac fails only when OpenSSL cannot allocate or lacks SHA: no safe way on.
        guard ok != nil, length == digest.size else { fatalError("OpenSSL HMAC-\(digest.rawValue) failed") }
        return out
    }
}

import RampartCrypto

/// The API key format: `rk_live_<id>_<secret>`, where `<id>` is 12 lower-case hex characters
/// (48 random bits, public: listed, used for lookup and per-key lockout) and `<secret>` is 43
/// base64url characters (256 random bits). The recognisable prefix lets secret scanners find
/// leaked keys.
public enum APIKeyFormat {
    /// The recognisable prefix of every Rampart API key.
    public static let prefix = "rk_live_"
    static let idLength = 12
    static let secretLength = 43

    /// A fresh key and its id.
    static func generate() -> (key: String, id: String) {
        let id = hexString(secureRandomBytes(idLength / 2))
        let secret = Base64URL.encode(secureRandomBytes(32))
        return (prefix + id + "_" + secret, id)
    }

    /// Whether `text` looks like an API key (not whether it is a valid one).
    public static func looksLikeKey(_ text: some StringProtocol) -> Bool { text.hasPrefix("rk_") }

    /// The id of a well-formed key; nil when the shape is wrong.
    public static func keyID(_ key: [UInt8]) -> String? {
        let p = Array(prefix.utf8)
        guard key.count == p.count + idLength + 1 + secretLength, Array(key[0..<p.count]) == p else { return nil }
        let id = key[p.count..<(p.count + idLength)]
        guard id.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }),
              key[p.count + idLength] == UInt8(ascii: "_"),
              Base64URL.decode(key[(p.count + idLength + 1)...])?.count == 32
        else { return nil }
        return String(decoding: id, as: UTF8.self)
    }

    /// Whether `id` has the shape of a key id (for CLI/RPC arguments).
    public static func isKeyID(_ id: String) -> Bool {
        id.utf8.count == idLength && id.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}

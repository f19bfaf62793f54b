import RampartCrypto

/// Helpers for `rampart eval pii`.
public enum EvalSupport {
    /// The last byte of SHA-256(text): a stable, content-based split of evaluation data.
    public static func sha256LastByte(_ text: String) -> UInt8 {
        SHA256.hash(Array(text.utf8)).last ?? 0
    }
}

import RampartCrypto

/// The deterministic development split shared with scripts/train-injection-model.py: a text is
/// held out when the first 8 bytes of SHA-256(UTF-8 text), read big-endian, are 0 modulo 5.
public enum InjectionSplit {
    /// True if `text` belongs to the held-out 20 %.
    public static func isHeldOut(_ text: String) -> Bool {
        let digest = SHA256.hash(Array(text.utf8))
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return value % 5 == 0
    }
}

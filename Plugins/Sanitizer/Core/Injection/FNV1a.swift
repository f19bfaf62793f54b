/// FNV-1a, 64 bit, over bytes: the feature hash (documented in docs/SANITIZER-INJECTION.md and
/// mirrored by scripts/train-injection-model.py).
enum FNV1a {
    static let offset: UInt64 = 0xCBF2_9CE4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01B3

    /// The state after hashing the one-byte namespace `ns`.
    @inline(__always)
    static func start(namespace ns: UInt8) -> UInt64 {
        (offset ^ UInt64(ns)) &* prime
    }

    @inline(__always)
    static func step(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        (hash ^ UInt64(byte)) &* prime
    }
}

import RampartCrypto
import Synchronization

/// A token whose signature and static claims have been verified.
public struct VerifiedToken: Sendable {
    public let kid: String
    public let claims: TokenClaims
}

/// Verified tokens keyed by the SHA-256 of the token (the token itself is never kept), so a
/// repeated request skips the signature check. Bounded: at capacity, expired entries go first,
/// then an arbitrary quarter. Entries carry their `exp`; time-dependent checks (expiry, kid
/// retirement, revocation) still run on every hit.
public final class VerifiedTokenCache: Sendable {
    struct Key: Hashable, Sendable {
        let a: UInt64, b: UInt64, c: UInt64, d: UInt64
        init(_ digest: [UInt8]) {
            func word(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 << 8 | UInt64(digest[i * 8 + $1]) } }
            a = word(0); b = word(1); c = word(2); d = word(3)
        }
    }

    private let capacity: Int
    private let entries = Mutex<[Key: VerifiedToken]>([:])

    /// A cache of at most `capacity` tokens (0 disables caching).
    public init(capacity: Int) { self.capacity = max(0, capacity) }

    /// The cache key of `token`.
    static func key(_ token: [UInt8]) -> Key { Key(SHA256.hash(token)) }

    func lookup(_ key: Key) -> VerifiedToken? {
        guard capacity > 0 else { return nil }
        return entries.withLock { $0[key] }
    }

    func insert(_ key: Key, _ token: VerifiedToken, now: Double) {
        guard capacity > 0 else { return }
        entries.withLock { map in
            if map.count >= capacity {
                map = map.filter { Double($0.value.claims.expiresAt) > now }
                if map.count >= capacity {
                    for k in map.keys.prefix(max(1, capacity / 4)) { map[k] = nil }
                }
            }
            map[key] = token
        }
    }

    /// Drops everything (after a key rotation or store change).
    public func removeAll() { entries.withLock { $0.removeAll() } }

    /// Number of cached tokens.
    public var count: Int { entries.withLock { $0.count } }
}

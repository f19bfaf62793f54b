import Foundation
import RampartCrypto
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The token signing keys: Ed25519 private keys as PKCS#8 PEM files `<directory>/<kid>.pem`
/// (mode 0600) and their lifetimes in the store. The newest key that is not retiring signs;
/// every key verifies until its retire time, so rotation overlaps: tokens signed by the old key
/// stay valid until they expire.
public final class SigningKeyRing: Sendable {
    /// One usable key.
    public struct Entry: Sendable {
        public let info: SigningKeyInfo
        public let key: Ed25519Key
    }

    private struct Snapshot: Sendable {
        var entries: [String: Entry] = [:]
        var activeKid: String?
    }

    /// The directory holding `<kid>.pem` files.
    public let directory: String
    private let store: AuthStore
    private let snapshot = Mutex(Snapshot())

    /// Loads the keys recorded in `store` from `directory` (created 0700 if absent); with
    /// `createIfEmpty`, generates the first key when none can sign.
    public init(directory: String, store: AuthStore, createIfEmpty: Bool, now: Double) throws(AuthError) {
        self.directory = directory
        self.store = store
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw AuthError(.storage, "cannot create the signing key directory \(directory): \(error)")
        }
        try reload()
        if createIfEmpty, activeKey() == nil { _ = try create(now: now) }
    }

    /// Re-reads the store's key list (after a rotation by another process).
    public func reload() throws(AuthError) {
        var next = Snapshot()
        for info in try store.signingKeys() {
            let path = "\(directory)/\(info.kid).pem"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw AuthError(.storage, "signing key \(info.kid) is recorded but \(path) is missing or unreadable")
            }
            var status = stat()
            if stat(path, &status) == 0, status.st_mode & 0o077 != 0 {
                throw AuthError(.storage, "signing key file \(path) is readable by group or others; chmod 600 it")
            }
            next.entries[info.kid] = Entry(info: info, key: try Ed25519Key(privatePEM: Array(data)))
            if info.retireAt == nil { next.activeKid = info.kid }  // oldest first: the newest wins
        }
        snapshot.withLock { $0 = next }
    }

    /// The key that signs new tokens, or nil when every key is retiring.
    public func activeKey() -> Entry? {
        snapshot.withLock { s in s.activeKid.flatMap { s.entries[$0] } }
    }

    /// The key `kid` if it may verify at `now` (known and not past its retire time).
    public func verifyingKey(kid: String, now: Double) -> Ed25519Key? {
        snapshot.withLock { s in
            guard let entry = s.entries[kid] else { return nil }
            if let retireAt = entry.info.retireAt, now >= retireAt { return nil }
            return entry.key
        }
    }

    /// Every known key (for listing / JWKS).
    public func entries() -> [Entry] {
        snapshot.withLock { Array($0.entries.values) }.sorted { $0.info.createdAt < $1.info.createdAt }
    }

    /// Generates a new signing key, writes it and records it; it becomes the active key.
    @discardableResult
    public func create(now: Double) throws(AuthError) -> String {
        let kid = "ed25519-" + hexString(secureRandomBytes(8))
        let key = try Ed25519Key.generate()
        let pem = try key.privatePEM()
        let path = "\(directory)/\(kid).pem"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AuthError(.storage, "cannot create \(path): \(String(cString: strerror(errno)))") }
        let written = pem.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == pem.count else { throw AuthError(.storage, "cannot write \(path)") }
        try store.addSigningKey(kid: kid, now: now)
        try reload()
        return kid
    }

    /// Rotates: a new key signs from now on; every older active key verifies for `overlap` more
    /// seconds (set it to at least the longest token lifetime). Returns the new kid.
    public func rotate(overlap: Double, now: Double) throws(AuthError) -> String {
        let previous = snapshot.withLock { s in s.entries.values.filter { $0.info.retireAt == nil }.map(\.info.kid) }
        let kid = try create(now: now)
        for old in previous { try store.retireSigningKey(kid: old, at: now + overlap) }
        try reload()
        return kid
    }
}

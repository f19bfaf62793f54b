import Foundation
import RampartCrypto

#if canImport(Glibc)
import Glibc
#endif

/// The per-store secret: 32 random bytes in a file of its own (mode 0600), created with the
/// store. API keys are stored as HMAC-SHA256(secret, key), so a stolen database alone does not
/// allow offline guessing; TOTP seeds are sealed with a key derived from it.
enum StoreSecret {
    /// Reads the secret at `path`, creating it (0600, exclusive create) when absent. Refuses a
    /// file of the wrong size or one readable by group or others.
    static func loadOrCreate(at path: String) throws(AuthError) -> [UInt8] {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            let secret = secureRandomBytes(32)
            let written = secret.withUnsafeBytes { write(fd, $0.baseAddress, 32) }
            let synced = fsync(fd)
            close(fd)
            guard written == 32, synced == 0 else {
                unlink(path)
                throw AuthError(.storage, "cannot write the store secret \(path)")
            }
            return secret
        }
        guard errno == EEXIST else { throw AuthError(.storage, "cannot create the store secret \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard stat(path, &info) == 0 else { throw AuthError(.storage, "cannot stat the store secret \(path)") }
        guard info.st_mode & 0o077 == 0 else {
            throw AuthError(.storage, "the store secret \(path) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else {
            throw AuthError(.storage, "the store secret \(path) is unreadable or not 32 bytes")
        }
        return Array(data)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import RampartCrypto

/// POSIX file helpers: bounded reads, atomic 0600/0644 writes, `realpath`.
enum FileSystem {
    static func errnoString(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    static func isType(_ mode: mode_t, _ type: mode_t) -> Bool { mode & S_IFMT == type }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "regular file"
        case S_IFDIR: "directory"
        case S_IFLNK: "symbolic link"
        case S_IFIFO: "FIFO"
        case S_IFSOCK: "socket"
        case S_IFCHR: "character device"
        case S_IFBLK: "block device"
        default: "special file"
        }
    }

    enum ReadFailure: Error {
        case missing
        case tooLarge(Int)
        case notRegular(String)
        case io(String)
    }

    /// Reads a whole regular file, refusing anything larger than `limit` bytes. Opens with
    /// O_NONBLOCK so that a FIFO planted at `path` cannot hang the caller.
    static func readFile(_ path: String, limit: Int) throws(ReadFailure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .missing }
            throw .io(errnoString(code))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(errnoString()) }
        guard isType(info.st_mode, S_IFREG) else { throw .notRegular(kindName(info.st_mode)) }
        if Int(info.st_size) > limit { throw .tooLarge(Int(info.st_size)) }
        var out: [UInt8] = []
        out.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(errnoString())
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw .tooLarge(out.count) }
        }
        return out
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same directory, created with
    /// `mode` (and `fchmod`ed to it, so the umask cannot widen or narrow it), fsynced, then moved
    /// into place. Without `overwrite`, an existing `path` is never replaced (`link(2)` fails).
    static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t, overwrite: Bool) throws(SigningError) {
        if !overwrite {
            var info = stat()
            if lstat(path, &info) == 0 { throw .fileExists(path: path) }
        }
        let temporary = path + ".tmp-" + hexString(secureRandomBytes(6))
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io(path: temporary, reason: "cannot create: \(errnoString())") }
        var committed = false
        defer { if !committed { unlink(temporary) } }
        let failure: SigningError? = {
            defer { close(fd) }
            guard fchmod(fd, mode) == 0 else { return .io(path: temporary, reason: "chmod: \(errnoString())") }
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { buffer -> Int in
                    guard let base = buffer.baseAddress else { return 0 }
                    return write(fd, base + written, buffer.count - written)
                }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return .io(path: temporary, reason: "write: \(errnoString())") }
                written += n
            }
            guard fsync(fd) == 0 else { return .io(path: temporary, reason: "fsync: \(errnoString())") }
            return nil
        }()
        if let failure { throw failure }
        if overwrite {
            guard rename(temporary, path) == 0 else { throw .io(path: path, reason: "rename: \(errnoString())") }
        } else {
            guard link(temporary, path) == 0 else {
                if errno == EEXIST { throw .fileExists(path: path) }
                throw .io(path: path, reason: "link: \(errnoString())")
            }
            unlink(temporary)
        }
        committed = true
    }

    /// The canonical absolute path (symlinks resolved), or nil when it cannot be resolved.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(validatingCString: resolved)
    }

    /// `path` without trailing slashes ("/" stays "/").
    static func trimmingTrailingSlashes(_ path: String) -> String {
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Splits `path` into its directory and last component ("dir/name" → ("dir", "name")).
    static func split(_ path: String) -> (directory: String, name: String) {
        let bytes = Array(trimmingTrailingSlashes(path).utf8)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else {
            return (".", String(decoding: bytes, as: UTF8.self))
        }
        let directory = slash == 0 ? "/" : String(decoding: bytes[..<slash], as: UTF8.self)
        return (directory, String(decoding: bytes[(slash + 1)...], as: UTF8.self))
    }

    static func join(_ directory: String, _ name: String) -> String {
        if name.hasPrefix("/") { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

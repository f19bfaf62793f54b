#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import RampartCrypto

/// A path relative to the model root, as its components.
///
/// Equality, hashing and ordering all work on the components' UTF-8 bytes, never on Swift's
/// Unicode-canonical `String` equality: two file names that differ only in normalization (NFC
/// vs NFD) are different files on disk and must stay different here. Ordering is Python
/// `pathlib`'s: component by component, each compared by code point (= UTF-8 byte order), a
/// proper prefix first. So `a/x` sorts before `a.b` although `"a.b" < "a/x"` as strings.
struct ManifestPath: Hashable, Comparable, Sendable, CustomStringConvertible {
    let components: [String]

    init(components: [String]) { self.components = components }

    /// Parses a canonical relative POSIX path: non-empty components, none `.` or `..`, no
    /// leading or doubled `/`, no trailing `/`, no NUL.
    init?(canonical text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, !bytes.contains(0) else { return nil }
        let parts = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var components: [String] = []
        for part in parts {
            guard !part.isEmpty, !part.elementsEqual([0x2E]), !part.elementsEqual([0x2E, 0x2E]) else { return nil }
            components.append(String(decoding: part, as: UTF8.self))
        }
        self.components = components
    }

    /// Parses a user- or statement-supplied relative path leniently the way `pathlib` normalizes
    /// it (empty and `.` components dropped, trailing `/` ignored); nil when absolute, empty
    /// after normalization, containing `..`, or containing NUL.
    init?(normalizing text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.first != UInt8(ascii: "/"), !bytes.contains(0) else { return nil }
        var components: [String] = []
        for part in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if part.elementsEqual([0x2E]) { continue }
            if part.elementsEqual([0x2E, 0x2E]) { return nil }
            components.append(String(decoding: part, as: UTF8.self))
        }
        guard !components.isEmpty else { return nil }
        self.components = components
    }

    /// The POSIX path text (`a/b/c`).
    var string: String { components.joined(separator: "/") }
    var description: String { string }

    func appending(_ name: String) -> ManifestPath { ManifestPath(components: components + [name]) }

    /// Whether `self` is `prefix` or lies beneath it (pathlib's `is_relative_to`).
    func isWithin(_ prefix: ManifestPath) -> Bool {
        guard prefix.components.count <= components.count else { return false }
        return zip(components, prefix.components).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }

    static func == (lhs: ManifestPath, rhs: ManifestPath) -> Bool {
        lhs.components.count == rhs.components.count
            && zip(lhs.components, rhs.components).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(components.count)
        for component in components {
            hasher.combine(component.utf8.count)
            for byte in component.utf8 { hasher.combine(byte) }
        }
    }

    static func < (lhs: ManifestPath, rhs: ManifestPath) -> Bool {
        for (a, b) in zip(lhs.components, rhs.components) where !a.utf8.elementsEqual(b.utf8) {
            return a.utf8.lexicographicallyPrecedes(b.utf8)
        }
        return lhs.components.count < rhs.components.count
    }
}

/// Walks a model directory the way the reference serializer does (method `files`): every
/// regular file below the root, at any depth, hidden files included, empty directories
/// contributing nothing; ignored paths (relative to the root) are skipped with everything
/// beneath them. Symbolic links are refused unless allowed; when allowed, links to files are
/// hashed through the link and links to directories are not descended (as `pathlib.glob`).
/// FIFOs, sockets and devices are always refused.
///
/// Directories are opened with `openat(O_NOFOLLOW)` relative to their parent, so a directory
/// swapped for a symlink during the walk is refused rather than followed.
struct DirectoryScanner {
    static let maximumDepth = 128
    static let chunkSize = 1 << 20

    let root: String
    let ignored: [ManifestPath]
    let allowSymlinks: Bool

    /// Lists the files to sign or verify, in pathlib order.
    func listFiles() throws(SigningError) -> [ManifestPath] {
        let rootFD = try openRoot()
        defer { close(rootFD) }
        var files: [ManifestPath] = []
        try walk(directory: rootFD, at: ManifestPath(components: []), depth: 0, into: &files)
        return files.sorted()
    }

    /// The SHA-256 of the file at `path` (relative to the root), read in 1 MiB chunks; each
    /// directory on the way is opened with O_NOFOLLOW unless symlinks are allowed.
    private func digest(of path: ManifestPath, rootFD: Int32, buffer: UnsafeMutableRawBufferPointer) throws(SigningError) -> [UInt8] {
        var directory = rootFD
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        let noFollow = allowSymlinks ? 0 : O_NOFOLLOW
        for component in path.components.dropLast() {
            let next = openat(directory, component, O_RDONLY | O_DIRECTORY | O_CLOEXEC | noFollow)
            guard next >= 0 else { throw openFailure(path, errno) }
            opened.append(next)
            directory = next
        }
        guard let name = path.components.last else { throw .io(path: display(path), reason: "empty path") }
        let fd = openat(directory, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | noFollow)
        guard fd >= 0 else { throw openFailure(path, errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(path: display(path), reason: FileSystem.errnoString()) }
        guard FileSystem.isType(info.st_mode, S_IFREG) else {
            throw .unsupportedFileType(path: path.string, kind: FileSystem.kindName(info.st_mode))
        }
        var sha = RampartCrypto.SHA256()
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: display(path), reason: "read: \(FileSystem.errnoString())")
            }
            if n == 0 { break }
            sha.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return sha.finalize()
    }

    /// Hashes every path in order, reusing one buffer.
    func digests(of paths: [ManifestPath]) throws(SigningError) -> [[UInt8]] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: DirectoryScanner.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        let rootFD = try openRoot()
        defer { close(rootFD) }
        var out: [[UInt8]] = []
        out.reserveCapacity(paths.count)
        for path in paths { out.append(try digest(of: path, rootFD: rootFD, buffer: buffer)) }
        return out
    }

    // MARK: -

    private func display(_ path: ManifestPath) -> String { FileSystem.join(root, path.string) }

    private func openFailure(_ path: ManifestPath, _ code: Int32) -> SigningError {
        if code == ELOOP { return .symlinkRefused(path: path.string) }
        if code == ENOENT { return .manifestMismatch([.missing(path: path.string)]) }
        return .io(path: display(path), reason: FileSystem.errnoString(code))
    }

    private func openRoot() throws(SigningError) -> Int32 {
        let path = FileSystem.trimmingTrailingSlashes(root)
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw .io(path: root, reason: FileSystem.errnoString())
        }
        if FileSystem.isType(info.st_mode, S_IFLNK) {
            guard allowSymlinks else { throw .symlinkRefused(path: root) }
            guard stat(path, &info) == 0 else { throw .io(path: root, reason: FileSystem.errnoString()) }
        }
        guard FileSystem.isType(info.st_mode, S_IFDIR) else { throw .notADirectory(path: root) }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (allowSymlinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else { throw .io(path: root, reason: FileSystem.errnoString()) }
        return fd
    }

    private func isIgnored(_ path: ManifestPath) -> Bool {
        ignored.contains { path.isWithin($0) }
    }

    /// The entry names of an open directory (without `.` and `..`).
    private func entryNames(of directory: Int32, at path: ManifestPath) throws(SigningError) -> [String] {
        let duplicate = dup(directory)
        guard duplicate >= 0 else { throw .io(path: display(path), reason: FileSystem.errnoString()) }
        guard let stream = fdopendir(duplicate) else {
            close(duplicate)
            throw .io(path: display(path), reason: FileSystem.errnoString())
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw .io(path: display(path), reason: "readdir: \(FileSystem.errnoString())") }
                break
            }
            let bytes: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let limit = raw.firstIndex(of: 0) ?? raw.count
                return Array(raw[0..<limit])
            }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            guard let name = String(validating: bytes, as: UTF8.self) else {
                let shown = bytes.map { $0 < 0x80 && $0 >= 0x20 ? String(UnicodeScalar($0)) : "\\x" + hexString([$0]) }.joined()
                throw .invalidFileName(directory: path.components.isEmpty ? "." : path.string,
                                       reason: "'\(shown)' is not valid UTF-8")
            }
            names.append(name)
        }
        return names
    }

    private func walk(directory: Int32, at path: ManifestPath, depth: Int, into files: inout [ManifestPath]) throws(SigningError) {
        guard depth < DirectoryScanner.maximumDepth else {
            throw .directoryTooDeep(path: path.string, limit: DirectoryScanner.maximumDepth)
        }
        for name in try entryNames(of: directory, at: path) {
            let child = path.appending(name)
            if isIgnored(child) { continue }
            var info = stat()
            guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw .io(path: display(child), reason: FileSystem.errnoString())
            }
            if FileSystem.isType(info.st_mode, S_IFLNK) {
                guard allowSymlinks else { throw .symlinkRefused(path: child.string) }
                guard fstatat(directory, name, &info, 0) == 0 else {
                    throw .io(path: display(child), reason: "broken symbolic link: \(FileSystem.errnoString())")
                }
                if FileSystem.isType(info.st_mode, S_IFREG) {
                    files.append(child)
                } else if !FileSystem.isType(info.st_mode, S_IFDIR) {
                    throw .unsupportedFileType(path: child.string, kind: FileSystem.kindName(info.st_mode))
                }
                continue  // a link to a directory is not descended (as pathlib.glob("**/*"))
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                files.append(child)
            case S_IFDIR:
                let fd = openat(directory, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
                guard fd >= 0 else {
                    if errno == ELOOP { throw .symlinkRefused(path: child.string) }
                    throw .io(path: display(child), reason: FileSystem.errnoString())
                }
                defer { close(fd) }
                try walk(directory: fd, at: child, depth: depth + 1, into: &files)
            default:
                throw .unsupportedFileType(path: child.string, kind: FileSystem.kindName(info.st_mode))
            }
        }
    }
}

/// Root digest: SHA-256 over the concatenated raw digests, in the listed order.
func rootDigest<Digests: Sequence>(of digests: Digests) -> [UInt8] where Digests.Element == [UInt8] {
    var sha = RampartCrypto.SHA256()
    for digest in digests { sha.update(digest) }
    return sha.finalize()
}

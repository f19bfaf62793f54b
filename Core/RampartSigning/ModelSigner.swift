import RampartCrypto

/// What to leave out of a signature, and whether symlinks may be followed.
public struct SigningOptions: Sendable {
    /// Extra paths to leave out, relative to the model directory (a directory drops everything
    /// beneath it). Recorded in the statement's `ignore_paths`, so verifiers skip them too.
    public var ignorePaths: [String]
    /// Leave out `.git`, `.gitattributes`, `.github` and `.gitignore` at the top level (the
    /// reference tool's default).
    public var ignoreGitPaths: Bool
    /// Follow symbolic links to files instead of refusing them. Recorded as `allow_symlinks`.
    public var allowSymlinks: Bool

    /// The reference tool's defaults: git paths ignored, symlinks refused.
    public init(ignorePaths: [String] = [], ignoreGitPaths: Bool = true, allowSymlinks: Bool = false) {
        self.ignorePaths = ignorePaths
        self.ignoreGitPaths = ignoreGitPaths
        self.allowSymlinks = allowSymlinks
    }
}

/// Signs model (or plugin) directories in the OpenSSF model-signing v1.0 format.
public enum ModelSigner {
    /// Hashes every file of `directory` and signs the resulting statement with `key`.
    ///
    /// - Parameters:
    ///   - directory: The model directory.
    ///   - key: The signing key (P-256, P-384 or P-521).
    ///   - signatureName: Where the signature will be stored: relative to `directory` (default
    ///     `model.sig`) or absolute. When it lies inside the directory it is excluded from the
    ///     manifest and listed in `ignore_paths`. This call does not write it: use
    ///     ``SignatureBundle/write(to:overwrite:)``.
    ///   - options: Ignore paths and symlink policy.
    /// - Returns: The signature bundle, ready to write.
    public static func sign(
        directory: String, key: SigningKey, signatureName: String = ModelSigningFormat.defaultSignatureName,
        options: SigningOptions = SigningOptions()
    ) throws(SigningError) -> SignatureBundle {
        var ignored: [ManifestPath] = []
        if options.ignoreGitPaths {
            ignored += ModelSigningFormat.gitIgnorePaths.compactMap { ManifestPath(normalizing: $0) }
        }
        for path in options.ignorePaths {
            guard let normalized = ManifestPath(normalizing: path) else { throw .invalidIgnorePath(path) }
            ignored.append(normalized)
        }
        let signatureLocation = FileSystem.join(directory, signatureName)
        if let inside = relativeLocation(of: signatureLocation, in: directory) { ignored.append(inside) }
        ignored = Array(Set(ignored)).sorted()

        let scanner = DirectoryScanner(root: directory, ignored: ignored, allowSymlinks: options.allowSymlinks)
        let paths = try scanner.listFiles()
        let digests = try scanner.digests(of: paths)
        let statement = ModelStatement(
            modelName: modelName(of: directory), resources: Array(zip(paths, digests)).map { (path: $0.0, digest: $0.1) },
            ignorePaths: ignored.map(\.string), allowSymlinks: options.allowSymlinks)
        let payload = statement.serialize()
        let signature = try key.sign(ModelSigningFormat.pae(payloadType: ModelSigningFormat.payloadType, payload: payload))
        let hint = key.verifyingKey.hint
        return SignatureBundle(
            bytes: SignatureBundle.encode(statement: payload, signature: signature, hint: hint),
            statement: payload,
            modelName: statement.modelName,
            rootDigest: hexString(statement.rootDigest),
            files: zip(paths, digests).map { FileDigest(path: $0.string, sha256: hexString($1)) },
            ignorePaths: statement.ignorePaths,
            keyHint: hint)
    }

    /// The subject name: the directory's last path component (resolved when it is `.` or `..`).
    static func modelName(of directory: String) -> String {
        let name = FileSystem.split(directory).name
        if !name.isEmpty, name != ".", name != "..", name != "/" { return name }
        guard let resolved = FileSystem.realPath(directory) else { return name }
        let resolvedName = FileSystem.split(resolved).name
        return resolvedName == "/" ? "" : resolvedName
    }
}

/// Where `file` lies inside `directory`, as a relative path, comparing canonical (symlink-resolved)
/// locations; nil when it is outside (or either cannot be resolved).
func relativeLocation(of file: String, in directory: String) -> ManifestPath? {
    guard let directoryReal = FileSystem.realPath(directory) else { return nil }
    let (parent, name) = FileSystem.split(file)
    guard name != ".", name != "..", !name.isEmpty, let parentReal = FileSystem.realPath(parent) else { return nil }
    let directoryBytes = Array(directoryReal.utf8)
    let parentBytes = Array(parentReal.utf8)
    if parentBytes == directoryBytes { return ManifestPath(normalizing: name) }
    let prefix = directoryBytes == [UInt8(ascii: "/")] ? directoryBytes : directoryBytes + [UInt8(ascii: "/")]
    guard parentBytes.starts(with: prefix) else { return nil }
    let remainder = String(decoding: parentBytes[prefix.count...], as: UTF8.self)
    return ManifestPath(normalizing: remainder + "/" + name)
}

import RampartCrypto

/// Verifier-side policy.
public struct VerificationOptions: Sendable {
    /// Follow symlinks to files when the signature says `allow_symlinks: true`. Off by default:
    /// Rampart refuses symlinks in verified directories even if the signer allowed them.
    public var permitSymlinks: Bool

    public init(permitSymlinks: Bool = false) {
        self.permitSymlinks = permitSymlinks
    }
}

/// What a successful verification established.
public struct VerifiedManifest: Sendable {
    /// The trusted key whose signature verified.
    public let key: VerifyingKey
    /// The model name recorded in the statement (informative only; not checked).
    public let modelName: String
    /// The lower-case hex root digest (the subject's sha256).
    public let rootDigest: String
    /// Every signed file with its digest, in the order the statement lists them; the directory
    /// holds exactly these files (outside the ignore paths) with exactly these contents.
    public let files: [FileDigest]
    /// The ignore paths recorded in the statement.
    public let ignorePaths: [String]
}

/// Verifies model (or plugin) directories against OpenSSF model-signing v1.0 signatures. Fail
/// closed: any doubt is a thrown ``SigningError``.
public enum ModelVerifier {
    /// Verifies `directory` against its signature.
    ///
    /// Steps: read the signature file (capped at 16 MiB) → parse the bundle → check `mediaType`
    /// and `payloadType` → pick candidate keys by the key hint (a hint that names no trusted key
    /// is an error; without a hint every trusted key is tried) → verify the ECDSA signature over
    /// the DSSE PAE → parse the statement, check `_type`, `predicateType` and the serialization
    /// → recompute the root digest from the resources → list the files on disk (skipping the
    /// statement's `ignore_paths` and the signature file itself) → the set of files must match
    /// exactly → hash every file and compare digests.
    ///
    /// - Parameters:
    ///   - directory: The model directory.
    ///   - trustedKeys: The public keys to accept signatures from.
    ///   - signaturePath: The signature file; `nil` means `<directory>/model.sig`.
    ///   - options: Verifier-side policy.
    public static func verify(
        directory: String, trustedKeys: [VerifyingKey], signaturePath: String? = nil,
        options: VerificationOptions = VerificationOptions()
    ) throws(SigningError) -> VerifiedManifest {
        guard !trustedKeys.isEmpty else { throw .noTrustedKeys }
        let sigPath = signaturePath ?? FileSystem.join(directory, ModelSigningFormat.defaultSignatureName)
        let bytes = try readSignatureFile(sigPath)
        let (key, statement) = try verifySignature(bundle: bytes, trustedKeys: trustedKeys)

        var ignored: [ManifestPath] = []
        for path in statement.ignorePaths {
            guard let normalized = ManifestPath(normalizing: path) else { throw .invalidIgnorePath(path) }
            ignored.append(normalized)
        }
        if let inside = relativeLocation(of: sigPath, in: directory) { ignored.append(inside) }

        let scanner = DirectoryScanner(root: directory, ignored: ignored,
                                       allowSymlinks: statement.allowSymlinks && options.permitSymlinks)
        let onDisk = try scanner.listFiles()

        // Names first: extra or missing files fail before anything is hashed.
        let signedPaths = Set(statement.resources.map(\.path))
        let diskPaths = Set(onDisk)
        var differences: [ManifestDifference] = []
        for path in statement.resources.map(\.path).sorted() where !diskPaths.contains(path) {
            differences.append(.missing(path: path.string))
        }
        for path in onDisk where !signedPaths.contains(path) {
            differences.append(.unexpected(path: path.string))
        }
        guard differences.isEmpty else { throw .manifestMismatch(differences) }

        let resourcePaths = statement.resources.map(\.path)
        let actual = try scanner.digests(of: resourcePaths)
        for (resource, digest) in zip(statement.resources, actual) where resource.digest != digest {
            differences.append(.modified(path: resource.path.string, expected: hexString(resource.digest),
                                         actual: hexString(digest)))
        }
        guard differences.isEmpty else { throw .manifestMismatch(differences) }

        return VerifiedManifest(
            key: key, modelName: statement.modelName, rootDigest: hexString(statement.rootDigest),
            files: statement.resources.map { FileDigest(path: $0.path.string, sha256: hexString($0.digest)) },
            ignorePaths: statement.ignorePaths)
    }

    /// Checks the bundle and its signature (no file system access): returns the key that
    /// verified and the checked statement.
    static func verifySignature(bundle bytes: [UInt8], trustedKeys: [VerifyingKey]) throws(SigningError)
        -> (VerifyingKey, ModelStatement)
    {
        guard !trustedKeys.isEmpty else { throw .noTrustedKeys }
        let bundle = try ParsedBundle.parse(bytes)
        guard bundle.payloadType == ModelSigningFormat.payloadType else {
            throw .unsupportedPayloadType(bundle.payloadType)
        }
        let candidates: [VerifyingKey]
        if let hint = bundle.hint {
            // The hint is unsigned, but the reference verifier rejects a mismatching one, and a
            // hint that names no trusted key cannot lead to an accepted signature without that.
            candidates = trustedKeys.filter { $0.hint.utf8.elementsEqual(hint.utf8) }
            guard !candidates.isEmpty else {
                throw .keyHintMismatch(hint: hint, trustedHints: trustedKeys.map(\.hint))
            }
        } else {
            candidates = trustedKeys
        }
        let message = ModelSigningFormat.pae(payloadType: ModelSigningFormat.payloadType, payload: bundle.payload)
        var verifiedBy: VerifyingKey?
        search: for key in candidates {
            for signature in bundle.signatures where key.isValidSignature(signature, for: message) {
                verifiedBy = key
                break search
            }
        }
        guard let verifiedBy else { throw .signatureInvalid(triedKeys: candidates.map(\.hint)) }
        return (verifiedBy, try ModelStatement.parse(bundle.payload))
    }

    static func readSignatureFile(_ path: String) throws(SigningError) -> [UInt8] {
        do {
            return try FileSystem.readFile(path, limit: ModelSigningFormat.maximumSignatureFileSize)
        } catch {
            switch error {
            case .missing: throw .signatureFileMissing(path: path)
            case .tooLarge(let size):
                throw .signatureFileTooLarge(path: path, size: size, limit: ModelSigningFormat.maximumSignatureFileSize)
            case .notRegular(let kind): throw .io(path: path, reason: "the signature is a \(kind), not a regular file")
            case .io(let reason): throw .io(path: path, reason: reason)
            }
        }
    }
}

extension VerifiedManifest {
    /// The signed SHA-256 of every file, by relative path (raw digest bytes).
    public var digestsByPath: [String: [UInt8]] {
        var digests: [String: [UInt8]] = [:]
        for file in files {
            if let digest = parseHex(file.sha256, byteCount: 32) { digests[file.path] = digest }
        }
        return digests
    }
}

/// One way in which the files on disk differ from the signed manifest.
public enum ManifestDifference: Sendable, Equatable, CustomStringConvertible {
    /// A signed file whose SHA-256 digest on disk differs from the signed one.
    case modified(path: String, expected: String, actual: String)
    /// A file on disk that the signature does not cover.
    case unexpected(path: String)
    /// A signed file that is absent from disk.
    case missing(path: String)

    /// The relative path the difference is about.
    public var path: String {
        switch self {
        case .modified(let path, _, _), .unexpected(let path), .missing(let path): path
        }
    }

    public var description: String {
        switch self {
        case .modified(let path, let expected, let actual):
            "file '\(path)' was modified: signed sha256 \(expected), on disk \(actual)"
        case .unexpected(let path):
            "file '\(path)' is not covered by the signature (extra file)"
        case .missing(let path):
            "file '\(path)' is signed but missing on disk"
        }
    }
}

/// Every way signing or verification can fail. Verification is fail-closed: any of these means
/// the directory must not be trusted.
public enum SigningError: Error, Sendable, Equatable, CustomStringConvertible {
    // MARK: keys
    /// A key file or PEM text could not be parsed as the expected kind of key.
    case invalidKey(source: String, reason: String)
    /// The key is an EC key on a curve the format does not allow, or not an EC key at all.
    case unsupportedKey(source: String, reason: String)
    /// Refused to overwrite an existing file.
    case fileExists(path: String)

    // MARK: files and directories
    /// A file system operation failed.
    case io(path: String, reason: String)
    /// The path to sign or verify is not a directory.
    case notADirectory(path: String)
    /// A symbolic link was found where symlinks are not allowed.
    case symlinkRefused(path: String)
    /// A FIFO, socket, device or other non-regular file was found.
    case unsupportedFileType(path: String, kind: String)
    /// A file name is not valid UTF-8 (it cannot be named in the manifest).
    case invalidFileName(directory: String, reason: String)
    /// The directory tree is nested deeper than the walker allows.
    case directoryTooDeep(path: String, limit: Int)
    /// An ignore path is absolute, empty, or leaves the model directory.
    case invalidIgnorePath(String)

    // MARK: the signature file (unauthenticated input)
    /// The signature file does not exist.
    case signatureFileMissing(path: String)
    /// The signature file exceeds the size cap.
    case signatureFileTooLarge(path: String, size: Int, limit: Int)
    /// The signature file is not a well-formed bundle (bad JSON, wrong types, bad base64...).
    case malformedBundle(String)
    /// The bundle's `mediaType` is not the Sigstore bundle v0.3 type.
    case unsupportedMediaType(String)
    /// The bundle carries certificate-based or other unsupported verification material.
    case unsupportedVerificationMaterial(String)
    /// The DSSE `payloadType` is not `application/vnd.in-toto+json`.
    case unsupportedPayloadType(String)
    /// The DSSE envelope has no signatures.
    case noSignatures
    /// The bundle's public key hint names a key that is not among the trusted keys.
    case keyHintMismatch(hint: String, trustedHints: [String])
    /// No trusted key verifies the DSSE signature.
    case signatureInvalid(triedKeys: [String])
    /// No trusted keys were supplied.
    case noTrustedKeys

    // MARK: the statement (authenticated, but still checked)
    /// The signed payload is not a well-formed in-toto statement of the expected shape.
    case malformedStatement(String)
    /// The statement's `_type` is not `https://in-toto.io/Statement/v1`.
    case unsupportedStatementType(String)
    /// The statement's `predicateType` is not `https://model_signing/signature/v1.0`.
    case unsupportedPredicateType(String)
    /// The serialization method, hash type or resource algorithm is not supported.
    case unsupportedSerialization(String)
    /// The subject's root digest does not match the digest computed over the resources.
    case rootDigestMismatch(signed: String, computed: String)

    // MARK: integrity
    /// The files on disk do not match the signed manifest.
    case manifestMismatch([ManifestDifference])

    // MARK: crypto
    /// OpenSSL reported an internal failure.
    case crypto(String)

    public var description: String {
        switch self {
        case .invalidKey(let source, let reason):
            return "invalid key \(source): \(reason)"
        case .unsupportedKey(let source, let reason):
            return "unsupported key \(source): \(reason)"
        case .fileExists(let path):
            return "\(path) already exists; refusing to overwrite it"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        case .notADirectory(let path):
            return "\(path) is not a directory"
        case .symlinkRefused(let path):
            return "'\(path)' is a symbolic link; symlinks are not allowed (allow_symlinks is false)"
        case .unsupportedFileType(let path, let kind):
            return "'\(path)' is a \(kind); only regular files and directories can be signed"
        case .invalidFileName(let directory, let reason):
            return "a file name in '\(directory)' cannot be used: \(reason)"
        case .directoryTooDeep(let path, let limit):
            return "'\(path)' is nested more than \(limit) directories deep"
        case .invalidIgnorePath(let path):
            return "ignore path '\(path)' must be a relative path inside the model directory"
        case .signatureFileMissing(let path):
            return "signature file \(path) does not exist"
        case .signatureFileTooLarge(let path, let size, let limit):
            return "signature file \(path) is \(size) bytes; the limit is \(limit) bytes"
        case .malformedBundle(let reason):
            return "malformed signature bundle: \(reason)"
        case .unsupportedMediaType(let found):
            return "unsupported bundle mediaType '\(found)' (expected '\(ModelSigningFormat.bundleMediaType)')"
        case .unsupportedVerificationMaterial(let reason):
            return "unsupported verification material: \(reason)"
        case .unsupportedPayloadType(let found):
            return "unsupported DSSE payloadType '\(found)' (expected '\(ModelSigningFormat.payloadType)')"
        case .noSignatures:
            return "the DSSE envelope carries no signatures"
        case .keyHintMismatch(let hint, let trusted):
            return "the signature names public key \(hint), which is not a trusted key (trusted: \(trusted.joined(separator: ", ")))"
        case .signatureInvalid(let tried):
            return "signature verification failed: no trusted key verifies the DSSE signature (tried \(tried.joined(separator: ", ")))"
        case .noTrustedKeys:
            return "no trusted public keys were given"
        case .malformedStatement(let reason):
            return "malformed in-toto statement: \(reason)"
        case .unsupportedStatementType(let found):
            return "unsupported in-toto _type '\(found)' (expected '\(ModelSigningFormat.statementType)')"
        case .unsupportedPredicateType(let found):
            return "unsupported predicateType '\(found)' (expected '\(ModelSigningFormat.predicateType)')"
        case .unsupportedSerialization(let reason):
            return "unsupported serialization: \(reason)"
        case .rootDigestMismatch(let signed, let computed):
            return "root digest mismatch: the subject says sha256 \(signed), the resources hash to \(computed)"
        case .manifestMismatch(let differences):
            let shown = differences.prefix(20).map { "  - \($0)" }
            let more = differences.count > 20 ? ["  - ... and \(differences.count - 20) more"] : []
            return "the directory does not match the signature (\(differences.count) difference\(differences.count == 1 ? "" : "s")):\n"
                + (shown + more).joined(separator: "\n")
        case .crypto(let reason):
            return "cryptographic failure: \(reason)"
        }
    }
}

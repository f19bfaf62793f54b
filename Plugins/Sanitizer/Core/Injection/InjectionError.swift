import RampartSigning

/// Why the injection detector refused to load. Loading fails closed: a detector is never built
/// from an artifact that did not verify or parse completely.
public enum InjectionDetectorError: Error, Sendable, CustomStringConvertible {
    /// The bundled artifact directory could not be found next to the executable.
    case artifactNotFound(String)
    /// The public key is not a usable ECDSA public key PEM.
    case invalidPublicKey(SigningError)
    /// The artifact's signature or its per-file digests do not verify.
    case signatureInvalid(SigningError)
    /// A file the detector needs is not covered by the signature.
    case fileNotSigned(String)
    /// A file changed between signature verification and loading (its bytes no longer match the
    /// signed digest).
    case digestMismatch(file: String, signed: String, actual: String)
    /// A file could not be read.
    case unreadable(file: String, reason: String)
    /// config.json, rules.json or the weights are malformed.
    case malformedArtifact(file: String, reason: String)
    /// Hyperscan refused a rule pattern (the rule id and Hyperscan's message).
    case ruleCompilation(rule: String, message: String)
    /// Hyperscan could not allocate its scratch space or database.
    case hyperscan(String)

    /// A stable code for logs and audit events.
    public var code: String {
        switch self {
        case .artifactNotFound: "injection.artifact_not_found"
        case .invalidPublicKey: "injection.invalid_public_key"
        case .signatureInvalid: "injection.signature_invalid"
        case .fileNotSigned: "injection.file_not_signed"
        case .digestMismatch: "injection.digest_mismatch"
        case .unreadable: "injection.unreadable"
        case .malformedArtifact: "injection.malformed_artifact"
        case .ruleCompilation: "injection.rule_compilation"
        case .hyperscan: "injection.hyperscan"
        }
    }

    public var description: String {
        switch self {
        case .artifactNotFound(let path): "injection model artifact not found (looked for \(path))"
        case .invalidPublicKey(let error): "injection model public key is invalid: \(error)"
        case .signatureInvalid(let error): "injection model signature does not verify: \(error)"
        case .fileNotSigned(let file): "injection model file '\(file)' is not covered by the signature"
        case .digestMismatch(let file, let signed, let actual):
            "injection model file '\(file)' changed after verification: signed sha256 \(signed), read \(actual)"
        case .unreadable(let file, let reason): "cannot read injection model file '\(file)': \(reason)"
        case .malformedArtifact(let file, let reason): "malformed injection model file '\(file)': \(reason)"
        case .ruleCompilation(let rule, let message): "Hyperscan refused rule '\(rule)': \(message)"
        case .hyperscan(let message): "Hyperscan: \(message)"
        }
    }
}

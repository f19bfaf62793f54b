import RampartCore

/// Why the embedded model could not be loaded or could not generate.
///
/// Loading never crashes on a damaged artifact: every check of the manifest, the JSON
/// files and the binary weights ends in one of these cases, with a message that names
/// the file and, for the weights, the section, offset and sizes involved.
public enum BuiltinModelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The artifact directory does not exist or is not a directory.
    case artifactNotFound(path: String)
    /// A file exists but could not be read.
    case unreadableFile(path: String, reason: String)
    /// `manifest.json` is not a valid manifest.
    case invalidManifest(String)
    /// A file listed in the manifest (or the manifest itself) is absent.
    case missingFile(String)
    /// The directory holds a file that the manifest does not list.
    case unexpectedFile(String)
    /// A file's size differs from the manifest.
    case sizeMismatch(file: String, expected: Int, actual: Int)
    /// A file's SHA-256 differs from the manifest.
    case digestMismatch(file: String, expected: String, actual: String)
    /// `config.json` is malformed or inconsistent with the other files.
    case invalidConfig(String)
    /// `tokenizer.json` is malformed.
    case invalidTokenizer(String)
    /// `weights.bin` is malformed: truncated, out-of-range values, bad structure.
    case invalidWeights(String)
    /// The prompt does not leave room for a single completion token.
    case promptTooLong(tokens: Int, limit: Int)
    /// After the logits hook and the logit bias every token had logit -inf (or NaN).
    case noViableToken(step: Int)

    /// A one-line message naming the file, section or limit involved.
    public var description: String {
        switch self {
        case .artifactNotFound(let path):
            "builtin model: artifact directory not found: \(path)"
        case .unreadableFile(let path, let reason):
            "builtin model: cannot read \(path): \(reason)"
        case .invalidManifest(let message):
            "builtin model: invalid manifest.json: \(message)"
        case .missingFile(let name):
            "builtin model: missing file \(name)"
        case .unexpectedFile(let name):
            "builtin model: unexpected file \(name) (not listed in manifest.json)"
        case .sizeMismatch(let file, let expected, let actual):
            "builtin model: \(file) has \(actual) bytes, manifest.json says \(expected)"
        case .digestMismatch(let file, let expected, let actual):
            "builtin model: \(file) has SHA-256 \(actual), manifest.json says \(expected)"
        case .invalidConfig(let message):
            "builtin model: invalid config.json: \(message)"
        case .invalidTokenizer(let message):
            "builtin model: invalid tokenizer: \(message)"
        case .invalidWeights(let message):
            "builtin model: invalid weights: \(message)"
        case .promptTooLong(let tokens, let limit):
            "builtin model: prompt has \(tokens) tokens, the context holds \(limit)"
        case .noViableToken(let step):
            "builtin model: no selectable token at step \(step) (all logits -inf or NaN after hook and bias)"
        }
    }
}

extension BuiltinModelError: StatusCodeConvertible {
    /// Request-caused errors are INVALID_ARGUMENT; artifact problems are INTERNAL.
    public var statusCode: StatusCode {
        switch self {
        case .promptTooLong, .noViableToken: .invalidArgument
        default: .internal
        }
    }
}

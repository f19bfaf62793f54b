/// A failure of the auth store, its configuration or its crypto (not a refused request: a refused
/// request is an ``AuthDecision``).
public struct AuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable {
        /// The configuration cannot be used.
        case invalidConfig = "invalid_config"
        /// An argument is malformed or out of range.
        case invalidArgument = "invalid_argument"
        /// A principal, key or signing key does not exist.
        case notFound = "not_found"
        /// The object already exists.
        case alreadyExists = "already_exists"
        /// The store file or a key file cannot be used.
        case storage = "storage"
        /// OpenSSL failed.
        case crypto = "crypto"
    }

    /// The failure's kind.
    public var code: Code
    /// A message for the operator (never secret material).
    public var message: String

    /// An error of kind `code`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

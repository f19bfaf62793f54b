import RampartCrypto

/// A per-request canary token hidden in the system prompt; seeing it in the output means the
/// model is leaking its system prompt.
public struct Canary: Sendable, Equatable {
    /// The token (`rmpc-` + 16 random hex digits).
    public let token: String

    /// A fresh random canary.
    public init() {
        token = "rmpc-" + hexString(secureRandomBytes(8))
    }

    /// A fixed canary (tests).
    public init(token: String) {
        self.token = token
    }

    /// The line appended to the system prompt.
    public var systemLine: String { "\n<!-- \(token) -->" }

    /// `system` with the canary line appended.
    public func insert(into system: String) -> String { system + systemLine }

    /// Whether `text` contains the token (also with invisible characters or lookalikes inside).
    public func leaked(in text: String) -> Bool {
        if text.contains(token) { return true }
        return UnicodeHygiene.asciiFastPath(text) == nil && UnicodeHygiene.detectionForm(text).contains(token)
    }
}

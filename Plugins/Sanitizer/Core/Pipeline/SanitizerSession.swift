/// Per-stream state of the sanitizer: the request's canary, placeholder vault, tool schemas and
/// output tail. Created for each call and dropped at its end; never shared between calls.
public final class SanitizerSession: @unchecked Sendable {
    public let vault = RedactionVault()
    public internal(set) var canary: Canary?
    /// The request's tools by name (compiled schemas), for checking the model's tool calls.
    public internal(set) var tools: [String: JSONSchema] = [:]
    public internal(set) var output: StreamRedactor?
    /// What was noticed (for annotations and audit).
    public internal(set) var findings: [SanitizerFinding] = []
    /// Flags the plugin glue keeps per stream.
    public var markers: Set<String> = []

    public init() {}

    /// Forgets the vault's originals (end of stream).
    public func close() {
        vault.clear()
        output = nil
    }
}

/// The result of sanitizing a request.
public struct RequestOutcome: Sendable, Equatable {
    /// The request to forward (equal to the input when nothing changed).
    public var request: RequestInput
    /// Whether ``request`` differs from the input.
    public var changed: Bool
    public var findings: [SanitizerFinding]
}

/// The result of checking a complete (unary) output.
public struct OutputOutcome: Sendable, Equatable {
    public var text: String
    public var changed: Bool
    public var findings: [SanitizerFinding]
}

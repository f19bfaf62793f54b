/// An error a plugin throws from `init(config:host:)` or a hook.
///
/// The kit returns ``status`` to the host as the hook's `rp_status` and hands ``message`` to
/// `set_error`, so the text reaches the operator (e.g. `plugin guard: create failed (status 3):
/// <message>`). Throwing is for *failures*; refusing a request is a ``Rampart_V1_Verdict/deny(code:message:retryAfterMs:)``
/// verdict, not an error. Any other error type thrown by a plugin is reported as `.internal`
/// with its description.
public struct PluginError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The non-OK `rp_status` codes a plugin may return.
    public enum Status: UInt32, Sendable {
        /// `RP_ERR_INVALID_ARGUMENT`: bad configuration or input.
        case invalidArgument = 3
        /// `RP_ERR_FAILED_PRECONDITION`: the plugin is not in a state to do this.
        case failedPrecondition = 9
        /// `RP_ERR_UNIMPLEMENTED`: not supported.
        case unimplemented = 12
        /// `RP_ERR_INTERNAL`: a bug or an unexpected failure.
        case `internal` = 13
        /// `RP_ERR_UNAVAILABLE`: a dependency is temporarily unavailable.
        case unavailable = 14
        // The codes below are answers of plugin-served methods (ABI 1.1), which reach the client.
        /// NOT_FOUND (5).
        case notFound = 5
        /// ALREADY_EXISTS (6).
        case alreadyExists = 6
        /// PERMISSION_DENIED (7).
        case permissionDenied = 7
        /// RESOURCE_EXHAUSTED (8).
        case resourceExhausted = 8
        /// UNAUTHENTICATED (16).
        case unauthenticated = 16
    }

    /// The status returned to the host.
    public var status: Status
    /// The text handed to the operator (the host keeps at most 4096 bytes).
    public var message: String

    /// An error with an explicit status.
    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// `RP_ERR_INVALID_ARGUMENT`, e.g. for a configuration the plugin cannot use.
    public static func invalidArgument(_ message: String) -> PluginError { PluginError(.invalidArgument, message) }
    /// `RP_ERR_FAILED_PRECONDITION`.
    public static func failedPrecondition(_ message: String) -> PluginError { PluginError(.failedPrecondition, message) }
    /// `RP_ERR_UNIMPLEMENTED`.
    public static func unimplemented(_ message: String) -> PluginError { PluginError(.unimplemented, message) }
    /// `RP_ERR_INTERNAL`.
    public static func `internal`(_ message: String) -> PluginError { PluginError(.internal, message) }
    /// `RP_ERR_UNAVAILABLE`.
    public static func unavailable(_ message: String) -> PluginError { PluginError(.unavailable, message) }

    /// NOT_FOUND, for a plugin-served method.
    public static func notFound(_ message: String) -> PluginError { PluginError(.notFound, message) }
    /// PERMISSION_DENIED, for a plugin-served method.
    public static func permissionDenied(_ message: String) -> PluginError { PluginError(.permissionDenied, message) }
    /// UNAUTHENTICATED, for a plugin-served method.
    public static func unauthenticated(_ message: String) -> PluginError { PluginError(.unauthenticated, message) }

    public var description: String { "\(status) (\(status.rawValue)): \(message)" }
}

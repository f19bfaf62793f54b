import RampartCore
import RampartProto

/// Which hooks a plugin implements.
public struct ChainHooks: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let request = ChainHooks(rawValue: 1 << 0)
    public static let response = ChainHooks(rawValue: 1 << 1)
    public static let chunk = ChainHooks(rawValue: 1 << 2)
    public static let logits = ChainHooks(rawValue: 1 << 3)
    public static let streamEnd = ChainHooks(rawValue: 1 << 4)
}

/// What a chunk hook decided about a piece of generated text.
public enum ChunkDecision: Sendable, Equatable {
    case pass
    case replace(String)
    case stop
}

/// A plugin as the chain sees it: in-process behind the C ABI, in a child process, or a test fake.
/// Errors thrown by any hook are plugin *failures* (the stage's failure mode applies); decisions
/// are verdicts.
public protocol ChainPlugin: Sendable {
    var name: String { get }
    var hooks: ChainHooks { get }
    /// Whether the request hook runs for every RPC, not only inference calls (ABI 1.1
    /// `RP_CAP_ALL_METHODS`: authentication and authorization plugins).
    var seesAllMethods: Bool { get }
    /// Fully-qualified methods this plugin serves (ABI 1.1), e.g. `"rampart.v1.Auth/IssueToken"`.
    var methods: [String] { get }
    /// Per-call state; called once per call before its first hook. `environment` is the call's
    /// host services (the audit trail) for this plugin.
    func openStream(_ environment: ChainEnvironment) throws -> any ChainPluginStream
}

extension ChainPlugin {
    public var seesAllMethods: Bool { false }
    public var methods: [String] { [] }
}

/// One call's view of a plugin. Calls on one stream are serialized by the chain.
public protocol ChainPluginStream: AnyObject {
    /// Inspects a request (`input.kind == .request`): its fields, or `input.encoded()` for the
    /// `PluginRequest` protobuf.
    func onRequest(_ input: HookInput) throws -> Rampart_V1_Verdict
    /// Inspects a complete unary response (`PluginResponse`).
    func onResponse(_ input: HookInput) throws -> Rampart_V1_Verdict
    /// The request hook as the chain calls it: a plugin that answers through host calls returns
    /// the answer as it is (no `Verdict` built). Defaults to ``onRequest(_:)``.
    func decideRequest(_ input: HookInput) throws -> HookDecision
    /// The response hook as the chain calls it. Defaults to ``onResponse(_:)``.
    func decideResponse(_ input: HookInput) throws -> HookDecision
    func onChunk(_ text: String) throws -> ChunkDecision
    func onLogits(_ logits: UnsafeMutableBufferPointer<Float>, previous: UnsafeBufferPointer<Int32>) throws
    /// Learns how the call ended (`input.ending`, or the `StreamSummary` protobuf).
    func onStreamEnd(_ input: HookInput) throws
    /// Serves one call (a serialized `PluginMethodCall`) to a method in ``ChainPlugin/methods``;
    /// returns the serialized response message. Throw an error with a status code
    /// (``StatusCodeConvertible``) for a non-OK answer.
    func onMethod(_ call: [UInt8]) throws -> [UInt8]
    /// Releases per-call state. Called exactly once.
    func close()
}

extension ChainPluginStream {
    public func onRequest(_ input: HookInput) throws -> Rampart_V1_Verdict { Rampart_V1_Verdict() }
    public func onResponse(_ input: HookInput) throws -> Rampart_V1_Verdict { Rampart_V1_Verdict() }
    public func decideRequest(_ input: HookInput) throws -> HookDecision { .verdict(try onRequest(input)) }
    public func decideResponse(_ input: HookInput) throws -> HookDecision { .verdict(try onResponse(input)) }
    public func onChunk(_ text: String) throws -> ChunkDecision { .pass }
    public func onLogits(_ logits: UnsafeMutableBufferPointer<Float>, previous: UnsafeBufferPointer<Int32>) throws {}
    public func onStreamEnd(_ input: HookInput) throws {}
    public func onMethod(_ call: [UInt8]) throws -> [UInt8] { throw RPCError(.unimplemented, "this plugin serves no methods") }
    public func close() {}
}

import RampartProto

/// A Rampart plugin written in Swift.
///
/// Implement this protocol on a `final class`, declare the hooks you implement in ``hooks``, and
/// export the type from your library with ``PluginExport/descriptor(for:hostMajor:hostMinor:)``:
///
/// ```swift
/// @_cdecl("rampart_plugin_v1")
/// public func rampartPluginV1(_ major: UInt16, _ minor: UInt16) -> UnsafeRawPointer? {
///     PluginExport.descriptor(for: MyPlugin.self, hostMajor: major, hostMinor: minor)
/// }
/// ```
///
/// The kit turns every hook call into a call of the matching method below: it decodes the
/// protobuf input, calls the method, encodes the returned ``Rampart_V1_Verdict`` into the host's
/// buffer, and turns a thrown error into a non-OK status whose message reaches the operator.
///
/// Threading: a plugin without ``isThreadSafe`` is called by one thread at a time (the host
/// serializes every call into the instance), but not always by the same thread, hence `Sendable`.
/// With ``isThreadSafe`` the host may call it concurrently for different streams.
public protocol RampartPlugin: AnyObject, Sendable {
    /// The plugin's name (1 to 64 bytes, e.g. `"keyword-guard"`).
    static var name: String { get }
    /// The plugin's version (e.g. `"1.2.0"`).
    static var version: String { get }
    /// The hooks this type implements. Only these are registered with the host; the others are
    /// never called. Declare `.streamState` to have ``makeStreamState(context:)`` called.
    static var hooks: PluginHooks { get }
    /// Whether one instance may be called concurrently for different streams
    /// (`RP_CAP_THREADSAFE`). Defaults to `false`.
    static var isThreadSafe: Bool { get }
    /// Whether ``onRequest(_:context:)`` is called for every RPC, not only inference calls
    /// (ABI 1.1 `RP_CAP_ALL_METHODS`): Health, Admin and plugin-served methods too, with
    /// `request.context.method` naming the method and `request.body` holding its message.
    /// Authentication and authorization plugins set it. Defaults to `false`.
    static var seesAllMethods: Bool { get }
    /// Fully-qualified methods this plugin serves (ABI 1.1), e.g. `"rampart.v1.Auth/IssueToken"`.
    /// The host routes unary calls to ``onMethod(_:context:)`` after every request hook
    /// (authentication, RBAC) passed. Defaults to none.
    static var methods: [String] { get }
    /// Whether ``onRequest(_:context:)`` needs the prompt, the messages and `request.body`.
    /// Plugins that decide from who is calling and the sampling parameters alone —
    /// authentication, rate limits — return `false`: the kit then skips decoding the prompt and
    /// messages (`request.request` keeps only `params`, `model` and `clientRequestID`), so their
    /// cost does not grow with the prompt. Asked on every request; defaults to `true`.
    var decodesRequestBody: Bool { get }

    /// Creates an instance from the opaque config bytes of the host configuration.
    ///
    /// Throw a ``PluginError`` to refuse the configuration; its message is shown to the operator.
    /// `host` is valid only during this call.
    init(config: [UInt8], host: PluginHost) throws

    /// Creates per-stream state, called before the first hook of each call when ``hooks``
    /// contains `.streamState`. The object is handed to every hook of that stream as
    /// ``PluginCallContext/streamState`` and released when the stream ends.
    func makeStreamState(context: PluginCallContext) throws -> AnyObject?

    /// Inspects a request before the backend runs (hook `.request`).
    func onRequest(_ request: Rampart_V1_PluginRequest, context: PluginCallContext) throws -> Rampart_V1_Verdict

    /// Inspects a request through a field-by-field view, with no protobuf message built (hook
    /// `.request`): the kit calls this one. The default builds the `PluginRequest` (whole, or
    /// the header view per ``decodesRequestBody``) and calls the `PluginRequest` variant; a
    /// plugin on the hot path (authentication, limits) implements this instead.
    func onRequest(_ view: RequestView, context: PluginCallContext) throws -> Rampart_V1_Verdict

    /// Inspects a complete unary response (hook `.response`).
    func onResponse(_ response: Rampart_V1_PluginResponse, context: PluginCallContext) throws -> Rampart_V1_Verdict

    /// Inspects one piece of streamed text (hook `.chunk`). Called once per chunk released from
    /// the host's hold-back window; keep it fast.
    func onChunk(_ text: String, context: PluginCallContext) throws -> ChunkAction

    /// Reads or modifies the next-token logits in place before sampling (hook `.logits`).
    ///
    /// Both buffers are host memory valid only during the call: never keep them. This runs on
    /// the generating thread for every token: no I/O, no locks that can block.
    func onLogits(_ logits: UnsafeMutableBufferPointer<Float>, previous: UnsafeBufferPointer<Int32>,
                  context: PluginCallContext) throws

    /// Learns how a call ended (hook `.streamEnd`). No verdict.
    func onStreamEnd(_ summary: Rampart_V1_StreamSummary, context: PluginCallContext) throws

    /// Learns how a call ended from its numbers alone (hook `.streamEnd`), with no protobuf
    /// built: the kit calls this one. The default builds the whole summary and calls
    /// the `StreamSummary` variant; a plugin that needs only the
    /// status and usage (a token budget's refund) implements this instead.
    func onStreamEnd(_ ending: StreamEnding, context: PluginCallContext) throws

    /// Serves one call to a method in ``methods``: `call.body` is the serialized request
    /// message; return the serialized response message. Throw a ``PluginError`` (e.g.
    /// ``PluginError/unauthenticated(_:)``, ``PluginError/notFound(_:)``) to answer with that
    /// status; its message reaches the client, so never put secrets in it.
    func onMethod(_ call: Rampart_V1_PluginMethodCall, context: PluginCallContext) throws -> [UInt8]
}

extension RampartPlugin {
    /// Not thread-safe: the host serializes calls into the instance.
    public static var isThreadSafe: Bool { false }

    /// Only inference calls.
    public static var seesAllMethods: Bool { false }

    /// No methods.
    public static var methods: [String] { [] }

    /// The whole request is decoded.
    public var decodesRequestBody: Bool { true }

    /// UNIMPLEMENTED.
    public func onMethod(_ call: Rampart_V1_PluginMethodCall, context: PluginCallContext) throws -> [UInt8] {
        throw PluginError.unimplemented("\(Self.name) serves no methods")
    }

    /// No per-stream state.
    public func makeStreamState(context: PluginCallContext) throws -> AnyObject? { nil }

    /// Passes.
    public func onRequest(_ request: Rampart_V1_PluginRequest, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        .pass
    }

    /// Builds the `PluginRequest` and calls the `PluginRequest` variant.
    public func onRequest(_ view: RequestView, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        try onRequest(try view.pluginRequest(), context: context)
    }

    /// Passes.
    public func onResponse(_ response: Rampart_V1_PluginResponse, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        .pass
    }

    /// Lets the chunk through.
    public func onChunk(_ text: String, context: PluginCallContext) throws -> ChunkAction { .pass }

    /// Leaves the logits alone.
    public func onLogits(_ logits: UnsafeMutableBufferPointer<Float>, previous: UnsafeBufferPointer<Int32>,
                         context: PluginCallContext) throws {}

    /// Does nothing.
    public func onStreamEnd(_ summary: Rampart_V1_StreamSummary, context: PluginCallContext) throws {}

    /// Builds the whole summary and calls the protobuf variant.
    public func onStreamEnd(_ ending: StreamEnding, context: PluginCallContext) throws {
        try onStreamEnd(try ending.summary(), context: context)
    }
}

/// The hooks a plugin implements; they become the descriptor's `RP_CAP_HOOK_*` flags and the
/// non-NULL hook pointers.
public struct PluginHooks: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// ``RampartPlugin/onRequest(_:context:)`` (`on_request`, `RP_CAP_HOOK_REQUEST`).
    public static let request = PluginHooks(rawValue: 1 << 0)
    /// ``RampartPlugin/onResponse(_:context:)`` (`on_response`, `RP_CAP_HOOK_RESPONSE`).
    public static let response = PluginHooks(rawValue: 1 << 1)
    /// ``RampartPlugin/onChunk(_:context:)`` (`on_chunk`, `RP_CAP_HOOK_CHUNK`).
    public static let chunk = PluginHooks(rawValue: 1 << 2)
    /// ``RampartPlugin/onLogits(_:previous:context:)`` (`on_logits`, `RP_CAP_HOOK_LOGITS`).
    public static let logits = PluginHooks(rawValue: 1 << 3)
    /// ``RampartPlugin/onStreamEnd(_:context:)`` (`on_stream_end`, `RP_CAP_HOOK_STREAM_END`).
    public static let streamEnd = PluginHooks(rawValue: 1 << 4)
    /// ``RampartPlugin/makeStreamState(context:)`` (`stream_new`/`stream_free`; no flag).
    public static let streamState = PluginHooks(rawValue: 1 << 5)
}

/// What ``RampartPlugin/onChunk(_:context:)`` decided about a piece of streamed text.
public enum ChunkAction: Sendable, Equatable {
    /// Let the chunk through unchanged.
    case pass
    /// Replace the chunk with this text (empty drops it).
    case replace(String)
    /// Stop the stream: the client receives nothing more and an error trailer.
    case stop
}

/// How a call ended: its status and usage, read without protobuf (ABI 1.2 fields).
/// ``summary()`` builds the whole `StreamSummary` (context, principal) when needed.
/// Valid only during the hook call.
public struct StreamEnding {
    /// The call's final gRPC status (0 = OK).
    public let statusCode: Int32
    public let finishReason: Rampart_V1_FinishReason
    public let promptTokens: UInt32
    public let completionTokens: UInt32
    /// Bytes of text delivered to the client.
    public let deliveredBytes: UInt64
    private let full: () throws -> Rampart_V1_StreamSummary

    init(statusCode: Int32, finishReason: Rampart_V1_FinishReason, promptTokens: UInt32, completionTokens: UInt32,
         deliveredBytes: UInt64, full: @escaping () throws -> Rampart_V1_StreamSummary) {
        self.statusCode = statusCode
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.deliveredBytes = deliveredBytes
        self.full = full
    }

    init(_ summary: Rampart_V1_StreamSummary) {
        self.init(statusCode: summary.statusCode, finishReason: summary.finishReason, promptTokens: summary.usage.promptTokens,
                  completionTokens: summary.usage.completionTokens, deliveredBytes: summary.deliveredBytes, full: { summary })
    }

    /// The whole `StreamSummary` of the call.
    public func summary() throws -> Rampart_V1_StreamSummary { try full() }
}

@available(*, unavailable, message: "a StreamEnding is valid only during its call, on the calling thread")
extension StreamEnding: Sendable {}

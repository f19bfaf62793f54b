import CRampartPlugin
import Foundation
import RampartAudit
import RampartChain
import RampartProto
import SwiftProtobuf
import Synchronization

/// A created plugin instance behind the C ABI. Calls are serialized by a lock unless the
/// plugin declares `RP_CAP_THREADSAFE`.
public final class NativePlugin: @unchecked Sendable {
    public let name: String
    public let info: PluginInfo
    private let descriptor: UnsafePointer<rp_plugin_v1>
    private let instance: UnsafeMutableRawPointer?
    private let signals: SignalStore
    private let log: @Sendable (PluginLogLevel, String) -> Void
    /// Where events emitted outside a call (from `create`) go.
    private let audit: any AuditSink
    private let lock = NSLock()
    /// Largest verdict a hook may write.
    static let verdictLimit = 16 << 20

    /// Creates an instance with its opaque config bytes. `create`'s error text reaches the caller.
    public init(library: LoadedLibrary, name: String, config: [UInt8], signals: SignalStore,
                audit: any AuditSink = DiscardAuditSink(),
                log: @escaping @Sendable (PluginLogLevel, String) -> Void) throws(PluginError) {
        self.name = name
        self.info = library.info
        self.descriptor = library.descriptor
        self.signals = signals
        self.log = log
        self.audit = audit
        let call = CallState(plugin: name, signals: signals, environment: ChainEnvironment(plugin: name, audit: audit), log: log)
        var instance: UnsafeMutableRawPointer?
        guard let create = library.descriptor.pointee.create else {
            throw .malformedDescriptor(plugin: name, reason: "create is NULL")
        }
        let status = withExtendedLifetime(call) {
            config.withUnsafeBufferPointer { cfg in
                create(HostAPI.table, cfg.baseAddress, cfg.count, &instance, NativePlugin.opaque(call))
            }
        }
        guard status == RP_OK else {
            throw .createFailed(plugin: name, status: status, message: call.errorMessage)
        }
        self.instance = instance
    }

    deinit {
        descriptor.pointee.destroy?(instance)
    }

    public var capabilities: PluginCapabilities { info.capabilities }

    private static func opaque(_ object: AnyObject) -> OpaquePointer {
        OpaquePointer(Unmanaged.passUnretained(object).toOpaque())
    }

    private func serialized<T>(_ body: () throws(PluginError) -> T) throws(PluginError) -> T {
        if capabilities.contains(.threadSafe) { return try body() }
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: streams

    /// Per-call plugin state; freed by ``endStream(_:)``.
    public func newStream(environment: ChainEnvironment? = nil) throws(PluginError) -> UnsafeMutableRawPointer? {
        guard let streamNew = descriptor.pointee.stream_new else { return nil }
        let call = CallState(plugin: name, signals: signals, environment: environment, log: log)
        var stream: UnsafeMutableRawPointer?
        let status = try serialized { () throws(PluginError) -> rp_status in
            withExtendedLifetime(call) { streamNew(instance, &stream, Self.opaque(call)) }
        }
        guard status == RP_OK else {
            throw .hookFailed(plugin: name, hook: "stream_new", status: status, message: call.errorMessage)
        }
        return stream
    }

    public func freeStream(_ stream: UnsafeMutableRawPointer?) {
        guard let streamFree = descriptor.pointee.stream_free else { return }
        try? serialized { () throws(PluginError) in streamFree(instance, stream) }
    }

    // MARK: hooks

    /// Runs `on_request`. A plugin with `RP_CAP_HOST_FIELDS` reads the fields (no protobuf is
    /// made unless it asks); others get the encoded `PluginRequest`.
    public func onRequest(_ input: HookInput, stream: UnsafeMutableRawPointer?,
                          environment: ChainEnvironment? = nil) throws(PluginError) -> Rampart_V1_Verdict {
        Self.verdict(try decideRequest(input, stream: stream, environment: environment), input)
    }

    /// Runs `on_request`; an answer given through host calls comes back as it is (no `Verdict`).
    public func decideRequest(_ input: HookInput, stream: UnsafeMutableRawPointer?,
                              environment: ChainEnvironment? = nil) throws(PluginError) -> HookDecision {
        guard let hook = descriptor.pointee.on_request else { return .answer(HookAnswer()) }
        return try verdictCall("on_request", input, stream, environment, hook)
    }

    /// Runs `on_request` with a serialized `PluginRequest` (what an isolated plugin's host receives).
    public func onRequest(_ request: [UInt8], stream: UnsafeMutableRawPointer?,
                          environment: ChainEnvironment? = nil) throws(PluginError) -> Rampart_V1_Verdict {
        try onRequest(Self.decoded(.request, request, "on_request"), stream: stream, environment: environment)
    }

    /// Runs `on_response` (a `PluginResponse`).
    public func onResponse(_ input: HookInput, stream: UnsafeMutableRawPointer?,
                           environment: ChainEnvironment? = nil) throws(PluginError) -> Rampart_V1_Verdict {
        Self.verdict(try decideResponse(input, stream: stream, environment: environment), input)
    }

    /// Runs `on_response`; an answer given through host calls comes back as it is.
    public func decideResponse(_ input: HookInput, stream: UnsafeMutableRawPointer?,
                               environment: ChainEnvironment? = nil) throws(PluginError) -> HookDecision {
        guard let hook = descriptor.pointee.on_response else { return .answer(HookAnswer()) }
        return try verdictCall("on_response", input, stream, environment, hook)
    }

    /// A decision as a protobuf verdict (for an isolated plugin's parent).
    private static func verdict(_ decision: HookDecision, _ input: HookInput) -> Rampart_V1_Verdict {
        switch decision {
        case .verdict(let verdict): verdict
        case .answer(let answer): answer.verdict(for: input.kind) ?? Rampart_V1_Verdict()
        }
    }

    /// Runs `on_response` with a serialized `PluginResponse`.
    public func onResponse(_ response: [UInt8], stream: UnsafeMutableRawPointer?,
                           environment: ChainEnvironment? = nil) throws(PluginError) -> Rampart_V1_Verdict {
        try onResponse(Self.decoded(.response, response, "on_response"), stream: stream, environment: environment)
    }

    /// The input a parent process (or a test) sent as protobuf. Bytes that do not decode still
    /// reach a protobuf-reading plugin verbatim (it judges them, as in ABI 1.0); a plugin that
    /// reads fields finds none.
    static func decoded(_ kind: HookInput.Kind, _ bytes: [UInt8], _ hook: String) -> HookInput {
        do {
            return try HookInput.decoding(kind, bytes)
        } catch {
            let type = switch kind {
            case .request: Rampart_V1_PluginRequest.protoMessageName
            case .response: Rampart_V1_PluginResponse.protoMessageName
            case .streamEnd: Rampart_V1_StreamSummary.protoMessageName
            }
            return HookInput.undecodable(kind, bytes, reason: "\(hook): malformed \(type): \(error)")
        }
    }

    /// ABI 1.1: the methods this plugin serves.
    public var methods: [String] { info.methods }

    /// ABI 1.1: serves a call (a serialized `PluginMethodCall`); returns the response message.
    /// A non-OK status from the plugin becomes ``PluginError/methodFailed``, which carries it.
    public func onMethod(_ input: [UInt8], environment: ChainEnvironment? = nil) throws(PluginError) -> [UInt8] {
        guard info.abiMinor >= 1, let hook = descriptor.pointee.on_method else {
            throw .methodFailed(plugin: name, status: RP_ERR_UNIMPLEMENTED, message: "the plugin serves no methods")
        }
        let call = CallState(plugin: name, signals: signals, environment: environment, log: log)
        let output = HostBuffer(limit: Self.verdictLimit)
        let status = try serialized { () throws(PluginError) -> rp_status in
            withExtendedLifetime((call, output)) {
                input.withUnsafeBufferPointer { bytes in
                    hook(instance, bytes.baseAddress, bytes.count, Self.opaque(output), Self.opaque(call))
                }
            }
        }
        guard status == RP_OK else {
            throw .methodFailed(plugin: name, status: status, message: call.errorMessage)
        }
        return output.bytes
    }

    private typealias VerdictHook = @convention(c) (
        UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafePointer<UInt8>?, Int, OpaquePointer?, OpaquePointer?
    ) -> rp_status

    /// The hook's protobuf input, or none for a plugin that reads fields (`RP_CAP_HOST_FIELDS`).
    private func withInput<T>(_ input: HookInput, _ hookName: String,
                              _ body: (UnsafePointer<UInt8>?, Int) -> T) throws(PluginError) -> T {
        if capabilities.contains(.hostFields) {
            // Fields cannot come from bytes that do not decode: refused as the plugin would.
            if let reason = input.malformed {
                throw .hookFailed(plugin: name, hook: hookName, status: RP_ERR_INVALID_ARGUMENT, message: reason)
            }
            return body(nil, 0)
        }
        let bytes: UnsafeRawBufferPointer
        do {
            bytes = try input.encoded()
        } catch {
            throw .hookFailed(plugin: name, hook: hookName, status: RP_ERR_INTERNAL, message: "cannot encode the input: \(error)")
        }
        return body(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    private func verdictCall(_ hookName: String, _ input: HookInput, _ stream: UnsafeMutableRawPointer?,
                             _ environment: ChainEnvironment?, _ hook: VerdictHook) throws(PluginError) -> HookDecision {
        let call = CallState(plugin: name, signals: signals, environment: environment, input: input, answerable: true, log: log)
        let output = HostBuffer(limit: Self.verdictLimit)
        let status = try serialized { () throws(PluginError) -> rp_status in
            try withExtendedLifetime((call, output)) { () throws(PluginError) -> rp_status in
                try withInput(input, hookName) { bytes, count in
                    hook(instance, stream, bytes, count, Self.opaque(output), Self.opaque(call))
                }
            }
        }
        guard status == RP_OK else {
            throw .hookFailed(plugin: name, hook: hookName, status: status, message: call.errorMessage)
        }
        // Nothing written: the host-call answer (empty = pass), applied without a Verdict.
        if output.bytes.isEmpty { return .answer(call.answer) }
        if !call.answer.isEmpty {
            throw .malformedVerdict(plugin: name, hook: hookName,
                                    reason: "the hook both wrote a Verdict and answered through host->deny/add_trailer/set_principal")
        }
        do {
            return .verdict(try Rampart_V1_Verdict(serializedBytes: output.bytes))
        } catch {
            throw .malformedVerdict(plugin: name, hook: hookName, reason: "\(error)")
        }
    }

    /// Runs the raw chunk hook.
    public func onChunk(_ text: String, stream: UnsafeMutableRawPointer?,
                        environment: ChainEnvironment? = nil) throws(PluginError) -> ChunkDecision {
        guard let hook = descriptor.pointee.on_chunk else { return .pass }
        let call = CallState(plugin: name, signals: signals, environment: environment, log: log)
        let output = HostBuffer(limit: 1 << 20)
        var action = RP_CHUNK_PASS
        var text = text
        let status = try serialized { () throws(PluginError) -> rp_status in
            withExtendedLifetime((call, output)) {
                text.withUTF8 { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { chars in
                        hook(instance, stream, chars.baseAddress, chars.count, &action, Self.opaque(output), Self.opaque(call))
                    }
                }
            }
        }
        guard status == RP_OK else {
            throw .hookFailed(plugin: name, hook: "on_chunk", status: status, message: call.errorMessage)
        }
        switch action {
        case RP_CHUNK_PASS: return .pass
        case RP_CHUNK_STOP: return .stop
        case RP_CHUNK_REPLACE:
            guard let replacement = String(validating: output.bytes, as: UTF8.self) else {
                throw .malformedVerdict(plugin: name, hook: "on_chunk", reason: "replacement is not valid UTF-8")
            }
            return .replace(replacement)
        default:
            throw .malformedVerdict(plugin: name, hook: "on_chunk", reason: "unknown chunk action \(action)")
        }
    }

    /// Runs the sampler hook on a logits buffer.
    public func onLogits(_ logits: UnsafeMutableBufferPointer<Float>, previous: UnsafeBufferPointer<Int32>,
                         stream: UnsafeMutableRawPointer?) throws(PluginError) {
        guard let hook = descriptor.pointee.on_logits else { return }
        let call = CallState(plugin: name, signals: signals, log: log)
        let status = try serialized { () throws(PluginError) -> rp_status in
            withExtendedLifetime(call) {
                hook(instance, stream, logits.baseAddress, logits.count, previous.baseAddress, previous.count, Self.opaque(call))
            }
        }
        guard status == RP_OK else {
            throw .hookFailed(plugin: name, hook: "on_logits", status: status, message: call.errorMessage)
        }
    }

    /// Runs `on_stream_end` (a `StreamSummary`, or its fields for `RP_CAP_HOST_FIELDS` plugins).
    public func onStreamEnd(_ input: HookInput, stream: UnsafeMutableRawPointer?,
                            environment: ChainEnvironment? = nil) throws(PluginError) {
        guard let hook = descriptor.pointee.on_stream_end else { return }
        let call = CallState(plugin: name, signals: signals, environment: environment, input: input, answerable: false, log: log)
        let status = try serialized { () throws(PluginError) -> rp_status in
            try withExtendedLifetime(call) { () throws(PluginError) -> rp_status in
                try withInput(input, "on_stream_end") { bytes, count in
                    hook(instance, stream, bytes, count, Self.opaque(call))
                }
            }
        }
        guard status == RP_OK else {
            throw .hookFailed(plugin: name, hook: "on_stream_end", status: status, message: call.errorMessage)
        }
    }

    /// Runs `on_stream_end` with a serialized `StreamSummary`.
    public func onStreamEnd(_ summary: [UInt8], stream: UnsafeMutableRawPointer?,
                            environment: ChainEnvironment? = nil) throws(PluginError) {
        try onStreamEnd(Self.decoded(.streamEnd, summary, "on_stream_end"), stream: stream, environment: environment)
    }
}

// MARK: - as a chain stage

extension NativePlugin: ChainPlugin {
    public var hooks: ChainHooks {
        var hooks: ChainHooks = []
        if capabilities.contains(.request) { hooks.insert(.request) }
        if capabilities.contains(.response) { hooks.insert(.response) }
        if capabilities.contains(.chunk) { hooks.insert(.chunk) }
        if capabilities.contains(.logits) { hooks.insert(.logits) }
        if capabilities.contains(.streamEnd) { hooks.insert(.streamEnd) }
        return hooks
    }

    public var seesAllMethods: Bool { capabilities.contains(.allMethods) }

    public func openStream(_ environment: ChainEnvironment) throws -> any ChainPluginStream {
        NativeStream(plugin: self, handle: try newStream(environment: environment), environment: environment)
    }
}

/// One call's state inside a native plugin (`stream_new` / `stream_free`).
final class NativeStream: ChainPluginStream {
    let plugin: NativePlugin
    let handle: UnsafeMutableRawPointer?
    let environment: ChainEnvironment
    private var closed = false

    init(plugin: NativePlugin, handle: UnsafeMutableRawPointer?, environment: ChainEnvironment) {
        self.plugin = plugin
        self.handle = handle
        self.environment = environment
    }

    func onRequest(_ input: HookInput) throws -> Rampart_V1_Verdict {
        try plugin.onRequest(input, stream: handle, environment: environment)
    }
    func onResponse(_ input: HookInput) throws -> Rampart_V1_Verdict {
        try plugin.onResponse(input, stream: handle, environment: environment)
    }
    func decideRequest(_ input: HookInput) throws -> HookDecision {
        try plugin.decideRequest(input, stream: handle, environment: environment)
    }
    func decideResponse(_ input: HookInput) throws -> HookDecision {
        try plugin.decideResponse(input, stream: handle, environment: environment)
    }
    func onChunk(_ text: String) throws -> ChunkDecision { try plugin.onChunk(text, stream: handle, environment: environment) }
    func onMethod(_ call: [UInt8]) throws -> [UInt8] { try plugin.onMethod(call, environment: environment) }
    func onLogits(_ logits: UnsafeMutableBufferPointer<Float>, previous: UnsafeBufferPointer<Int32>) throws {
        try plugin.onLogits(logits, previous: previous, stream: handle)
    }
    func onStreamEnd(_ input: HookInput) throws { try plugin.onStreamEnd(input, stream: handle, environment: environment) }

    func close() {
        guard !closed else { return }
        closed = true
        plugin.freeStream(handle)
    }

    deinit { close() }
}

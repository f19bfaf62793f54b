import Foundation
import RampartAudit
import RampartCore
import RampartProto
import SwiftProtobuf
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The ordered plugins around the backend. Immutable: a reload builds a new chain and swaps it
/// in; calls that started on the old chain finish on it.
public final class PluginChain: Sendable {
    public let stages: [ChainStage]
    /// Bytes of generated text held back from the client so that output plugins can stop a
    /// stream before the client sees what they object to.
    public let holdBackBytes: Int
    /// Where plugins' security events go.
    public let audit: any AuditSink
    /// Plugin-served methods (ABI 1.1): method path (`package.Service/Method`, no leading slash)
    /// → index of the stage that serves it.
    public let methodTable: [String: Int]
    /// Every hook some plugin implements (decided once; read on every call).
    public let hooks: ChainHooks
    /// Whether any plugin's request hook sees every RPC (then non-inference calls pass the chain).
    public let gatesAllMethods: Bool

    /// - Throws: ``ChainError/duplicateMethod`` when two plugins serve the same method.
    public init(stages: [ChainStage], holdBackBytes: Int = 256, audit: any AuditSink = DiscardAuditSink()) throws(ChainError) {
        self.stages = stages
        self.holdBackBytes = max(0, holdBackBytes)
        self.audit = audit
        var table: [String: Int] = [:]
        for (index, stage) in stages.enumerated() {
            for declared in stage.plugin.methods {
                let method = Self.methodKey(declared)
                if let other = table[method] {
                    throw .duplicateMethod(method, first: stages[other].name, second: stage.name)
                }
                table[method] = index
            }
        }
        self.methodTable = table
        self.hooks = stages.reduce(into: []) { $0.formUnion($1.plugin.hooks) }
        self.gatesAllMethods = stages.contains { $0.plugin.seesAllMethods && $0.plugin.hooks.contains(.request) }
    }

    private init(empty: Void) {
        stages = []
        holdBackBytes = 0
        audit = DiscardAuditSink()
        methodTable = [:]
        hooks = []
        gatesAllMethods = false
    }

    /// A method path as ``methodTable`` keys it: `package.Service/Method`, without the wire
    /// path's leading slash.
    public static func methodKey(_ path: String) -> String {
        path.hasPrefix("/") ? String(path.dropFirst()) : path
    }

    /// Whether any plugin has a request hook (then the host counts the prompt's tokens for it).
    public var wantsPromptTokens: Bool { hooks.contains(.request) }

    /// A chain with no plugins.
    public static let empty = PluginChain(empty: ())

    public var isEmpty: Bool { stages.isEmpty }

    /// Whether any plugin inspects generated text (then streams go through the hold-back window).
    public var inspectsOutput: Bool { !hooks.isDisjoint(with: [.chunk, .response]) }

    /// Whether any plugin wants to learn how calls end (then the summary is encoded).
    public var hasStreamEndHooks: Bool { hooks.contains(.streamEnd) }

    /// Whether any plugin acts inside the sampler.
    public var hasLogitsHooks: Bool { hooks.contains(.logits) }

    /// Starts one call through the chain.
    public func begin(_ context: CallContext) -> ChainCall {
        ChainCall(chain: self, context: context)
    }
}

/// A chain that cannot be built.
public enum ChainError: Error, Sendable, Equatable, CustomStringConvertible {
    case duplicateMethod(String, first: String, second: String)

    /// The plugin whose load made the chain invalid.
    public var secondPlugin: String {
        switch self { case .duplicateMethod(_, _, let second): second }
    }

    public var description: String {
        switch self {
        case .duplicateMethod(let method, let first, let second):
            "plugins \(first) and \(second) both serve \(method)"
        }
    }
}

/// One call's pass through the chain. Used by one thread at a time (the call's worker); the
/// logits hook may run on the generating thread, which is the same worker.
public final class ChainCall: @unchecked Sendable {
    let chain: PluginChain
    let context: CallContext
    /// Who calls and where audit events go; shared with the plugins' streams.
    public let info: ChainCallInfo
    /// How long the last ``invoke(_:_:_:_:)`` took: recorded with the outcome its verdict gets
    /// (per call, so concurrent calls never record each other's durations).
    private var lastHookMicros = 0.0
    /// Each stage's open stream, by stage index (made on the first hook that needs it).
    private var streams: [(any ChainPluginStream)?] = []
    private let failure = Mutex<RPCError?>(nil)
    /// Entries request hooks asked to add to a successful response's trailers.
    public private(set) var responseMetadata: [String: String] = [:]
    /// The backend's token count of the prompt, handed to request hooks (0 = unknown).
    public var promptTokens: UInt32 = 0

    init(chain: PluginChain, context: CallContext) {
        self.chain = chain
        self.context = context
        self.info = ChainCallInfo(context: context, audit: chain.audit)
    }

    /// The principal an authentication plugin established, if any.
    public var principal: Rampart_V1_Principal? { info.principal }

    /// A failure raised where it could not be thrown (the logits hook); the token sink checks it.
    public var pendingFailure: RPCError? { failure.withLock { $0 } }

    // MARK: request

    /// Runs every request hook in order, applying mutations; throws the deny or failure.
    public func onRequest(_ request: inout Rampart_V1_GenerateRequest, metadata: inout [String: String]) throws(RPCError) {
        guard chain.hooks.contains(.request) else { return }
        // Sorted once, and again only after a mutation adds metadata.
        var sortedMetadata: [(key: String, value: String)]?
        try runRequestHooks(
            where: { _ in true },
            input: { [promptTokens] in
                let snapshot = request, entries = metadata
                let sorted = sortedMetadata ?? Self.sorted(entries)
                sortedMetadata = sorted
                return self.hookInput(.request, metadata: sorted, request: snapshot, promptTokens: promptTokens) {
                    var input = self.pluginRequest(snapshot, entries)
                    input.promptTokens = promptTokens
                    return try input.serializedBytes()
                }
            },
            mutate: { mutation in
                if mutation.replaceMessages { request.messages = mutation.messages }
                if mutation.replacePrompt { request.prompt = mutation.prompt }
                if mutation.hasParams { request.params = mutation.params }
                if mutation.maxTokens > 0 { request.params.maxTokens = mutation.maxTokens }
                for entry in mutation.addMetadata {
                    if case .text(let value)? = entry.value {
                        metadata[entry.key] = value
                        sortedMetadata = nil
                    }
                }
            },
            setMaxTokens: { request.params.maxTokens = $0 })
    }

    /// Runs the request hooks of the plugins that see every RPC (``ChainPlugin/seesAllMethods``)
    /// for a call that is not an inference call: `body` is its serialized request message. Only
    /// the principal and response metadata of a mutation apply (the message itself is not
    /// plugins' to change here). Throws the deny or failure.
    public func authorize(body: [UInt8], metadata: [String: String]) throws(RPCError) {
        guard chain.gatesAllMethods else { return }
        try runRequestHooks(
            where: { $0.plugin.seesAllMethods },
            input: {
                self.hookInput(.request, metadata: Self.sorted(metadata), request: nil, promptTokens: 0) {
                    var input = self.pluginRequest(Rampart_V1_GenerateRequest(), metadata)
                    input.body = Data(body)
                    return try input.serializedBytes()
                }
            },
            mutate: { _ in }, setMaxTokens: { _ in })
    }

    /// The request-hook loop shared by inference and non-inference calls: the input is made
    /// once and again only after a change it shows (its protobuf only if a plugin reads it); a
    /// deny skips the rest. `mutate` applies what the call kind allows of a `Mutation` beyond the
    /// principal and response metadata, which always apply; `setMaxTokens` a host-call answer's
    /// `max_tokens`.
    private func runRequestHooks(where include: (ChainStage) -> Bool, input makeInput: () -> HookInput,
                                 mutate: (Rampart_V1_Mutation) -> Void, setMaxTokens: (UInt32) -> Void) throws(RPCError) {
        var current: HookInput?
        for (index, stage) in chain.stages.enumerated() where stage.hooks.contains(.request) && include(stage) {
            let input = current ?? makeInput()
            current = input
            guard let decision = try invokeDecision(index, stage, "on_request", { try $0.decideRequest(input) }) else { continue }
            switch try settle(decision, index, stage, .request) {
            case .pass:
                continue
            case .mutation(let mutation):
                mutate(mutation)
                apply(callMutation: mutation)
                current = nil
            case .answer(let answer):
                if answer.maxTokens > 0 { setMaxTokens(answer.maxTokens) }
                if let principal = answer.principal { info.principal = principal }
                for (key, value) in answer.trailers { responseMetadata[key] = value }
                // Trailers are not part of the input; max_tokens and the principal are. A new
                // principal (what an authentication plugin answers) is swapped into the input;
                // a new max_tokens rebuilds it from the changed request.
                if answer.maxTokens > 0 {
                    current = nil
                } else if let principal = answer.principal {
                    current?.replacePrincipal(principal)
                }
            }
        }
    }

    /// What is left to apply of a request or response hook's decision once it is counted.
    private enum Settled {
        case pass
        case mutation(Rampart_V1_Mutation)
        case answer(HookAnswer)
    }

    /// Counts a decision's outcome and throws its denial (the later plugins' `hook` counted as
    /// skipped); returns the change to apply, if any.
    private func settle(_ decision: HookDecision, _ index: Int, _ stage: ChainStage, _ hook: ChainHooks) throws(RPCError) -> Settled {
        switch decision {
        case .verdict(let verdict):
            switch verdict.action {
            case .none, .pass?:
                record(stage, .passed)
                return .pass
            case .deny(let deny)?:
                record(stage, .denied)
                skipRest(after: index, hook: hook)
                throw denial(deny, by: stage)
            case .mutate(let mutation)?:
                record(stage, .mutated)
                return .mutation(mutation)
            }
        case .answer(let answer):
            if let deny = answer.deny {
                record(stage, .denied)
                skipRest(after: index, hook: hook)
                throw denial(deny, trailers: answer.trailers, by: stage)
            }
            guard !answer.isEmpty else {
                record(stage, .passed)
                return .pass
            }
            record(stage, .mutated)
            return .answer(answer)
        }
    }

    /// A hook input of this call with the current principal.
    private func hookInput(_ kind: HookInput.Kind, metadata: [(key: String, value: String)], request: Rampart_V1_GenerateRequest?,
                           promptTokens: UInt32, ending: HookInput.Ending? = nil,
                           encode: @escaping () throws -> [UInt8]) -> HookInput {
        HookInput(kind: kind, context: contextFields, principal: info.principal, metadata: metadata,
                  request: request, promptTokens: promptTokens, ending: ending, encode: encode)
    }

    /// Metadata as hook inputs carry it: sorted by key.
    private static func sorted(_ metadata: [String: String]) -> [(key: String, value: String)] {
        metadata.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    private var contextFields: RequestContextFields {
        RequestContextFields(requestID: context.requestID, method: context.method, streamID: context.streamID,
                             peer: context.peer, deadlineUnixMicros: deadlineUnixMicros)
    }

    /// The call's deadline as Unix microseconds, converted once per call (every hook input and
    /// protobuf context of the call shows the same value).
    private lazy var deadlineUnixMicros: UInt64? = context.deadlineUptimeNanos.map { Self.unixMicros(uptimeNanos: $0) }

    /// Serves a call to a plugin-served method (after ``authorize(body:metadata:)``): returns the
    /// serialized response message.
    public func callMethod(_ method: String, body: [UInt8], metadata: [String: String]) throws(RPCError) -> [UInt8] {
        let method = PluginChain.methodKey(method)
        guard let index = chain.methodTable[method] else {
            throw RPCError(.unimplemented, "no plugin serves \(method)")
        }
        let stage = chain.stages[index]
        var input = Rampart_V1_PluginMethodCall()
        input.context = contextMessage()
        input.metadata = Rampart_V1_MetadataEntry.sorted(metadata)
        input.body = Data(body)
        let bytes = try encode(input)
        let start = monotonicNanos()
        do {
            let stream = try self.stream(index, stage)
            let output = try stream.onMethod(bytes)
            stage.stats.record(.passed, micros: Self.micros(since: start))
            return output
        } catch let error as RPCError {
            stage.stats.record(.denied, micros: Self.micros(since: start))
            throw error
        } catch {
            stage.stats.record(.errored, micros: Self.micros(since: start))
            // A plugin's own status (ABI: a non-OK return with set_error) reaches the client.
            if let convertible = error as? any StatusCodeConvertible {
                throw RPCError(convertible.statusCode, "\(error)")
            }
            throw RPCError(.internal, "plugin \(stage.name) failed: \(error)")
        }
    }

    private func apply(callMutation mutation: Rampart_V1_Mutation) {
        if mutation.hasPrincipal { info.principal = mutation.principal }
        for entry in mutation.responseMetadata {
            if case .text(let value)? = entry.value { responseMetadata[entry.key] = value }
        }
    }

    // MARK: response

    /// Runs every response hook on a complete unary response.
    public func onResponse(_ response: inout Rampart_V1_GenerateResponse, trailers: inout [String: String]) throws(RPCError) {
        for (index, stage) in chain.stages.enumerated() where stage.hooks.contains(.response) {
            let snapshot = response
            let bytes = hookInput(.response, metadata: [], request: nil, promptTokens: 0) {
                var input = Rampart_V1_PluginResponse()
                input.context = self.contextMessage()
                input.response = snapshot
                return try input.serializedBytes()
            }
            guard let decision = try invokeDecision(index, stage, "on_response", { try $0.decideResponse(bytes) }) else { continue }
            switch try settle(decision, index, stage, .response) {
            case .pass:
                continue
            case .mutation(let mutation):
                if mutation.replaceText { response.text = mutation.text }
                if mutation.replaceToolCalls { response.toolCalls = mutation.toolCalls }  // ABI 1.3
                for entry in mutation.addMetadata { if case .text(let value)? = entry.value { trailers[entry.key] = value } }
            case .answer(let answer):
                // A response hook's answer can only deny or add trailers (the host refuses the rest).
                for (key, value) in answer.trailers { trailers[key] = value }
            }
        }
    }

    // MARK: streamed text

    /// Passes a piece of generated text through every chunk hook; returns what may go on.
    public func filterChunk(_ text: String) throws(RPCError) -> String {
        var current = text
        for (index, stage) in chain.stages.enumerated() where stage.hooks.contains(.chunk) {
            let piece = current
            guard let decision = try invoke(index, stage, "on_chunk", { try $0.onChunk(piece) }) else { continue }
            switch decision {
            case .pass:
                record(stage, .passed)
            case .replace(let replacement):
                record(stage, .mutated)
                current = replacement
            case .stop:
                record(stage, .denied)
                skipRest(after: index, hook: .chunk)
                throw RPCError(.permissionDenied, "output blocked by plugin \(stage.name)",
                               metadata: ["rampart-blocked-by": stage.name])
            }
        }
        return current
    }

    /// The sampler hook for the backend, or nil when no plugin has one.
    public func logitsHook() -> LogitsHook? {
        guard chain.hasLogitsHooks else { return nil }
        return { [self] logits, previous in
            for (index, stage) in chain.stages.enumerated() where stage.hooks.contains(.logits) {
                do throws(RPCError) {
                    _ = try invoke(index, stage, "on_logits") { try $0.onLogits(logits, previous: previous) }
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
    }

    // MARK: end

    /// Tells stream-end hooks how the call ended and releases every plugin's per-call state.
    public func end(finish: Rampart_V1_FinishReason, usage: Rampart_V1_Usage, status: StatusCode, deliveredBytes: Int) {
        guard chain.hasStreamEndHooks else {
            closeStreams()
            return
        }
        let ending = HookInput.Ending(
            statusCode: status.rawValue, finishReason: Int32(finish.rawValue), promptTokens: usage.promptTokens,
            completionTokens: usage.completionTokens, deliveredBytes: UInt64(max(0, deliveredBytes)))
        let bytes = hookInput(.streamEnd, metadata: [], request: nil, promptTokens: 0, ending: ending) {
            var summary = Rampart_V1_StreamSummary()
            summary.context = self.contextMessage()
            summary.finishReason = finish
            summary.usage = usage
            summary.statusCode = status.rawValue
            summary.deliveredBytes = UInt64(max(0, deliveredBytes))
            return try summary.serializedBytes()
        }
        for (index, stage) in chain.stages.enumerated() where stage.hooks.contains(.streamEnd) {
            _ = try? invoke(index, stage, "on_stream_end") { try $0.onStreamEnd(bytes) }
        }
        closeStreams()
    }

    // MARK: helpers

    /// Counts the later plugins with `hook` as skipped: an earlier plugin ended the call.
    private func skipRest(after index: Int, hook: ChainHooks) {
        for stage in chain.stages[(index + 1)...] where stage.hooks.contains(hook) {
            stage.stats.record(.skipped, micros: 0)
        }
    }

    /// Calls one hook with the stage's failure mode and timeout applied. Returns nil when the
    /// plugin failed and its failure mode is open (the call goes on as if it passed).
    private func invoke<T>(_ index: Int, _ stage: ChainStage, _ hook: String,
                           _ body: (any ChainPluginStream) throws -> T) throws(RPCError) -> T? {
        let start = monotonicNanos()
        let result: Result<T, any Error>
        do {
            result = .success(try body(try stream(index, stage)))
        } catch {
            result = .failure(error)
        }
        let elapsed = monotonicNanos() &- start
        let micros = Double(elapsed) / 1000
        lastHookMicros = micros
        switch result {
        case .success(let value) where elapsed <= stage.timeoutNanos:
            return value
        case .success:
            stage.stats.record(.timedOut, micros: micros)
            let millis = Int(stage.policy.timeout.components.seconds * 1000 + stage.policy.timeout.components.attoseconds / 1_000_000_000_000_000)
            return try failed(stage, RPCError(.unavailable, "plugin \(stage.name): \(hook) exceeded its timeout of \(millis) ms"))
        case .failure(let error):
            stage.stats.record(elapsed > stage.timeoutNanos ? .timedOut : .errored, micros: micros)
            // Crashes and timeouts of isolated plugins say UNAVAILABLE; other failures are INTERNAL.
            let code = (error as? any StatusCodeConvertible)?.statusCode ?? .internal
            return try failed(stage, RPCError(code, "plugin \(stage.name) failed: \(error)"))
        }
    }

    /// Calls a request or response hook. A verdict's annotations are the plugin's telemetry for
    /// the audit trail (docs/PLUGINS.md 2.9): they become one `plugin.verdict` audit event of the
    /// call, attributed to the plugin. (Host-call answers carry none.)
    private func invokeDecision(_ index: Int, _ stage: ChainStage, _ hook: String,
                                _ body: (any ChainPluginStream) throws -> HookDecision) throws(RPCError) -> HookDecision? {
        let decision = try invoke(index, stage, hook, body)
        if case .verdict(let verdict)? = decision, !verdict.annotations.isEmpty { auditAnnotations(verdict, stage: stage, hook: hook) }
        return decision
    }

    /// At most this many annotations per verdict reach the audit trail, each key and value cut to
    /// these many bytes (a plugin cannot flood the trail).
    static let annotationLimits = (count: 32, keyBytes: 128, valueBytes: 1024)

    private func auditAnnotations(_ verdict: Rampart_V1_Verdict, stage: ChainStage, hook: String) {
        var event = Rampart_V1_AuditEvent()
        event.kind = "plugin.verdict"
        switch verdict.action {
        case .deny?: (event.outcome, event.reason) = ("denied", "deny")
        case .mutate?: (event.outcome, event.reason) = ("success", "mutate")
        case .pass?, nil: (event.outcome, event.reason) = ("success", "pass")
        }
        let limits = Self.annotationLimits
        event.attributes = [Rampart_V1_MetadataEntry(key: "hook", text: hook)]
        for annotation in verdict.annotations.prefix(limits.count) {
            let value: String
            switch annotation.value {
            case .text(let text)?: value = Self.prefix(text, bytes: limits.valueBytes)
            case .binary(let data)?: value = "(\(data.count) bytes)"
            case nil: value = ""
            }
            event.attributes.append(Rampart_V1_MetadataEntry(key: Self.prefix(annotation.key, bytes: limits.keyBytes), text: value))
        }
        if verdict.annotations.count > limits.count {
            event.attributes.append(Rampart_V1_MetadataEntry(key: "annotations_dropped", text: String(verdict.annotations.count - limits.count)))
        }
        ChainEnvironment(plugin: stage.name, call: info).audit(event)
    }

    /// `text` cut to at most `bytes` UTF-8 bytes at a character boundary.
    static func prefix(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        let utf8 = Array(text.utf8.prefix(bytes + 1))
        var end = bytes
        while end > 0, utf8[end] & 0xC0 == 0x80 { end -= 1 }  // back off over continuation bytes
        return String(decoding: utf8[..<end], as: UTF8.self)
    }

    private func stream(_ index: Int, _ stage: ChainStage) throws -> any ChainPluginStream {
        if index < streams.count, let open = streams[index] { return open }
        let stream = try stage.plugin.openStream(ChainEnvironment(plugin: stage.name, call: info))
        if streams.isEmpty { streams = Array(repeating: nil, count: chain.stages.count) }
        streams[index] = stream
        return stream
    }

    /// Counts a hook's outcome with the duration ``invoke(_:_:_:_:)`` measured for it.
    private func record(_ stage: ChainStage, _ outcome: StageStats.Outcome) {
        stage.stats.record(outcome, micros: lastHookMicros)
    }

    private func closeStreams() {
        for case let stream? in streams { stream.close() }
        streams.removeAll()
    }

    /// A monotonic-clock deadline as Unix microseconds (what plugins see).
    static func unixMicros(uptimeNanos deadline: UInt64) -> UInt64 {
        var mono = timespec(), wall = timespec()
        clock_gettime(CLOCK_MONOTONIC, &mono)
        clock_gettime(CLOCK_REALTIME, &wall)
        let nowMono = UInt64(max(0, mono.tv_sec)) &* 1_000_000_000 &+ UInt64(max(0, mono.tv_nsec))
        let nowWallMicros = UInt64(max(0, wall.tv_sec)) &* 1_000_000 &+ UInt64(max(0, wall.tv_nsec)) / 1000
        return deadline >= nowMono ? nowWallMicros &+ (deadline - nowMono) / 1000 : nowWallMicros - min(nowWallMicros, (nowMono - deadline) / 1000)
    }

    private static func micros(since start: UInt64) -> Double {
        Double(monotonicNanos() &- start) / 1000
    }

    private func failed<T>(_ stage: ChainStage, _ error: RPCError) throws(RPCError) -> T? {
        switch stage.policy.failureMode {
        case .closed:
            var error = error
            error.metadata["rampart-failed-plugin"] = stage.name
            throw error
        case .open:
            return nil
        }
    }

    private func denial(_ deny: Rampart_V1_Deny, by stage: ChainStage) -> RPCError {
        let trailers = deny.metadata.compactMap { entry -> (key: String, value: String)? in
            if case .text(let value)? = entry.value { (entry.key, value) } else { nil }
        }
        return denial(HookAnswer.Deny(code: deny.code, message: deny.message, retryAfterMs: deny.retryAfterMs),
                      trailers: trailers, by: stage)
    }

    private func denial(_ deny: HookAnswer.Deny, trailers: [(key: String, value: String)], by stage: ChainStage) -> RPCError {
        let code = StatusCode(rawValue: deny.code).flatMap { $0 == .ok ? nil : $0 } ?? .permissionDenied
        var metadata: [String: String] = ["rampart-denied-by": stage.name]
        if deny.retryAfterMs > 0 { metadata["retry-after-ms"] = String(deny.retryAfterMs) }
        for (key, value) in trailers { metadata[key] = value }
        let message = deny.message.isEmpty ? "denied by plugin \(stage.name)" : deny.message
        return RPCError(code, message, metadata: metadata)
    }

    func contextMessage() -> Rampart_V1_RequestContext {
        var c = Rampart_V1_RequestContext()
        c.requestID = context.requestID
        c.method = context.method
        c.streamID = context.streamID
        if let deadline = deadlineUnixMicros { c.deadlineUnixUs = deadline }
        if let principal = info.principal { c.principal = principal }
        if let peer = context.peer {
            c.peer.pid = peer.pid
            c.peer.uid = peer.uid
            c.peer.gid = peer.gid
        }
        return c
    }

    func pluginRequest(_ request: Rampart_V1_GenerateRequest, _ metadata: [String: String]) -> Rampart_V1_PluginRequest {
        var input = Rampart_V1_PluginRequest()
        input.context = contextMessage()
        input.request = request
        input.promptTokens = promptTokens
        input.metadata = Rampart_V1_MetadataEntry.sorted(metadata)
        return input
    }

    private func encode(_ message: some SwiftProtobuf.Message) throws(RPCError) -> [UInt8] {
        do {
            return try message.serializedBytes()
        } catch {
            throw RPCError(.internal, "cannot encode \(type(of: message).protoMessageName): \(error)")
        }
    }
}

import RampartPluginKit
import RampartThrottleCore
import Synchronization

/// The throttle plugin: the ABI glue around ``Throttle`` (docs/THROTTLE.md).
///
/// Thread-safe (`RP_CAP_THREADSAFE`): a request waiting in the fair queue must not keep other
/// streams from ending and releasing their slots.
public final class ThrottlePlugin: RampartPlugin {
    public static let name = "throttle"
    public static let version = "1.0.0"
    public static let hooks: PluginHooks = [.request, .streamEnd, .streamState]
    public static let isThreadSafe = true
    public static let methods = [ThrottleStatsMethod.name]
    /// Limits need who is calling, `max_tokens` and the host's prompt token count
    /// (`promptTokens`, set by the host whenever a request hook runs): never the prompt text
    /// (the cost stays flat with prompt size).
    public let decodesRequestBody = false

    let throttle: Throttle
    /// The parts of the principal the configured limits use (the others are never read).
    let parts: (user: Bool, org: Bool, scopes: Bool)

    public init(config: [UInt8], host: PluginHost) throws {
        let parsed: ThrottleConfig
        do {
            parsed = try ThrottleConfig.parse(config)
        } catch {
            throw PluginError.invalidArgument(error.description)
        }
        throttle = Throttle(config: parsed)
        parts = parsed.principalParts
        host.log(.info, "throttle: mode \(parsed.mode.rawValue)"
                 + (parsed.mode == .redis ? ", redis fail mode \(parsed.redis.failMode.rawValue)" : "")
                 + ", \(parsed.roles.count) roles, pool cap \(parsed.concurrency.pool.map(String.init) ?? "none")")
    }

    public func makeStreamState(context: PluginCallContext) throws -> AnyObject? {
        StreamTicket()
    }

    /// Reads only what a limit needs through the view (no protobuf message is built).
    public func onRequest(_ view: RequestView, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        let decision = throttle.admit(Self.admissionRequest(view, reading: parts)) { context.host.signal($0) }
        defer { forwardEvents(context.host) }
        switch decision {
        case .denied(let denial):
            return Self.verdict(for: denial)
        case .admitted(let admission):
            if let box = context.streamState as? StreamTicket {
                box.hold(admission.ticket, throttle: throttle)
            } else {
                // No stream state (should not happen with .streamState): never keep a slot we cannot release.
                throttle.finish(admission.ticket, StreamEnd(statusCode: 0))
            }
            guard admission.maxTokens != nil || !admission.headers.isEmpty else { return .pass }
            let clamp = admission.maxTokens.map { UInt32(clamping: max(1, $0)) }
            // ABI 1.2: host calls, no Mutation message; an older host gets the verdict.
            if context.answer(maxTokens: clamp, trailers: admission.headers) { return .pass }
            return .mutate { mutation in
                if let clamp {
                    // max_tokens alone (ABI 1.2): the other sampling parameters stay.
                    mutation.maxTokens = clamp
                }
                mutation.responseMetadata = admission.headers.map { Rampart_V1_MetadataEntry(key: $0.0, text: $0.1) }
            }
        }
    }

    /// Refunds what the reservation did not use: the numbers are all it needs (no summary built).
    public func onStreamEnd(_ ending: StreamEnding, context: PluginCallContext) throws {
        if let box = context.streamState as? StreamTicket {
            box.finish(StreamEnd(statusCode: ending.statusCode, promptTokens: Int64(ending.promptTokens),
                                 completionTokens: Int64(ending.completionTokens),
                                 deliveredBytes: Int64(clamping: ending.deliveredBytes)))
        }
        forwardEvents(context.host)
    }

    public func onMethod(_ call: Rampart_V1_PluginMethodCall, context: PluginCallContext) throws -> [UInt8] {
        guard call.context.method.hasSuffix(ThrottleStatsMethod.name) || call.context.method.isEmpty else {
            throw PluginError.unimplemented("throttle serves only \(ThrottleStatsMethod.name), not \(call.context.method)")
        }
        return try ThrottleStatsMethod.serve([UInt8](call.body), throttle: throttle)
    }

    // MARK: conversions

    /// The principal from the auth plugin, else the peer's uid.
    static func admissionRequest(_ view: RequestView, reading parts: (user: Bool, org: Bool, scopes: Bool)
                                     = (true, true, true)) -> AdmissionRequest {
        // One host call for the id; the user, org and scopes only when a limit uses them.
        let id = view.principalID ?? ""
        let principal = ThrottlePrincipal.resolve(id: id, user: parts.user && !id.isEmpty ? view.principalUser : "",
                                                  org: parts.org && !id.isEmpty ? view.principalOrg : "",
                                                  scopes: parts.scopes && !id.isEmpty ? view.principalScopes : [],
                                                  uid: view.peerUID)
        return AdmissionRequest(principal: principal, promptTokens: Int64(view.promptTokens),
                                promptBytes: Int64(clamping: view.promptBytes), maxTokens: Int64(view.maxTokens),
                                deadlineUnixMicros: Int64(clamping: view.deadlineUnixMicros))
    }

    static func verdict(for denial: Denial) -> Rampart_V1_Verdict {
        var verdict = Rampart_V1_Verdict()
        verdict.action = .deny(Rampart_V1_Deny.with {
            $0.code = denial.code.rawValue
            $0.message = denial.message
            $0.retryAfterMs = denial.retryAfterMillis
            $0.metadata = denial.metadata.map { Rampart_V1_MetadataEntry(key: $0.0, text: $0.1) }
        })
        return verdict.annotated("throttle.reason", denial.reason)
    }

    private func forwardEvents(_ host: PluginHost) {
        for event in throttle.drainEvents() {
            _ = host.audit(Rampart_V1_AuditEvent.with {
                $0.kind = event.kind
                $0.outcome = event.outcome
                $0.reason = event.reason
                $0.principalID = event.principalID
                $0.attributes = event.attributes.map { Rampart_V1_MetadataEntry(key: $0.0, text: $0.1) }
            })
        }
    }
}

/// One stream's reservation: finished at the stream end, or released when the host frees the state.
final class StreamTicket: Sendable {
    private let state = Mutex<(ThrottleTicket, Throttle)?>(nil)

    func hold(_ ticket: ThrottleTicket, throttle: Throttle) {
        let previous = state.withLock { state in
            defer { state = (ticket, throttle) }
            return state
        }
        // A second admission on one stream (should not happen): settle the first.
        if let (old, owner) = previous { owner.finish(old, StreamEnd(statusCode: 0)) }
    }

    func finish(_ end: StreamEnd) {
        guard let (ticket, throttle) = state.withLock({ state in
            defer { state = nil }
            return state
        }) else { return }
        throttle.finish(ticket, end)
    }
}

/// The library's one exported symbol.
@_cdecl("rampart_plugin_v1")
public func rampartPluginV1(_ major: UInt16, _ minor: UInt16) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: ThrottlePlugin.self, hostMajor: major, hostMinor: minor)
}

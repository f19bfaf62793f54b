internal import CRampartPlugin
import Foundation
import RampartProto
import SwiftProtobuf

/// ABI 1.2 on the plugin side: reads a hook's input through the host's field getters (no
/// protobuf) and answers through `deny`/`add_trailer`/`set_principal` when the verdict allows.
struct HostFields {
    let scope: CallScope

    /// Whether the host offers the 1.2 calls (an older host always sends protobuf).
    static func available(_ scope: CallScope) -> Bool { scope.hostHas(\.set_max_tokens) }

    func string(_ field: Int32, _ index: Int = 0) -> String? {
        guard let get = scope.api.pointee.get_str else { return nil }
        var data: UnsafePointer<CChar>?
        var length = 0
        guard get(scope.call, rp_field(field), index, &data, &length) == 1 else { return nil }
        guard let data, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    func number(_ field: Int32) -> UInt64? {
        guard let get = scope.api.pointee.get_u64 else { return nil }
        var value: UInt64 = 0
        return get(scope.call, rp_field(field), &value) == 1 ? value : nil
    }

    /// The hook's protobuf input, encoded by the host on demand.
    func protobuf<M: SwiftProtobuf.Message>(_ type: M.Type, hook: String) throws(PluginError) -> M {
        guard let inputPB = scope.api.pointee.input_pb else { throw .failedPrecondition("\(hook): the host has no input_pb") }
        var data: UnsafePointer<UInt8>?
        var length = 0
        let status = inputPB(scope.call, &data, &length)
        guard status == RP_OK else { throw .failedPrecondition("\(hook): the host gave no input (status \(status))") }
        return try Hooks.decode(M.self, data, length, hook: hook)
    }

    /// The call's context (request id, method, peer, deadline, principal).
    func context() -> Rampart_V1_RequestContext {
        var context = Rampart_V1_RequestContext()
        context.requestID = string(RP_FIELD_REQUEST_ID) ?? ""
        context.method = string(RP_FIELD_METHOD) ?? ""
        context.streamID = UInt32(truncatingIfNeeded: number(RP_FIELD_STREAM_ID) ?? 0)
        if let deadline = number(RP_FIELD_DEADLINE_UNIX_US) { context.deadlineUnixUs = deadline }
        if let peer = peer() { context.peer = peer }
        if let principal = principal() { context.principal = principal }
        return context
    }

    /// The principal an earlier plugin set; nil before.
    func principal() -> Rampart_V1_Principal? {
        guard let id = string(RP_FIELD_PRINCIPAL_ID) else { return nil }
        var principal = Rampart_V1_Principal()
        principal.id = id
        principal.user = string(RP_FIELD_PRINCIPAL_USER) ?? ""
        principal.org = string(RP_FIELD_PRINCIPAL_ORG) ?? ""
        principal.credentialKind = string(RP_FIELD_PRINCIPAL_CREDENTIAL) ?? ""
        principal.scopes = principalScopes()
        return principal
    }

    /// The principal's scopes, in order (empty without a principal).
    func principalScopes() -> [String] {
        var scopes: [String] = []
        var index = 0
        while let scope = string(RP_FIELD_PRINCIPAL_SCOPE, index) {
            scopes.append(scope)
            index += 1
        }
        return scopes
    }

    /// The peer's credentials; nil when the transport had none.
    func peer() -> Rampart_V1_PeerCredentials? {
        guard let uid = number(RP_FIELD_PEER_UID) else { return nil }
        var peer = Rampart_V1_PeerCredentials()
        peer.uid = UInt32(truncatingIfNeeded: uid)
        peer.gid = UInt32(truncatingIfNeeded: number(RP_FIELD_PEER_GID) ?? 0)
        peer.pid = Int32(truncatingIfNeeded: number(RP_FIELD_PEER_PID) ?? 0)
        return peer
    }

    /// The call's text metadata, sorted by key.
    func metadata() -> [(key: String, value: String)] {
        var entries: [(key: String, value: String)] = []
        var index = 0
        while let key = string(RP_FIELD_METADATA_KEY, index) {
            entries.append((key, string(RP_FIELD_METADATA_VALUE, index) ?? ""))
            index += 1
        }
        return entries
    }

    /// The request as a header view: context, metadata, prompt tokens and, for inference
    /// calls, `max_tokens`, model and client request id (what `decodesRequestBody == false`
    /// promises; the rest is in ``PluginCallContext/request()``).
    func requestHeader() -> Rampart_V1_PluginRequest {
        var request = Rampart_V1_PluginRequest()
        request.context = context()
        request.metadata = metadata().map { Rampart_V1_MetadataEntry(key: $0.key, text: $0.value) }
        request.promptTokens = UInt32(truncatingIfNeeded: number(RP_FIELD_PROMPT_TOKENS) ?? 0)
        if number(RP_FIELD_IS_INFERENCE) == 1 {
            request.request.params.maxTokens = UInt32(truncatingIfNeeded: number(RP_FIELD_MAX_TOKENS) ?? 0)
            request.request.model = string(RP_FIELD_MODEL) ?? ""
            request.request.clientRequestID = string(RP_FIELD_CLIENT_REQUEST_ID) ?? ""
        }
        return request
    }

    /// The stream summary from its fields.
    func summary() -> Rampart_V1_StreamSummary {
        var summary = Rampart_V1_StreamSummary()
        summary.context = context()
        summary.statusCode = Int32(truncatingIfNeeded: number(RP_FIELD_STATUS_CODE) ?? 0)
        summary.finishReason = Rampart_V1_FinishReason(rawValue: Int(truncatingIfNeeded: number(RP_FIELD_FINISH_REASON) ?? 0)) ?? .unspecified
        summary.usage.promptTokens = UInt32(truncatingIfNeeded: number(RP_FIELD_USAGE_PROMPT_TOKENS) ?? 0)
        summary.usage.completionTokens = UInt32(truncatingIfNeeded: number(RP_FIELD_USAGE_COMPLETION_TOKENS) ?? 0)
        summary.deliveredBytes = number(RP_FIELD_DELIVERED_BYTES) ?? 0
        return summary
    }

    /// The stream's ending from its number fields; the summary is built only if asked for.
    func ending() -> StreamEnding {
        StreamEnding(
            statusCode: Int32(truncatingIfNeeded: number(RP_FIELD_STATUS_CODE) ?? 0),
            finishReason: Rampart_V1_FinishReason(rawValue: Int(truncatingIfNeeded: number(RP_FIELD_FINISH_REASON) ?? 0)) ?? .unspecified,
            promptTokens: UInt32(truncatingIfNeeded: number(RP_FIELD_USAGE_PROMPT_TOKENS) ?? 0),
            completionTokens: UInt32(truncatingIfNeeded: number(RP_FIELD_USAGE_COMPLETION_TOKENS) ?? 0),
            deliveredBytes: number(RP_FIELD_DELIVERED_BYTES) ?? 0,
            full: { summary() })
    }

    // MARK: answers

    /// Gives `verdict` through host calls when it is a plain pass, a deny, or a mutation that
    /// only sets the principal, max_tokens and trailers (a request hook's `response_metadata`, a
    /// response hook's `add_metadata`); returns false (nothing done) otherwise: the caller then
    /// writes the protobuf verdict.
    func answer(_ verdict: Rampart_V1_Verdict, responseHook: Bool) -> Bool {
        guard verdict.annotations.isEmpty else { return false }
        switch verdict.action {
        case nil, .pass?:
            return true
        case .deny(let deny)?:
            guard deny.message.utf8.count <= 4096, (0...16).contains(deny.code), Self.plain(deny.metadata),
                  let denyCall = scope.api.pointee.deny else { return false }
            var message = deny.message
            let status = message.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { denyCall(scope.call, deny.code, $0.baseAddress, $0.count, deny.retryAfterMs) }
            }
            return status == RP_OK && addTrailers(deny.metadata)
        case .mutate(let mutation)?:
            // Only the principal, response trailers and max_tokens have host calls.
            let trailers = responseHook ? mutation.addMetadata : mutation.responseMetadata
            let ignored = responseHook ? mutation.responseMetadata : mutation.addMetadata
            guard !mutation.replaceMessages, mutation.messages.isEmpty, !mutation.replacePrompt, mutation.prompt.isEmpty,
                  !mutation.hasParams, !mutation.replaceText, mutation.text.isEmpty, !mutation.replaceToolCalls,
                  mutation.toolCalls.isEmpty, ignored.isEmpty,
                  mutation.unknownFields.data.isEmpty, Self.plain(trailers) else { return false }
            if mutation.maxTokens > 0 {
                guard let set = scope.api.pointee.set_max_tokens, set(scope.call, mutation.maxTokens) == RP_OK else { return false }
            }
            if mutation.hasPrincipal {
                guard let set = scope.api.pointee.set_principal,
                      let bytes: [UInt8] = try? mutation.principal.serializedBytes(),
                      bytes.withUnsafeBufferPointer({ set(scope.call, $0.baseAddress, $0.count) }) == RP_OK else { return false }
            }
            return addTrailers(trailers)
        }
    }

    private func addTrailers(_ entries: [Rampart_V1_MetadataEntry]) -> Bool {
        guard scope.hostHas(\.add_trailer), scope.api.pointee.add_trailer != nil else { return entries.isEmpty }
        for entry in entries {
            guard case .text(let value)? = entry.value, addTrailer(entry.key, value) else { return false }
        }
        return true
    }

    /// One `add_trailer` call (the key and value already checked by ``isPlainTrailer(_:_:)``).
    func addTrailer(_ key: String, _ value: String) -> Bool {
        guard let add = scope.api.pointee.add_trailer else { return false }
        var key = key
        var value = value
        let status = key.withUTF8 { k in
            value.withUTF8 { v in
                k.withMemoryRebound(to: CChar.self) { kc in
                    v.withMemoryRebound(to: CChar.self) { vc in add(scope.call, kc.baseAddress, kc.count, vc.baseAddress, vc.count) }
                }
            }
        }
        return status == RP_OK
    }

    /// Whether the host's `add_trailer` accepts this pair: a key of 1–128 bytes of `[a-z0-9-_.]`
    /// and a value of at most 4096 bytes.
    static func isPlainTrailer(_ key: String, _ value: String) -> Bool {
        guard value.utf8.count <= 4096 else { return false }
        let bytes = key.utf8
        return !bytes.isEmpty && bytes.count <= 128 && bytes.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2d || byte == 0x5f || byte == 0x2e
        }
    }

    /// Whether every entry is text with a key the host's `add_trailer` accepts.
    private static func plain(_ entries: [Rampart_V1_MetadataEntry]) -> Bool {
        entries.count <= 64 && entries.allSatisfy { entry in
            guard case .text(let value)? = entry.value else { return false }
            return isPlainTrailer(entry.key, value)
        }
    }
}

extension PluginCallContext {
    /// Answers a request hook through host calls (ABI 1.2) instead of a protobuf
    /// ``Rampart_V1_Verdict``: lowers `max_tokens` and adds response trailers, and the hook then
    /// returns `.pass` (the host turns the calls into the mutation). This skips building,
    /// encoding and decoding a `Mutation` — the cheapest way to answer on every request.
    ///
    /// All or nothing: returns `false`, having made no call, when the host is older than 1.2,
    /// the hook cannot answer (stream end, chunks, logits), or a value is outside the host's
    /// limits (a trailer key of 1–128 bytes of `[a-z0-9-_.]`, a value of at most 4096 bytes, at
    /// most 64 trailers, `maxTokens` ≥ 1). Return the equivalent `.mutate` verdict then. The
    /// host's 64 trailers are per hook call: answering twice can run past them with the second
    /// call's trailers only partly added — answer once.
    /// A hook that answered here may still return `.deny` (the trailers go with the denial), but
    /// not a verdict that needs protobuf (the host refuses a hook that answers both ways).
    public func answer(maxTokens: UInt32? = nil, trailers: [(String, String)] = []) -> Bool {
        let scope = host.scope
        guard scope.isUsable, HostFields.available(scope), maxTokens != 0, trailers.count <= 64,
              trailers.allSatisfy({ HostFields.isPlainTrailer($0.0, $0.1) }) else { return false }
        let fields = HostFields(scope: scope)
        if let maxTokens {
            guard let set = scope.api.pointee.set_max_tokens, set(scope.call, maxTokens) == RP_OK else { return false }
        }
        for trailer in trailers {
            // Checked above: the host refuses only a hook that cannot answer, and then refuses the
            // first call already (set_max_tokens above, or this one when there was none).
            guard fields.addTrailer(trailer.0, trailer.1) else { return false }
        }
        return true
    }
}

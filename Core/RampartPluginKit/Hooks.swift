internal import CRampartPlugin
import RampartProto
import SwiftProtobuf

/// A created plugin instance, handed to the host as the opaque `void *instance`
/// (retained in `create`, released in `destroy`).
final class PluginInstance {
    let plugin: any RampartPlugin
    let api: UnsafePointer<rp_host_api>
    let usesStreamState: Bool

    init(plugin: any RampartPlugin, api: UnsafePointer<rp_host_api>, usesStreamState: Bool) {
        self.plugin = plugin
        self.api = api
        self.usesStreamState = usesStreamState
    }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> PluginInstance? {
        guard let pointer else { return nil }
        return Unmanaged<PluginInstance>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// The stream's state object, if this plugin uses stream state and the host passed one.
    func streamState(_ stream: UnsafeMutableRawPointer?) -> AnyObject? {
        guard usesStreamState, let stream else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(stream).takeUnretainedValue()
    }
}

/// The bodies of the C entry points. Each one: recover the instance, open a call scope, check
/// and decode the input, call the Swift method, write the output through the host, and turn
/// any thrown error into a status plus `set_error`. Nothing here throws or traps on bad input.
enum Hooks {
    // MARK: lifecycle

    static func create(slot: Int, _ host: UnsafePointer<rp_host_api>?, _ config: UnsafePointer<UInt8>?, _ length: Int,
                       _ instanceOut: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ call: OpaquePointer?) -> rp_status {
        guard let host, isCompatible(host) else { return RP_ERR_FAILED_PRECONDITION }
        let scope = CallScope(api: host, call: call)
        defer { scope.close() }
        do {
            guard let type = Registry.type(at: slot) else {
                throw PluginError.internal("RampartPluginKit: no plugin type is registered for create slot \(slot)")
            }
            guard let instanceOut else { throw PluginError.invalidArgument("create: instance_out is NULL") }
            instanceOut.pointee = nil
            let bytes = try borrowed(config, length, what: "create: config")
            let plugin = try type.init(config: Array(bytes), host: PluginHost(scope: scope))
            let instance = PluginInstance(plugin: plugin, api: host, usesStreamState: type.hooks.contains(.streamState))
            instanceOut.pointee = Unmanaged.passRetained(instance).toOpaque()
            return RP_OK
        } catch {
            return scope.fail(error, hook: "create")
        }
    }

    /// Whether the host's function table has the v1 layout this kit was compiled against.
    static func isCompatible(_ host: UnsafePointer<rp_host_api>) -> Bool {
        // Read the fixed prefix first: never read a short table past its end.
        let raw = UnsafeRawPointer(host)
        let size = raw.loadUnaligned(as: UInt32.self)
        let major = raw.loadUnaligned(fromByteOffset: 4, as: UInt16.self)
        guard size >= UInt32(MemoryLayout<rp_host_api>.size), major == UInt16(RP_ABI_MAJOR) else { return false }
        return host.pointee.buf_append != nil && host.pointee.set_error != nil
    }

    static func destroy(_ instance: UnsafeMutableRawPointer?) {
        guard let instance else { return }
        Unmanaged<PluginInstance>.fromOpaque(instance).release()
    }

    static func streamNew(_ instance: UnsafeMutableRawPointer?, _ streamOut: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                          _ call: OpaquePointer?) -> rp_status {
        guard let box = PluginInstance.from(instance) else { return RP_ERR_FAILED_PRECONDITION }
        let scope = CallScope(api: box.api, call: call)
        defer { scope.close() }
        do {
            guard let streamOut else { throw PluginError.invalidArgument("stream_new: stream_out is NULL") }
            streamOut.pointee = nil
            let context = PluginCallContext(host: PluginHost(scope: scope), streamState: nil)
            if let state = try box.plugin.makeStreamState(context: context) {
                streamOut.pointee = Unmanaged<AnyObject>.passRetained(state).toOpaque()
            }
            return RP_OK
        } catch {
            return scope.fail(error, hook: "stream_new")
        }
    }

    static func streamFree(_ instance: UnsafeMutableRawPointer?, _ stream: UnsafeMutableRawPointer?) {
        guard let stream else { return }
        Unmanaged<AnyObject>.fromOpaque(stream).release()
    }

    // MARK: verdict hooks

    static func onRequest(_ instance: UnsafeMutableRawPointer?, _ stream: UnsafeMutableRawPointer?,
                          _ bytes: UnsafePointer<UInt8>?, _ length: Int, _ out: OpaquePointer?, _ call: OpaquePointer?) -> rp_status {
        verdictHook("on_request", instance, stream, out, call) { box, scope throws(PluginError) in
            let wantsBody = box.plugin.decodesRequestBody
            if bytes == nil, length == 0, HostFields.available(scope) {
                // ABI 1.2: no protobuf was sent. The view reads fields; the whole request is
                // asked for (encoded by the host) only by a plugin that needs it.
                return RequestView(fields: HostFields(scope: scope), decodesBody: wantsBody)
            }
            let whole = { () throws -> Rampart_V1_PluginRequest in
                try decode(Rampart_V1_PluginRequest.self, bytes, length, hook: "on_request")
            }
            guard !wantsBody else {
                let request = try decode(Rampart_V1_PluginRequest.self, bytes, length, hook: "on_request")
                return RequestView(message: request, decodesBody: true, whole: { request })
            }
            // Who is calling and the sampling parameters: decode the header view, skipping the
            // prompt, the messages and the body.
            let header = try decode(Rampart_V1_PluginRequestHeader.self, bytes, length, hook: "on_request")
            var request = Rampart_V1_PluginRequest()
            request.context = header.context
            request.metadata = header.metadata
            request.promptTokens = header.promptTokens
            if header.hasRequest {
                request.request.params = header.request.params
                request.request.model = header.request.model
                request.request.clientRequestID = header.request.clientRequestID
            }
            return RequestView(message: request, decodesBody: false, whole: whole)
        } body: { plugin, view, context in
            try plugin.onRequest(view, context: context)
        }
    }

    static func onResponse(_ instance: UnsafeMutableRawPointer?, _ stream: UnsafeMutableRawPointer?,
                           _ bytes: UnsafePointer<UInt8>?, _ length: Int, _ out: OpaquePointer?, _ call: OpaquePointer?) -> rp_status {
        verdictHook("on_response", instance, stream, out, call) { _, scope throws(PluginError) in
            if bytes == nil, length == 0, HostFields.available(scope) {
                return try HostFields(scope: scope).protobuf(Rampart_V1_PluginResponse.self, hook: "on_response")
            }
            return try decode(Rampart_V1_PluginResponse.self, bytes, length, hook: "on_response")
        } body: { plugin, response, context in
            try plugin.onResponse(response, context: context)
        }
    }

    private static func verdictHook<Input>(
        _ hook: String, _ instance: UnsafeMutableRawPointer?, _ stream: UnsafeMutableRawPointer?,
        _ out: OpaquePointer?, _ call: OpaquePointer?,
        input: (PluginInstance, CallScope) throws(PluginError) -> Input,
        body: (any RampartPlugin, Input, PluginCallContext) throws -> Rampart_V1_Verdict
    ) -> rp_status {
        guard let box = PluginInstance.from(instance) else { return RP_ERR_FAILED_PRECONDITION }
        let scope = CallScope(api: box.api, call: call)
        defer { scope.close() }
        do {
            let value = try input(box, scope)
            let context = PluginCallContext(host: PluginHost(scope: scope), streamState: box.streamState(stream))
            let verdict = try body(box.plugin, value, context)
            // ABI 1.2: common verdicts go through host calls, with no protobuf to encode or decode.
            if HostFields.available(scope), HostFields(scope: scope).answer(verdict, responseHook: hook == "on_response") { return RP_OK }
            let encoded: [UInt8] = try verdict.serializedBytes()
            try encoded.withUnsafeBytes { bytes in
                try scope.append(bytes, to: out, what: "\(hook): the verdict")
            }
            return RP_OK
        } catch {
            return scope.fail(error, hook: hook)
        }
    }

    // MARK: methods (ABI 1.1)

    static func onMethod(_ instance: UnsafeMutableRawPointer?, _ bytes: UnsafePointer<UInt8>?, _ length: Int,
                         _ out: OpaquePointer?, _ call: OpaquePointer?) -> rp_status {
        guard let box = PluginInstance.from(instance) else { return RP_ERR_FAILED_PRECONDITION }
        let scope = CallScope(api: box.api, call: call)
        defer { scope.close() }
        do {
            let input = try decode(Rampart_V1_PluginMethodCall.self, bytes, length, hook: "on_method")
            let context = PluginCallContext(host: PluginHost(scope: scope), streamState: nil)
            let response = try box.plugin.onMethod(input, context: context)
            try response.withUnsafeBytes { bytes in
                try scope.append(bytes, to: out, what: "on_method: the response")
            }
            return RP_OK
        } catch {
            return scope.fail(error, hook: "on_method")
        }
    }

    // MARK: raw hooks

    static func onChunk(_ instance: UnsafeMutableRawPointer?, _ stream: UnsafeMutableRawPointer?,
                        _ utf8: UnsafePointer<CChar>?, _ length: Int, _ actionOut: UnsafeMutablePointer<rp_chunk_action>?,
                        _ replacement: OpaquePointer?, _ call: OpaquePointer?) -> rp_status {
        guard let box = PluginInstance.from(instance) else { return RP_ERR_FAILED_PRECONDITION }
        let scope = CallScope(api: box.api, call: call)
        defer { scope.close() }
        do {
            guard let actionOut else { throw PluginError.invalidArgument("on_chunk: action_out is NULL") }
            actionOut.pointee = RP_CHUNK_PASS
            let bytes = try borrowed(utf8.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) }, length,
                                     what: "on_chunk: text")
            // The host promises valid UTF-8; anything else is repaired (U+FFFD), never trusted.
            let text = String(decoding: bytes, as: UTF8.self)
            let context = PluginCallContext(host: PluginHost(scope: scope), streamState: box.streamState(stream))
            switch try box.plugin.onChunk(text, context: context) {
            case .pass:
                actionOut.pointee = RP_CHUNK_PASS
            case .stop:
                actionOut.pointee = RP_CHUNK_STOP
            case .replace(var newText):
                try newText.withUTF8 { bytes in
                    try scope.append(UnsafeRawBufferPointer(bytes), to: replacement, what: "on_chunk: the replacement")
                }
                actionOut.pointee = RP_CHUNK_REPLACE
            }
            return RP_OK
        } catch {
            return scope.fail(error, hook: "on_chunk")
        }
    }

    static func onLogits(_ instance: UnsafeMutableRawPointer?, _ stream: UnsafeMutableRawPointer?,
                         _ logits: UnsafeMutablePointer<Float>?, _ vocabularySize: Int,
                         _ previous: UnsafePointer<Int32>?, _ previousCount: Int, _ call: OpaquePointer?) -> rp_status {
        guard let box = PluginInstance.from(instance) else { return RP_ERR_FAILED_PRECONDITION }
        let scope = CallScope(api: box.api, call: call)
        defer { scope.close() }
        do {
            guard vocabularySize >= 0, logits != nil || vocabularySize == 0 else {
                throw PluginError.invalidArgument("on_logits: NULL logits or invalid vocab_size \(vocabularySize)")
            }
            guard previousCount >= 0, previous != nil || previousCount == 0 else {
                throw PluginError.invalidArgument("on_logits: NULL previous or invalid n_previous \(previousCount)")
            }
            let logitBuffer = UnsafeMutableBufferPointer(start: logits, count: vocabularySize)
            let previousBuffer = UnsafeBufferPointer(start: previous, count: previousCount)
            let context = PluginCallContext(host: PluginHost(scope: scope), streamState: box.streamState(stream))
            try box.plugin.onLogits(logitBuffer, previous: previousBuffer, context: context)
            return RP_OK
        } catch {
            return scope.fail(error, hook: "on_logits")
        }
    }

    static func onStreamEnd(_ instance: UnsafeMutableRawPointer?, _ stream: UnsafeMutableRawPointer?,
                            _ bytes: UnsafePointer<UInt8>?, _ length: Int, _ call: OpaquePointer?) -> rp_status {
        guard let box = PluginInstance.from(instance) else { return RP_ERR_FAILED_PRECONDITION }
        let scope = CallScope(api: box.api, call: call)
        defer { scope.close() }
        do {
            let ending = bytes == nil && length == 0 && HostFields.available(scope)
                ? HostFields(scope: scope).ending()
                : StreamEnding(try decode(Rampart_V1_StreamSummary.self, bytes, length, hook: "on_stream_end"))
            let context = PluginCallContext(host: PluginHost(scope: scope), streamState: box.streamState(stream))
            try box.plugin.onStreamEnd(ending, context: context)
            return RP_OK
        } catch {
            return scope.fail(error, hook: "on_stream_end")
        }
    }

    // MARK: input

    /// Borrows `length` bytes at `pointer`; a NULL pointer with a non-zero length, or a length
    /// that does not fit in `Int` (size_t above Int.max arrives negative), is an error.
    static func borrowed(_ pointer: UnsafePointer<UInt8>?, _ length: Int, what: String) throws(PluginError) -> UnsafeRawBufferPointer {
        if length == 0 { return UnsafeRawBufferPointer(start: nil, count: 0) }
        guard length > 0, let pointer else {
            throw .invalidArgument("\(what): NULL pointer or invalid length \(length)")
        }
        return UnsafeRawBufferPointer(start: pointer, count: length)
    }

    /// Decodes a protobuf input; malformed bytes are `RP_ERR_INVALID_ARGUMENT`.
    static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, _ pointer: UnsafePointer<UInt8>?, _ length: Int,
                                                 hook: String) throws(PluginError) -> M {
        let bytes = try borrowed(pointer, length, what: "\(hook): input")
        do {
            // Skipped fields (a header view of a larger message) are dropped, not kept as unknown.
            var options = BinaryDecodingOptions()
            options.discardUnknownFields = true
            return try M(serializedBytes: bytes, options: options)
        } catch {
            throw .invalidArgument("\(hook): malformed \(M.protoMessageName): \(error)")
        }
    }
}

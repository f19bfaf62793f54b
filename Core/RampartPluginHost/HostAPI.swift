import CRampartPlugin
import RampartChain
import RampartProto

#if canImport(Glibc)
import Glibc
#endif

/// The host function table (`rp_host_api`) every plugin receives. One immutable table per process.
enum HostAPI {
    nonisolated(unsafe) static let table: UnsafePointer<rp_host_api> = {
        let table = UnsafeMutablePointer<rp_host_api>.allocate(capacity: 1)
        table.initialize(to: rp_host_api(
            struct_size: UInt32(MemoryLayout<rp_host_api>.size),
            abi_major: UInt16(RP_ABI_MAJOR), abi_minor: UInt16(RP_ABI_MINOR),
            log: { call, level, message, length in
                // size_t lengths above Int.max arrive negative: refused, never turned into a buffer.
                guard let state = HostAPI.state(call), let message, length > 0 else { return }
                let text = String(decoding: UnsafeRawBufferPointer(start: message, count: min(length, 16_384)), as: UTF8.self)
                state.log(PluginLogLevel(rawValue: level) ?? .info, text)
            },
            alloc: { size in malloc(max(size, 1)) },
            free: { pointer in Glibc.free(pointer) },
            buf_append: { buffer, data, length in
                guard let buffer else { return RP_ERR_INVALID_ARGUMENT }
                let target = Unmanaged<HostBuffer>.fromOpaque(UnsafeRawPointer(buffer)).takeUnretainedValue()
                if length == 0 { return RP_OK }
                guard let data, target.append(data, count: length) else { return RP_ERR_INVALID_ARGUMENT }
                return RP_OK
            },
            set_error: { call, message, length in
                guard let state = HostAPI.state(call), let message, length >= 0 else { return }
                state.errorMessage = String(decoding: UnsafeRawBufferPointer(start: message, count: min(length, 4096)), as: UTF8.self)
            },
            signal_get: { call, key, keyLength, value in
                guard let key, let value, (0...1024).contains(keyLength) else { return 0 }
                return HostAPI.withState(call, absent: 0) { state in
                    guard let current = state.signals.get(utf8: UnsafeRawBufferPointer(start: key, count: keyLength)) else { return 0 }
                    value.pointee = current
                    return 1
                }
            },
            signal_set: { call, key, keyLength, value, ttl in
                guard let state = HostAPI.state(call), let key, (0...1024).contains(keyLength) else { return }
                let name = String(decoding: UnsafeRawBufferPointer(start: key, count: keyLength), as: UTF8.self)
                state.signals.set(name, value, ttlMillis: ttl)
            },
            now_ns: { monotonicNanos() },
            wall_ns: {
                var ts = timespec()
                clock_gettime(CLOCK_REALTIME, &ts)
                return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
            },
            audit: { call, event, length in
                guard let state = HostAPI.state(call) else { return RP_ERR_FAILED_PRECONDITION }
                guard let event, length > 0, length <= 65_536,
                      let decoded = try? Rampart_V1_AuditEvent(serializedBytes: Array(UnsafeBufferPointer(start: event, count: length))),
                      !decoded.kind.isEmpty else {
                    return RP_ERR_INVALID_ARGUMENT
                }
                guard let environment = state.environment else { return RP_ERR_FAILED_PRECONDITION }
                environment.audit(decoded)
                return RP_OK
            },
            get_str: { call, field, index, data, length in
                guard let data, let length, index <= UInt(Int32.max) else { return 0 }
                return HostAPI.withState(call, absent: 0) { state in
                    guard let kept = state.input?.stableString(field, index: Int(index)) else { return 0 }
                    data.pointee = kept.baseAddress?.assumingMemoryBound(to: CChar.self)
                    length.pointee = kept.count
                    return 1
                }
            },
            get_u64: { call, field, value in
                guard let value else { return 0 }
                return HostAPI.withState(call, absent: 0) { state in
                    guard let number = state.input?.number(field) else { return 0 }
                    value.pointee = number
                    return 1
                }
            },
            input_pb: { call, data, length in
                guard let state = HostAPI.state(call), let input = state.input else { return RP_ERR_FAILED_PRECONDITION }
                guard let data, let length else { return RP_ERR_INVALID_ARGUMENT }
                guard let bytes = try? input.encoded() else { return RP_ERR_INTERNAL }
                data.pointee = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
                length.pointee = bytes.count
                return RP_OK
            },
            deny: { call, code, message, length, retryAfter in
                guard let state = HostAPI.state(call), state.answerable else { return RP_ERR_FAILED_PRECONDITION }
                guard (0...16).contains(code), message != nil || length == 0, (0...4096).contains(length) else {
                    return RP_ERR_INVALID_ARGUMENT
                }
                let text = message.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""
                state.answer.deny = HookAnswer.Deny(code: code == 0 ? 7 : code, message: text, retryAfterMs: retryAfter)
                return RP_OK
            },
            add_trailer: { call, key, keyLength, value, valueLength in
                HostAPI.withState(call, absent: RP_ERR_FAILED_PRECONDITION) { state in
                    guard state.answerable else { return RP_ERR_FAILED_PRECONDITION }
                    guard let key, (1...128).contains(keyLength), value != nil || valueLength == 0, (0...4096).contains(valueLength),
                          state.answer.trailers.count < 64 else {
                        return RP_ERR_INVALID_ARGUMENT
                    }
                    let keyBytes = UnsafeRawBufferPointer(start: key, count: keyLength)
                    guard isValidTrailerKey(keyBytes),
                          let text = String(validating: UnsafeRawBufferPointer(start: value, count: valueLength), as: UTF8.self)
                    else { return RP_ERR_INVALID_ARGUMENT }
                    state.answer.trailers.append((key: String(decoding: keyBytes, as: UTF8.self), value: text))
                    return RP_OK
                }
            },
            set_principal: { call, bytes, length in
                HostAPI.withState(call, absent: RP_ERR_FAILED_PRECONDITION) { state in
                    guard state.answerable, state.input?.kind == .request else { return RP_ERR_FAILED_PRECONDITION }
                    guard let bytes, length > 0, length <= 65_536,
                          let principal = try? Rampart_V1_Principal(serializedBytes: UnsafeRawBufferPointer(start: bytes, count: length)),
                          !principal.id.isEmpty else {
                        return RP_ERR_INVALID_ARGUMENT
                    }
                    state.answer.principal = principal
                    return RP_OK
                }
            },
            set_max_tokens: { call, maxTokens in
                HostAPI.withState(call, absent: RP_ERR_FAILED_PRECONDITION) { state in
                    guard state.answerable, let input = state.input, input.kind == .request, input.isInference else {
                        return RP_ERR_FAILED_PRECONDITION
                    }
                    guard maxTokens > 0 else { return RP_ERR_INVALID_ARGUMENT }
                    state.answer.maxTokens = maxTokens
                    return RP_OK
                }
            }
        ))
        return UnsafePointer(table)
    }()

    /// The call's state as a strong reference (the cold host calls: log, audit, deny, …).
    static func state(_ call: OpaquePointer?) -> CallState? {
        guard let call else { return nil }
        return Unmanaged<CallState>.fromOpaque(UnsafeRawPointer(call)).takeUnretainedValue()
    }

    /// Runs `body` on the call's state without retaining it: the host keeps the state alive for
    /// the whole hook call (`withExtendedLifetime` around it), so the hot getters (`get_str`,
    /// `get_u64`, `signal_get`) and answers cost no reference counting. `absent` when `call` is null.
    @inline(__always)
    static func withState<T>(_ call: OpaquePointer?, absent: T, _ body: (CallState) -> T) -> T {
        guard let call else { return absent }
        return Unmanaged<CallState>.fromOpaque(UnsafeRawPointer(call))._withUnsafeGuaranteedRef(body)
    }
}

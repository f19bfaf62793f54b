import CRampartPlugin
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
                guard let state = HostAPI.state(call), let message else { return }
                state.errorMessage = String(decoding: UnsafeRawBufferPointer(start: message, count: min(length, 4096)), as: UTF8.self)
            },
            signal_get: { call, key, keyLength, value in
                guard let state = HostAPI.state(call), let key, let value, keyLength <= 1024 else { return 0 }
                let name = String(decoding: UnsafeRawBufferPointer(start: key, count: keyLength), as: UTF8.self)
                guard let current = state.signals.get(name) else { return 0 }
                value.pointee = current
                return 1
            },
            signal_set: { call, key, keyLength, value, ttl in
                guard let state = HostAPI.state(call), let key, keyLength <= 1024 else { return }
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
            }
        ))
        return UnsafePointer(table)
    }()

    static func state(_ call: OpaquePointer?) -> CallState? {
        guard let call else { return nil }
        return Unmanaged<CallState>.fromOpaque(UnsafeRawPointer(call)).takeUnretainedValue()
    }
}
